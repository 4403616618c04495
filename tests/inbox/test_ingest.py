"""messages_ingest: dedupe, identities, threading, content bounds, audit, events, query counts."""
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.core.errors import ApplicationError
from apps.crm.models import Customer, Identity, MergeSuggestion
from apps.inbox.inbound import InboundAttachment, SenderIdentity
from apps.inbox.models import Attachment, Conversation, ConversationEvent, Message
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.visibility import ALL_GROUP
from tests.builders import events_heard
from tests.conftest import T0

pytestmark = pytest.mark.django_db


def ingest(*messages):
    return messages_ingest(messages=list(messages))


def event_kinds(conversation) -> list[str]:
    return list(conversation.events.order_by("id").values_list("kind", flat=True))


# --- dedupe ------------------------------------------------------------------------------


def test_same_payload_twice_gives_one_message(account, inbound):
    # given
    first = ingest(inbound(account, "m-1", email="Ana@Example.com"))
    # when: the provider delivers it again
    second = ingest(inbound(account, "m-1", email="ana@example.com"))
    # then
    assert (first.ingested, first.duplicates) == (1, 0)
    assert (second.ingested, second.duplicates) == (0, 1)
    assert Message.objects.count() == 1
    assert Conversation.objects.get().message_count == 1


def test_a_batch_holding_the_same_message_twice_stores_it_once(account, inbound):
    # when
    result = ingest(inbound(account, "m-1", email="ana@example.com"), inbound(account, "m-1", email="ana@example.com"))
    # then
    assert (result.ingested, result.duplicates) == (1, 1)
    assert Message.objects.count() == 1


def test_the_same_external_id_on_two_accounts_is_two_messages(make_account, inbound):
    # given
    mail, api = make_account(name="mail"), make_account(name="api")
    # when
    ingest(inbound(mail, "42", email="ana@example.com"), inbound(api, "42", email="ana@example.com"))
    # then: dedupe is per channel account; the person is still one customer
    assert Message.objects.count() == 2
    assert Customer.objects.count() == 1


def test_an_unknown_account_is_refused_and_nothing_is_stored(account, inbound):
    # given
    message = inbound(account, email="ana@example.com")
    message.account_id = account.id + 1000
    # when / then
    with pytest.raises(ApplicationError, match="Unknown channel account"):
        ingest(message)
    assert not Message.objects.exists() and not Customer.objects.exists()


# --- identities -> customers -----------------------------------------------------------------


def test_web_form_with_email_and_phone_links_both_to_one_customer(account, inbound):
    # given: a form carrying both
    ingest(inbound(account, email="Ana@Example.com", phone="600 11 22 33", kind="form"))
    # when: she calls later from the same number written differently, and mails
    ingest(inbound(account, phone="0034600112233", minutes=5), inbound(account, email="ana@example.com", minutes=6))
    # then
    customer = Customer.objects.get()
    assert set(customer.identities.values_list("kind", "value")) == {("email", "ana@example.com"), ("phone", "+34600112233")}
    assert customer.messages.count() == 3
    assert customer.display_name == "Ana García"


def test_a_new_identity_of_a_known_customer_joins_them(account, inbound):
    # given
    ingest(inbound(account, email="ana@example.com"))
    # when: a message with her email and a new phone
    ingest(inbound(account, email="ana@example.com", phone="+34 611 22 33 44", minutes=1))
    # then
    assert Customer.objects.count() == 1
    assert Identity.objects.get(kind="phone").customer == Customer.objects.get()
    assert not MergeSuggestion.objects.exists()


def test_identities_of_two_customers_in_one_message_become_a_merge_suggestion(account, inbound):
    # given: the email and the phone belong to two different customers
    ingest(inbound(account, email="ana@example.com"))
    ingest(inbound(account, phone="+34600112233", name="A. García"))
    by_email = Identity.objects.get(kind="email").customer
    by_phone = Identity.objects.get(kind="phone").customer
    # when: one message claims both, twice
    ingest(inbound(account, email="ana@example.com", phone="+34600112233", minutes=1))
    ingest(inbound(account, email="ana@example.com", phone="+34600112233", minutes=2))
    # then: nothing merged silently; one open suggestion naming the identity; the message is the first identity's
    assert Customer.objects.count() == 2
    suggestion = MergeSuggestion.objects.get()
    assert (suggestion.customer, suggestion.other, suggestion.status) == (by_email, by_phone, "open")
    assert "+34600112233" in suggestion.reason
    assert Message.objects.filter(customer=by_email).count() == 3


def test_unknown_sender_is_kept_and_flagged(account, inbound):
    # when: no usable identity (an address that is not one, and none at all)
    result = ingest(
        inbound(account, "bad", senders=[SenderIdentity("email", "not-an-address", display_name="???")]),
        inbound(account, "none", senders=[]),
    )
    # then: the messages are stored, each on a customer of its own, flagged
    assert result.ingested == 2
    bad, none = Message.objects.get(external_id="bad"), Message.objects.get(external_id="none")
    assert bad.metadata["unknown_sender"] is True
    assert bad.metadata["invalid_identities"] == ["not an email address: 'not-an-address'"]
    assert none.metadata["unknown_sender"] is True
    assert bad.sender_identity is None and bad.customer != none.customer
    assert not Identity.objects.exists()
    assert none.customer.display_name == "Unknown sender"


# --- threading -------------------------------------------------------------------------------


def test_messages_with_a_thread_key_share_one_conversation(account, inbound):
    # when
    ingest(inbound(account, email="a@example.com", thread_key="order-77", subject="Pedido 77"))
    ingest(inbound(account, email="a@example.com", thread_key="order-77", minutes=3))
    ingest(inbound(account, email="a@example.com", thread_key="order-78", minutes=4))
    # then
    first, second = Conversation.objects.order_by("id")
    assert (first.thread_key, first.message_count, first.subject) == ("order-77", 2, "Pedido 77")
    assert (second.thread_key, second.message_count) == ("order-78", 1)


def test_a_reply_threads_by_references_even_without_a_key(account, inbound):
    # given: an email thread rooted in message root-1
    ingest(inbound(account, "root-1", email="a@example.com", thread_key="root-1"))
    ingest(inbound(account, "other", email="a@example.com", thread_key="other-thread", minutes=1))
    # when: a reply naming root-1 (and an unknown id) in its references
    ingest(inbound(account, "reply-1", email="a@example.com", references=["unknown", "root-1"], minutes=2))
    # then
    assert Message.objects.get(external_id="reply-1").conversation == Message.objects.get(external_id="root-1").conversation


def test_a_reference_to_a_message_earlier_in_the_same_batch_threads(account, inbound):
    # when
    ingest(
        inbound(account, "q", email="a@example.com", thread_key="t-1"),
        inbound(account, "r", email="b@example.com", references=["q"], minutes=1),
    )
    # then
    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().message_count == 2


def test_unkeyed_messages_join_the_customers_open_conversation(account, inbound):
    # given
    ingest(inbound(account, email="a@example.com"))
    open_one = Conversation.objects.get()
    # when: more messages without key, one in a batch of their own and two together
    ingest(inbound(account, email="a@example.com", minutes=1))
    ingest(inbound(account, email="a@example.com", minutes=2), inbound(account, email="a@example.com", minutes=3))
    # then
    assert Conversation.objects.get() == open_one
    open_one.refresh_from_db()
    assert open_one.message_count == 4


def test_a_new_person_opens_one_conversation_without_looking_up_or_locking_any(account, inbound):
    # given a person the desk has never seen, and one it has (with an open conversation)
    ingest(inbound(account, email="known@example.com"))
    known_conversation = Conversation.objects.get()
    # when both write, the new person twice, in one batch
    with CaptureQueriesContext(connection) as queries:
        ingest(inbound(account, email="new@example.com", minutes=1), inbound(account, email="new@example.com", minutes=2),
               inbound(account, email="known@example.com", minutes=3))
    # then the new person has one conversation with both messages, the known one kept theirs
    new_conversation = Conversation.objects.exclude(pk=known_conversation.pk).get()
    assert new_conversation.message_count == 2 and new_conversation.customer.identities.get().value == "new@example.com"
    known_conversation.refresh_from_db()
    assert known_conversation.message_count == 2
    # and only the known customer was looked up and locked: the new one was created by this batch
    locks = [q["sql"] for q in queries if "FOR NO KEY UPDATE" in q["sql"] and "crm_customer" in q["sql"]]
    lookups = [q["sql"] for q in queries if 'FROM "inbox_conversation"' in q["sql"] and '"thread_key" IS NULL' in q["sql"]]
    assert lookups and all(f"({known_conversation.customer_id})" in sql for sql in lookups)
    assert all(f"({new_conversation.customer_id})" not in sql for sql in locks + lookups)


def test_unkeyed_message_after_resolution_opens_a_new_conversation(account, inbound):
    # given: the customer's only conversation is resolved
    ingest(inbound(account, email="a@example.com"))
    Conversation.objects.update(status=Conversation.Status.RESOLVED)
    # when
    ingest(inbound(account, email="a@example.com", minutes=10))
    # then: without a thread there is nothing to reopen; a new conversation starts
    old, new = Conversation.objects.order_by("id")
    assert (old.status, new.status) == ("resolved", "open")
    assert event_kinds(old) == ["created"] and event_kinds(new) == ["created"]


def test_customer_writing_back_reopens_a_resolved_conversation(account, inbound):
    # given
    ingest(inbound(account, email="a@example.com", thread_key="t1"))
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED, waiting_since=None)
    # when
    ingest(inbound(account, email="a@example.com", thread_key="t1", minutes=3))
    # then
    conversation.refresh_from_db()
    assert (conversation.status, conversation.message_count) == ("open", 2)
    assert conversation.waiting_since == T0 + timedelta(minutes=3)
    assert event_kinds(conversation) == ["created", "reopened"]
    assert conversation.events.get(kind="reopened").data == {"from": "resolved", "to": "open", "by": "customer"}


def test_a_pending_conversation_goes_back_to_open_with_a_status_event(account, inbound):
    # given
    ingest(inbound(account, email="a@example.com", thread_key="t1"))
    Conversation.objects.update(status=Conversation.Status.PENDING)
    # when
    ingest(inbound(account, email="a@example.com", thread_key="t1", minutes=3))
    # then
    conversation = Conversation.objects.get()
    assert conversation.status == "open"
    assert conversation.events.get(kind="status").data == {"from": "pending", "to": "open", "by": "customer"}


def test_an_auto_reply_never_reopens(account, inbound):
    # given: a resolved thread
    ingest(inbound(account, email="a@example.com", thread_key="t1"))
    Conversation.objects.update(status=Conversation.Status.RESOLVED, waiting_since=None)
    # when: an out-of-office answer arrives on it
    ingest(inbound(account, email="a@example.com", thread_key="t1", opens_conversation=False, minutes=5))
    # then: kept in the thread, still resolved, nobody waiting, no event
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.message_count, conversation.waiting_since) == ("resolved", 2, None)
    assert event_kinds(conversation) == ["created"]


def test_an_auto_reply_on_a_new_thread_starts_resolved(account, inbound):
    # when
    ingest(inbound(account, email="a@example.com", thread_key="bounce-1", opens_conversation=False))
    # then
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.waiting_since) == ("resolved", None)


def test_conversation_times_counters_and_preview_follow_the_messages(account, inbound, team):
    # given: an account routed to a team; messages arrive out of order within a batch
    account.team = team
    account.save()
    # when
    ingest(
        inbound(account, email="a@example.com", thread_key="t", minutes=5, text="second  \n message"),
        inbound(account, email="a@example.com", thread_key="t", minutes=1, text="first"),
    )
    ingest(inbound(account, email="a@example.com", thread_key="t", minutes=9, text="echo", direction="out"))
    # then
    c = Conversation.objects.get()
    assert (c.first_inbound_at, c.last_inbound_at) == (T0 + timedelta(minutes=1), T0 + timedelta(minutes=5))
    assert (c.last_activity_at, c.first_response_at) == (T0 + timedelta(minutes=9), T0 + timedelta(minutes=9))
    assert c.waiting_since is None  # our own echoed reply answered the customer
    assert (c.message_count, c.last_message_preview, c.team) == (3, "echo", team)
    assert Message.objects.get(text="echo").delivery_status == "sent"


# --- content -----------------------------------------------------------------------------------


def test_html_is_sanitized_and_gives_the_text(account, inbound):
    # when
    ingest(
        inbound(
            account,
            email="a@example.com",
            text="",
            html='<p onclick="x()">Hola &amp; <b>gracias</b></p><img src="x" onerror="alert(1)"><script>steal()</script>',
        )
    )
    # then
    message = Message.objects.get()
    assert "<script" not in message.html and "steal" not in message.html
    assert "onerror" not in message.html and "onclick" not in message.html
    assert "<b>gracias</b>" in message.html
    assert message.text == "Hola & gracias"


def test_oversize_text_is_bounded_and_marked(account, inbound, settings):
    # given
    settings.MESSAGE_MAX_TEXT_CHARS = 100
    # when
    ingest(inbound(account, email="a@example.com", text="x" * 5000, html="<p>" + "y" * 5000 + "</p>"))
    # then
    message = Message.objects.get()
    assert len(message.text) == 100 and message.metadata["truncated"] is True
    assert len(message.html) < 300  # twice the limit, plus the closing tags sanitizing adds


def test_attachments_are_stored_with_the_message(account, inbound, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = str(tmp_path)
    message = inbound(
        account,
        email="a@example.com",
        attachments=[
            InboundAttachment("factura.pdf", "application/pdf", content=b"%PDF-1.4 ..."),
            InboundAttachment("foto.jpg", "image/jpeg", url="https://cdn.example.com/foto.jpg"),
        ],
    )
    # when
    ingest(message)
    # then
    pdf, photo = Attachment.objects.order_by("id")
    assert (pdf.filename, pdf.size, pdf.message) == ("factura.pdf", 12, Message.objects.get())
    assert pdf.file.read() == b"%PDF-1.4 ..."
    assert (photo.url, photo.file.name) == ("https://cdn.example.com/foto.jpg", "")


# --- audit, events, batches --------------------------------------------------------------------


def test_each_new_conversation_gets_a_created_event(account, inbound):
    # when
    ingest(*[inbound(account, email=f"c{i % 3}@example.com", minutes=i) for i in range(9)])
    # then
    assert Conversation.objects.count() == 3
    assert ConversationEvent.objects.filter(kind="created").count() == 3
    assert not ConversationEvent.objects.exclude(kind="created").exists()


@pytest.mark.django_db(transaction=True)
def test_live_events_leave_after_commit_and_never_for_a_rolled_back_batch(account, inbound):
    # given
    def rolled_back():
        with transaction.atomic():
            ingest(inbound(account, "lost", email="a@example.com"))
            transaction.set_rollback(True)

    def committed():
        with transaction.atomic():
            ingest(inbound(account, "kept", email="a@example.com"), inbound(account, "kept-2", email="a@example.com"))

    # when
    heard_rolled_back = events_heard([ALL_GROUP], rolled_back)
    heard_committed = events_heard([ALL_GROUP], committed)
    # then
    assert heard_rolled_back == []
    assert sorted(e["type"] for e in heard_committed) == ["conversation.created", "message.created", "message.created"]
    texts = {e["message"]["text"] for e in heard_committed if e["type"] == "message.created"}
    assert texts == {"Hola, mi pedido no ha llegado"}


def test_a_batch_costs_the_same_queries_whatever_its_size(account, inbound):
    # given: two batches of the same shape, 6 and 45 messages (new people, existing threads, replies);
    # 45 keeps SQLite's bulk inserts in one statement, as PostgreSQL's always are
    def batch(tag, n):
        ingest(*[inbound(account, f"{tag}-seed-{i}", email=f"{tag}{i}@example.com", thread_key=f"{tag}-{i}") for i in range(n)])
        return [
            m
            for i in range(n)
            for m in (
                inbound(account, email=f"{tag}{i}@example.com", thread_key=f"{tag}-{i}", minutes=1),
                inbound(account, email=f"{tag}-new{i}@example.com", phone=f"+346000{len(tag)}{i:04d}", minutes=2),
                inbound(account, email=f"{tag}{i}@example.com", references=[f"{tag}-seed-{i}"], minutes=3),
            )
        ]

    small, large = batch("s", 2), batch("l", 15)
    # when
    with CaptureQueriesContext(connection) as small_queries:
        ingest(*small)
    with CaptureQueriesContext(connection) as large_queries:
        result = ingest(*large)
    # then
    assert result.ingested == 45
    assert len(large_queries) == len(small_queries)
    # a few per batch: savepoint, look-ups, one insert per table; SLA clocks: read, insert, update, summaries
    assert len(small_queries) <= 28
