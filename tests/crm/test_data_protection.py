"""Data protection: a customer's export (every channel, attachments, audit), their erasure (gone from
the database, search, the API and live events; counts kept; the act audited without personal data)
and the retention sweep. Data enters through the real ingest service."""
import io
import json
import zipfile
from datetime import datetime, timedelta, timezone as tz

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.db import connection

from apps.accounts.models import Role
from apps.audit.models import AuditEntry
from apps.connectors.models import ChannelKind
from apps.core import realtime
from apps.crm import data_protection
from apps.crm.models import Customer, Identity
from apps.crm.tasks import retention_redact
from apps.inbox.events import message_data
from apps.inbox.inbound import InboundAttachment, InboundMessage, SenderIdentity
from apps.inbox.models import Attachment, Conversation, Message
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import reply_create
from apps.inbox.visibility import ALL_GROUP
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.integrations.services import deliveries_create
from tests.builders import client_for, events_heard

pytestmark = pytest.mark.django_db

SECRET_WORDS = "zapatillas rojas talla 38"
NAME, EMAIL, PHONE, HANDLE = "Lucía Fernández", "lucia.fernandez@example.com", "+34612345678", "luciafdz"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=tz.utc)


def _msg(account, external_id, senders, text, minutes, **kwargs):
    return InboundMessage(account_id=account.id, external_id=external_id, senders=senders, text=text,
                          sent_at=NOW + timedelta(minutes=minutes), **kwargs)


@pytest.fixture
def lucia(make_account, settings, tmp_path):
    """One customer who wrote by email (with an invoice attached), called, tweeted and filled a form."""
    settings.MEDIA_ROOT = str(tmp_path)
    email = make_account(kind=ChannelKind.EMAIL, name="Soporte")
    phone = make_account(kind=ChannelKind.PHONE, name="Centralita")
    twitter = make_account(kind=ChannelKind.TWITTER, name="@tienda")
    form = make_account(kind=ChannelKind.WEBFORM, name="Contacto")
    me = SenderIdentity("email", EMAIL, display_name=NAME)
    messages_ingest(messages=[
        _msg(email, "<m1@example.com>", [me, SenderIdentity("phone", PHONE)], f"Mis {SECRET_WORDS} no han llegado", 0,
             subject="Pedido 4471 " + SECRET_WORDS,
             attachments=[InboundAttachment("factura-4471.pdf", "application/pdf", content=b"%PDF-1.4 factura de Lucia")]),
    ])
    messages_ingest(messages=[
        _msg(phone, "call-1", [SenderIdentity("phone", PHONE)], f"Llamada: pregunta por las {SECRET_WORDS}", 5, kind="call",
             metadata={"call": {"from": PHONE, "duration_seconds": 95}}),
        _msg(twitter, "tw-1", [SenderIdentity("twitter", "98765", handle=HANDLE), me], f"@tienda ¿y mis {SECRET_WORDS}?", 10,
             is_public=True),
        _msg(form, "form-1", [me], f"Formulario: {SECRET_WORDS}", 15, kind="form", metadata={"form": {"email": EMAIL}}),
    ])
    customer = Customer.objects.get(identities__kind="email", identities__value=EMAIL)
    assert Message.objects.filter(customer=customer).count() == 4
    return customer


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, username="ada")


def test_the_export_holds_every_channel_the_attachments_and_the_audit(admin, lucia, make_user):
    # given an agent answered the email
    agent = make_user(username="luis")
    email_conversation = Conversation.objects.get(customer=lucia, channel_account__kind="email")
    conversation_update(conversation=email_conversation, actor=agent, assignee=agent)
    # when the admin exports everything about her
    response = client_for(admin).get(f"/api/customers/{lucia.pk}/export/", REMOTE_ADDR="203.0.113.5")
    # then a ZIP of JSON and files comes back
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    profile = json.loads(archive.read("customer.json"))
    assert profile["display_name"] == NAME
    assert {(i["kind"], i["value"]) for i in profile["identities"]} == {("email", EMAIL), ("phone", PHONE), ("twitter", "98765")}
    conversations = json.loads(archive.read("conversations.json"))
    assert {c["channel"]["kind"] for c in conversations} == {"email", "phone", "twitter", "webform"}
    texts = [m["text"] for c in conversations for m in c["messages"]]
    assert len(texts) == 4 and all(SECRET_WORDS in t for t in texts)
    (attachment,) = [a for c in conversations for m in c["messages"] for a in m["attachments"]]
    assert archive.read(attachment["file"]) == b"%PDF-1.4 factura de Lucia"
    audit = json.loads(archive.read("audit.json"))
    assert {"created", "assigned"} <= {e["kind"] for e in audit["conversation_events"]}
    # and the export itself is audited, with counts and the admin's address only
    entry = AuditEntry.objects.get(action="customer.exported")
    assert (entry.target_label, entry.ip, entry.after) == (f"Customer #{lucia.pk}", "203.0.113.5",
                                                            {"conversations": 4, "messages": 4, "attachments": 1})


def _contains_anywhere(words: str) -> list[str]:
    """Every text column of the content tables that still holds `words` (raw SQL: what is stored)."""
    found = []
    with connection.cursor() as cursor:
        for table, column in [("inbox_message", "text"), ("inbox_message", "html"), ("inbox_message", "subject"),
                              ("inbox_message", "metadata::text"), ("inbox_conversation", "subject"),
                              ("inbox_conversation", "last_message_preview"), ("inbox_notification", "text"),
                              ("crm_customer", "display_name"), ("crm_identity", "value"),
                              ("integrations_webhookdelivery", "payload::text"), ("audit_auditentry", "after::text"),
                              ("audit_auditentry", "target_label")]:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} ILIKE %s", [f"%{words}%"])
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


@pytest.mark.postgres
@pytest.mark.redis
def test_an_erased_customers_texts_are_gone_everywhere_while_counts_remain(admin, lucia, make_user, django_capture_on_commit_callbacks):
    # given an agent's reply, a webhook log holding a message, and the live-event log holding them all
    agent = make_user(username="luis")
    email_conversation = Conversation.objects.get(customer=lucia, channel_account__kind="email")
    with django_capture_on_commit_callbacks(execute=True):
        reply_create(conversation=email_conversation, author=agent, text=f"Hola Lucía, sus {SECRET_WORDS} salen hoy")
    endpoint = WebhookEndpoint.objects.create(name="CRM", url="http://127.0.0.1:9/", event_types=["message.created"])
    deliveries_create(events=[("message.created", {"message": message_data(Message.objects.filter(customer=lucia).first())})])
    endpoint.enabled = False  # its first attempt never runs here (not committed); later events are not queued
    endpoint.save()
    realtime._log_clear()
    with django_capture_on_commit_callbacks(execute=True):
        messages_ingest(messages=[_msg(email_conversation.channel_account, "<m2@example.com>",
                                       [SenderIdentity("email", EMAIL)], f"Gracias por las {SECRET_WORDS}", 30)])
    assert any(SECRET_WORDS in json.dumps(e) for e in realtime.events_after(after=0, groups=[ALL_GROUP])["events"])
    api = client_for(admin)
    assert api.get("/api/conversations/", {"q": "zapatillas", "status": "any"}).json()["results"]
    messages_before = Message.objects.filter(conversation__customer=lucia).count()
    per_channel_before = sorted(Message.objects.filter(conversation__customer=lucia).values_list("channel_account__kind", flat=True))
    conversation_counts_before = dict(Conversation.objects.filter(customer=lucia).values_list("id", "message_count"))
    stored_file = Attachment.objects.get(message__customer=lucia).file.name
    assert default_storage.exists(stored_file)

    # when the admin asks to erase without confirming
    first = api.post(f"/api/customers/{lucia.pk}/erase/", {}, format="json")
    # then nothing happens and she is told what would be erased and how to confirm
    assert first.status_code == 400 and first.json()["extra"]["confirm_with"] == lucia.pk
    assert first.json()["extra"]["will_erase"]["messages"] == messages_before
    assert Identity.objects.filter(customer=lucia).count() == 3

    # when she confirms (listening to the live events it sends)
    def erase():
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(f"/api/customers/{lucia.pk}/erase/", {"confirm": str(lucia.pk)}, format="json", REMOTE_ADDR="203.0.113.5")
        assert response.status_code == 200, response.content
        assert response.json()["messages"] == messages_before and response.json()["identities"] == 3

    heard = events_heard([ALL_GROUP], erase)
    # then the texts are gone from every table (rows kept), and the name and identities with them
    for words in (SECRET_WORDS, NAME, EMAIL, PHONE, HANDLE, "factura-4471"):
        assert _contains_anywhere(words) == [], words
    assert not Identity.objects.filter(customer=lucia).exists()
    assert not default_storage.exists(stored_file)
    # from search and the API
    assert api.get("/api/conversations/", {"q": "zapatillas", "status": "any"}).json()["results"] == []
    assert api.get("/api/customers/", {"q": EMAIL}).json()["results"] == []
    for conversation in Conversation.objects.filter(customer=lucia):
        body = api.get(f"/api/conversations/{conversation.pk}/messages/").content.decode()
        assert SECRET_WORDS not in body and NAME not in body
    assert SECRET_WORDS not in api.get(f"/api/customers/{lucia.pk}/timeline/").content.decode()
    # from live events: what was sent now is redacted, and a resync no longer hands out the old texts
    assert heard and all(SECRET_WORDS not in json.dumps(e) for e in heard)
    assert {e["type"] for e in heard} == {"conversation.updated"}
    assert all(SECRET_WORDS not in json.dumps(e) for e in realtime.events_after(after=0, groups=[ALL_GROUP])["events"])
    # while the counts reports rely on stay as they were
    assert Message.objects.filter(conversation__customer=lucia).count() == messages_before
    assert sorted(Message.objects.filter(conversation__customer=lucia).values_list("channel_account__kind", flat=True)) == per_channel_before
    assert dict(Conversation.objects.filter(customer=lucia).values_list("id", "message_count")) == conversation_counts_before
    # and the erasure is audited with counts, without her data
    entry = AuditEntry.objects.get(action="customer.erased")
    assert (entry.actor, entry.target_id, entry.target_label, entry.ip) == (admin, str(lucia.pk), f"Customer #{lucia.pk}", "203.0.113.5")
    assert entry.after["messages"] == messages_before and entry.after["attachments"] == 1
    assert WebhookDelivery.objects.get().payload == {"redacted": True}
    # and when a reply to her old thread arrives afterwards, erasing again redacts it too
    messages_ingest(messages=[_msg(email_conversation.channel_account, "<m3@example.com>", [SenderIdentity("email", "otra@example.com")],
                                   f"Otra vez {SECRET_WORDS}", 60, references=["<m1@example.com>"])])
    assert Message.objects.filter(conversation=email_conversation, text__contains=SECRET_WORDS).exists()
    again = api.post(f"/api/customers/{lucia.pk}/erase/", {"confirm": str(lucia.pk)}, format="json")
    assert again.status_code == 200 and _contains_anywhere(SECRET_WORDS) == []
    assert AuditEntry.objects.filter(action="customer.erased", target_id=str(lucia.pk)).count() == 2


def test_the_erase_page_needs_the_customers_number(client, admin, lucia):
    client.force_login(admin)
    page = client.get(f"/privacy/customers/{lucia.pk}/").content.decode()
    assert NAME in page and "Erase for good" in page
    assert client.post(f"/privacy/customers/{lucia.pk}/", {"confirm": "123456"}).status_code == 400
    assert Customer.objects.get(pk=lucia.pk).erased_at is None
    assert client.post(f"/privacy/customers/{lucia.pk}/", {"confirm": str(lucia.pk)}).status_code == 302
    lucia.refresh_from_db()
    assert lucia.erased_at is not None and lucia.display_name == ""
    assert client.get(f"/privacy/customers/{lucia.pk}/export/")["Content-Type"] == "application/zip"


def test_the_retention_task_redacts_only_resolved_conversations_older_than_the_setting(admin, make_account, inbound):
    account = make_account()
    old_resolved, recent_resolved, old_open = [], [], []
    for i, bucket in enumerate((old_resolved, recent_resolved, old_open)):
        messages_ingest(messages=[inbound(account, email=f"r{i}@example.com", text=f"texto {i} {SECRET_WORDS}")])
        bucket.append(Conversation.objects.get(customer__identities__value=f"r{i}@example.com"))
    for c in (old_resolved[0], recent_resolved[0]):
        conversation_update(conversation=c, actor=admin, status="resolved")
    now = datetime(2027, 6, 15, 3, 30, tzinfo=tz.utc)
    Conversation.objects.filter(pk__in=[old_resolved[0].pk, old_open[0].pk]).update(last_activity_at=datetime(2026, 5, 14, tzinfo=tz.utc))
    Conversation.objects.filter(pk=recent_resolved[0].pk).update(last_activity_at=datetime(2026, 7, 1, tzinfo=tz.utc))
    # given no retention: nothing is touched
    with time_machine.travel(now, tick=False):
        assert retention_redact() == 0
    # given 12 months (the cutoff is 2026-06-15 03:30)
    assert client_for(admin).patch("/api/data-protection/", {"retention_months": 12}, format="json").json() == {"retention_months": 12}
    with time_machine.travel(now, tick=False):
        assert retention_redact() == 1
        assert retention_redact() == 0  # nothing twice
    texts = dict(Message.objects.values_list("conversation_id", "text"))
    assert texts[old_resolved[0].pk] == ""
    assert SECRET_WORDS in texts[recent_resolved[0].pk] and SECRET_WORDS in texts[old_open[0].pk]
    assert Conversation.objects.get(pk=old_resolved[0].pk).message_count == 1
    assert AuditEntry.objects.filter(action="settings.retention_changed", after={"retention_months": 12}).exists()
    assert AuditEntry.objects.get(action="customer.retention_redacted").after["conversations"] == 1


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert data_protection.months_before(datetime(2027, 3, 31, 3, 0, tzinfo=tz.utc), 1) == datetime(2027, 2, 28, 3, 0, tzinfo=tz.utc)
    assert data_protection.months_before(datetime(2027, 1, 15, tzinfo=tz.utc), 13) == datetime(2025, 12, 15, tzinfo=tz.utc)


def test_agents_and_supervisors_get_403_on_data_protection(make_user, client, lucia):
    for role in (Role.AGENT, Role.SUPERVISOR):
        user = make_user(role=role)
        api = client_for(user)
        assert api.get(f"/api/customers/{lucia.pk}/export/").status_code == 403
        assert api.post(f"/api/customers/{lucia.pk}/erase/", {"confirm": str(lucia.pk)}, format="json").status_code == 403
        assert api.patch("/api/data-protection/", {"retention_months": 1}, format="json").status_code == 403
        client.force_login(user)
        for url in ("/privacy/", f"/privacy/customers/{lucia.pk}/", f"/privacy/customers/{lucia.pk}/export/"):
            assert client.get(url).status_code == 403, url
    assert Customer.objects.get(pk=lucia.pk).erased_at is None and not AuditEntry.objects.filter(action__startswith="customer.").exists()
