"""The inbox's rows are built by hand (apps/inbox/api.py: conversation_row, message_row) from the
columns the selectors fetch (.only()): the same JSON, key for key and in the same order, as DRF's
field machinery made from the serializers' declared fields and whole model objects."""
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.crm.models import Identity
from apps.inbox.api import AttachmentSerializer, ConversationSerializer, MessageSerializer, TimelineMessageSerializer
from apps.inbox.inbound import InboundAttachment, SenderIdentity
from apps.inbox.models import Conversation, Message
from apps.inbox.selectors import LIST_RELATED, with_row_extras
from apps.inbox.services.conversations import conversation_mark_read, conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import reply_create
from tests.builders import client_for

pytestmark = pytest.mark.django_db


def _by_fields(serializer, instance):
    return serializers.ModelSerializer.to_representation(serializer, instance)


class FieldsAttachment(AttachmentSerializer):
    to_representation = _by_fields


class FieldsConversation(ConversationSerializer):
    class Meta(ConversationSerializer.Meta):
        list_serializer_class = serializers.ListSerializer

    to_representation = _by_fields


class FieldsMessage(MessageSerializer):
    attachments = FieldsAttachment(many=True)

    class Meta(MessageSerializer.Meta):
        list_serializer_class = serializers.ListSerializer

    to_representation = _by_fields


class FieldsTimelineMessage(TimelineMessageSerializer):
    attachments = FieldsAttachment(many=True)

    class Meta(TimelineMessageSerializer.Meta):
        list_serializer_class = serializers.ListSerializer

    to_representation = _by_fields


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


@pytest.fixture
def rich_desk(make_user, team, make_account, inbound, settings, tmp_path):
    """Every channel kind; a customer on all of them, one known by phone number only, one by a
    Messenger id; tags, SLA clocks, an assignee, a snoozed and a resolved conversation, a read
    marker, a reply with its author, a call with details, a stored and a provider-hosted file."""
    settings.MEDIA_ROOT = str(tmp_path)
    agent = make_user(teams=[team], time_zone="America/Mexico_City")  # instants in the user's zone
    colleague = make_user(teams=[team])
    now = timezone.now().replace(microsecond=0)
    accounts = {kind: make_account(kind=kind, team=team) for kind in ChannelKind.values}
    batch = [
        inbound(account, email="ana@example.com", thread_key=f"ana-{kind}", sent_at=now - timedelta(minutes=90 - i),
                subject=f"About {kind}")
        for i, (kind, account) in enumerate(accounts.items())
    ]
    batch += [
        inbound(accounts["phone"], phone="+34612345678", name="+34612345678", kind="call", text="Missed call",
                sent_at=now - timedelta(minutes=20),
                metadata={"call": {"direction": "inbound", "status": "no-answer"}, "provider_raw": {"x": 1}}),
        inbound(accounts["facebook"], senders=[SenderIdentity("facebook", "12345678901234", display_name="12345678901234")],
                sent_at=now - timedelta(minutes=10), text="foto",
                attachments=[InboundAttachment("a.txt", "text/plain", content=b"hola"),
                             InboundAttachment("p.jpg", "image/jpeg", url="https://cdn.example.com/p.jpg")]),
    ]
    messages_ingest(messages=batch)
    rows = list(Conversation.objects.order_by("id"))
    assert len(rows) == len(ChannelKind.values) + 2
    ana = Identity.objects.get(value="ana@example.com").customer_id
    of_ana = {c.channel_account.kind: c for c in Conversation.objects.filter(customer_id=ana).select_related("channel_account")}
    conversation_update(conversation=of_ana["email"], actor=agent, assignee=agent, priority=3, tags=["vip", "billing"])
    conversation_update(conversation=of_ana["api"], actor=agent, assignee=colleague, tags=["refund"])
    conversation_update(conversation=of_ana["twitter"], actor=agent, snoozed_until=now + timedelta(hours=5))
    conversation_update(conversation=of_ana["webform"], actor=agent, status="resolved")
    conversation_update(conversation=of_ana["facebook"], actor=agent, team=None)
    conversation_mark_read(conversation=of_ana["api"], user=agent)
    reply_create(conversation=of_ana["email"], author=agent, text="Ya lo miro")
    return agent, now, rows, of_ana["email"]


def test_list_and_detail_rows_are_what_the_serializer_fields_made(rich_desk, make_user, team):
    agent, now, rows, main = rich_desk
    supervisor = make_user(role=Role.SUPERVISOR, teams=[team])
    assert {r.sla_clock for r in Conversation.objects.all()} > {""}  # some clocks run
    for user in (agent, supervisor):
        client = client_for(user)
        with time_machine.travel(now + timedelta(minutes=1), tick=False):
            listed = client.get("/api/conversations/?status=any").json()["results"]
            detail = client.get(f"/api/conversations/{main.id}/").json()
            with timezone.override(ZoneInfo(user.time_zone) if user.time_zone else None):
                whole = with_row_extras(Conversation.objects.select_related(*LIST_RELATED), user=user)
                expected = FieldsConversation(whole.order_by("-last_activity_at", "-id"), many=True).data
                expected_detail = FieldsConversation(whole.get(pk=main.id)).data
        # then every row, its keys in order, its values (instants in the user's zone) are the same
        assert len(listed) == len(rows)
        assert _json(listed) == _json(expected)
        assert _json(detail) == _json(expected_detail)
    # and the fixture covers what the row shows
    shown = {(r["status"], bool(r["assignee"]), bool(r["team"]), bool(r["tags"]), r["unread"], r["sla"]["state"])
             for r in listed}
    assert {s[0] for s in shown} == {"open", "snoozed", "resolved"}
    assert {s[1] for s in shown} == {s[2] for s in shown} == {s[3] for s in shown} == {True, False}
    assert {r["customer"]["avatar"] for r in listed} >= {"phone", "?", "A"}


def test_thread_and_timeline_rows_are_what_the_serializer_fields_made(rich_desk):
    agent, now, rows, main = rich_desk
    client = client_for(agent)
    request = RequestFactory().get("/")  # absolute download links, as the API's request builds them
    ana = main.customer_id
    facebook = Message.objects.filter(attachments__isnull=False).values_list("conversation_id", flat=True).distinct().get()
    whole = Message.objects.select_related("author", "channel_account", "conversation")
    for path, serializer, messages in (
        (f"/api/customers/{ana}/timeline/", FieldsTimelineMessage, whole.filter(customer_id=ana).order_by("-sent_at", "-id")),
        (f"/api/conversations/{main.id}/messages/", FieldsMessage, whole.filter(conversation=main).order_by("sent_at", "id")),
        (f"/api/conversations/{facebook}/messages/", FieldsMessage, whole.filter(conversation_id=facebook).order_by("sent_at", "id")),
    ):
        served = client.get(path).json()["results"]
        with timezone.override(ZoneInfo(agent.time_zone)):
            expected = serializer(messages, many=True, context={"request": request}).data
        assert served and _json(served) == _json(expected), path
    # and the fixture covers what a message shows: an author, files of both kinds, a call's details
    timeline = client.get(f"/api/customers/{ana}/timeline/").json()["results"]
    assert any(m["author"] for m in timeline) and {m["channel"]["kind"] for m in timeline} == set(ChannelKind.values)
    files = client.get(f"/api/conversations/{facebook}/messages/").json()["results"][0]["attachments"]
    assert [f["url"].startswith("http://testserver/api/") for f in files] == [True, False]
    phone = Message.objects.get(kind="call").conversation_id
    call = client.get(f"/api/conversations/{phone}/messages/").json()["results"][0]
    assert call["details"] == {"call": {"direction": "inbound", "status": "no-answer"}}
