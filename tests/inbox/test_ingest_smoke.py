import pytest

from apps.crm.models import Customer, Identity, MergeSuggestion
from apps.inbox.models import Conversation, ConversationEvent, Message
from apps.inbox.services.ingest import messages_ingest

pytestmark = pytest.mark.django_db(transaction=True)


def test_same_payload_twice_gives_one_message(account, inbound):
    # given
    m = inbound(account, "m-1", email="Ana@Example.com")
    # when
    first = messages_ingest(messages=[m])
    second = messages_ingest(messages=[inbound(account, "m-1", email="ana@example.com")])
    # then
    assert (first.ingested, first.duplicates) == (1, 0)
    assert (second.ingested, second.duplicates) == (0, 1)
    assert Message.objects.count() == 1
    assert Identity.objects.get().value == "ana@example.com"


def test_form_with_email_and_phone_links_both_to_one_customer(account, inbound):
    messages_ingest(messages=[inbound(account, email="ana@example.com", phone="600 11 22 33")])
    messages_ingest(messages=[inbound(account, phone="+34600112233", minutes=5)])
    assert Customer.objects.count() == 1
    assert set(Identity.objects.values_list("kind", "value")) == {("email", "ana@example.com"), ("phone", "+34600112233")}


def test_conflicting_identities_become_a_suggestion(account, inbound):
    messages_ingest(messages=[inbound(account, email="ana@example.com")])
    messages_ingest(messages=[inbound(account, phone="+34600112233", name="Ana G")])
    messages_ingest(messages=[inbound(account, email="ana@example.com", phone="+34600112233")])
    assert Customer.objects.count() == 2
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.customer_id, suggestion.other_id} == set(Customer.objects.values_list("id", flat=True))


def test_thread_key_threads_and_reply_reopens(account, inbound):
    messages_ingest(messages=[inbound(account, email="a@example.com", thread_key="t1")])
    conversation = Conversation.objects.get()
    conversation.status = Conversation.Status.RESOLVED
    conversation.save()
    messages_ingest(messages=[inbound(account, email="a@example.com", thread_key="t1", minutes=3)])
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert conversation.message_count == 2
    assert list(conversation.events.values_list("kind", flat=True).order_by("id")) == ["created", "reopened"]


def test_batch_of_many(account, inbound):
    batch = [inbound(account, f"b-{i}", email=f"c{i % 50}@example.com", minutes=i) for i in range(300)]
    result = messages_ingest(messages=batch)
    assert result.ingested == 300
    assert Customer.objects.count() == 50
    assert Conversation.objects.count() == 50
    assert ConversationEvent.objects.filter(kind="created").count() == 50
