"""Working a conversation: claim, tags, snooze (and the wake-up), bulk changes, permissions."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.inbox.models import Conversation, ConversationEvent, Tag
from apps.inbox.services.conversations import conversation_update, conversations_wake_snoozed
from apps.inbox.tasks import conversations_wake_snoozed as wake_task
from tests.builders import client_for, conversations

pytestmark = pytest.mark.django_db


def test_claim_takes_a_free_conversation_and_refuses_a_held_one(make_user, team, make_account, inbound):
    # given a conversation of the team and two agents of it
    a, b = make_user(teams=[team]), make_user(teams=[team])
    (conv,) = conversations(inbound, make_account(team=team), 1)
    # when A claims it
    first = client_for(a).post(f"/api/conversations/{conv.id}/claim/")
    # then it is A's (claiming again is fine), and the row is the list's shape
    assert first.status_code == 200, first.content
    assert first.json()["assignee"] == {"id": a.id, "username": a.username}
    assert "unread" in first.json() and "sla" in first.json()
    assert client_for(a).post(f"/api/conversations/{conv.id}/claim/").status_code == 200
    # when B claims it, then 409 naming the holder; with force=1 B takes it
    refused = client_for(b).post(f"/api/conversations/{conv.id}/claim/")
    assert refused.status_code == 409
    assert refused.json()["extra"]["assignee"]["id"] == a.id
    assert client_for(b).post(f"/api/conversations/{conv.id}/claim/?force=1").json()["assignee"]["id"] == b.id
    # and every change is audited with its actor
    assigned = ConversationEvent.objects.filter(conversation=conv, kind="assigned").order_by("id")
    assert [(e.actor_id, e.data) for e in assigned] == [(a.id, {"from": None, "to": a.id}), (b.id, {"from": a.id, "to": b.id})]


def test_claim_of_an_invisible_conversation_is_a_404(make_user, team, make_account, inbound):
    (conv,) = conversations(inbound, make_account(team=team), 1)
    outsider = make_user(teams=[make_user().teams.create(name="Elsewhere")])
    assert client_for(outsider).post(f"/api/conversations/{conv.id}/claim/").status_code == 404
    assert Conversation.objects.get(pk=conv.pk).assignee_id is None


def test_tags_replace_the_set_and_are_audited(make_user, make_account, inbound):
    agent = make_user()
    (conv,) = conversations(inbound, make_account(), 1)
    client = client_for(agent)
    # when tags are set, then replaced
    first = client.patch(f"/api/conversations/{conv.id}/", {"tags": ["Billing", "vip", "billing"]}, format="json")
    second = client.patch(f"/api/conversations/{conv.id}/", {"tags": ["vip", "refund"]}, format="json")
    same = client.patch(f"/api/conversations/{conv.id}/", {"tags": ["refund", "vip"]}, format="json")
    # then names are lower-cased, unique, sorted; the set is replaced; an unchanged set records nothing
    assert first.json()["tags"] == ["billing", "vip"]
    assert second.json()["tags"] == ["refund", "vip"]
    assert same.status_code == 200 and same.json()["tags"] == ["refund", "vip"]
    events = ConversationEvent.objects.filter(conversation=conv, kind="tags").order_by("id")
    assert [e.data for e in events] == [{"from": [], "to": ["billing", "vip"]}, {"from": ["billing", "vip"], "to": ["refund", "vip"]}]
    assert set(Tag.objects.values_list("name", flat=True)) == {"billing", "vip", "refund"}
    # and a bad name is a clear 400
    bad = client.patch(f"/api/conversations/{conv.id}/", {"tags": ["<script>"]}, format="json")
    assert bad.status_code == 400 and bad.json()["extra"]["tag"] == "<script>"


def test_snooze_then_wake_up(make_user, make_account, inbound, django_capture_on_commit_callbacks):
    agent = make_user()
    (conv,) = conversations(inbound, make_account(), 1)
    client = client_for(agent)
    until = timezone.now() + timedelta(hours=1)
    # when snoozed until a time
    response = client.patch(f"/api/conversations/{conv.id}/", {"status": "snoozed", "snoozed_until": until.isoformat()}, format="json")
    # then it is snoozed with that time, its SLA clock paused (the working time left is kept)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "snoozed" and body["snoozed_until"] is not None
    assert (body["sla"]["state"], body["sla"]["due_at"], body["sla"]["ticking"]) == ("paused", None, False)
    # and snoozing needs a future time
    assert client.patch(f"/api/conversations/{conv.id}/", {"snoozed_until": "2001-01-01T00:00:00Z"}, format="json").status_code == 400
    (other,) = conversations(inbound, make_account(), 1)
    assert client.patch(f"/api/conversations/{other.id}/", {"status": "snoozed"}, format="json").status_code == 400
    # when the wake-up runs before the time, nothing; after it, the conversation is open again
    assert conversations_wake_snoozed(now=until - timedelta(minutes=1)) == 0
    assert conversations_wake_snoozed(now=until + timedelta(seconds=1)) == 1
    conv.refresh_from_db()
    assert (conv.status, conv.snoozed_until) == ("open", None)
    kinds = list(ConversationEvent.objects.filter(conversation=conv).order_by("id").values_list("kind", "actor_id", "data"))
    assert kinds[-3:] == [
        ("status", agent.id, {"from": "open", "to": "snoozed"}),
        ("snoozed", agent.id, {"from": None, "to": until.isoformat()}),
        ("status", None, {"from": "snoozed", "to": "open"}),
    ]


def test_the_beat_task_wakes_what_is_due(make_user, make_account, inbound, eager_celery):
    (conv,) = conversations(inbound, make_account(), 1)
    conversation_update(conversation=conv, actor=None, snoozed_until=timezone.now() + timedelta(minutes=5))
    Conversation.objects.filter(pk=conv.pk).update(snoozed_until=timezone.now() - timedelta(seconds=1))  # time passes
    wake_task.delay()
    assert Conversation.objects.get(pk=conv.pk).status == "open"


def test_a_status_change_ends_the_snooze(make_user, make_account, inbound):
    agent = make_user()
    (conv,) = conversations(inbound, make_account(), 1)
    conversation_update(conversation=conv, actor=agent, snoozed_until=timezone.now() + timedelta(hours=1))
    updated = conversation_update(conversation=conv, actor=agent, status="pending")
    assert (updated.status, updated.snoozed_until) == ("pending", None)


def test_bulk_changes_only_visible_conversations(make_user, team, make_account, inbound):
    # given 3 conversations the agent sees and 1 of another team
    agent = make_user(teams=[team])
    mine = conversations(inbound, make_account(team=team), 3)
    (hidden,) = conversations(inbound, make_account(team=make_user().teams.create(name="Other")), 1)
    client = client_for(agent)
    # when the agent resolves and tags all four at once
    response = client.post(
        "/api/conversations/bulk/",
        {"ids": [c.id for c in mine] + [hidden.id], "changes": {"status": "resolved", "tags": ["done"]}},
        format="json",
    )
    # then the visible three changed (each audited), the hidden one did not
    assert response.status_code == 200, response.content
    assert response.json() == {"updated": 3}
    assert set(Conversation.objects.filter(status="resolved").values_list("id", flat=True)) == {c.id for c in mine}
    assert Conversation.objects.get(pk=hidden.pk).status == "open"
    assert ConversationEvent.objects.filter(kind="status", actor=agent).count() == 3
    assert not hidden.tags.exists()


def test_bulk_input_is_bounded_and_validated(make_user):
    client = client_for(make_user(role=Role.ADMIN))
    too_many = client.post("/api/conversations/bulk/", {"ids": list(range(1, 202)), "changes": {"status": "open"}}, format="json")
    assert too_many.status_code == 400
    assert client.post("/api/conversations/bulk/", {"ids": [1], "changes": {"status": "closed"}}, format="json").status_code == 400
    assert client.post("/api/conversations/bulk/", {"ids": [1], "changes": {}}, format="json").status_code == 400


def test_bulk_rolls_back_as_a_whole(make_user, make_account, inbound):
    # given a snoozed conversation and an open one
    admin = make_user(role=Role.ADMIN)
    a, b = conversations(inbound, make_account(), 2)
    conversation_update(conversation=a, actor=admin, snoozed_until=timezone.now() + timedelta(hours=1))
    # when a bulk change succeeds on the first (tags it) and fails on the second (snoozing needs a time)
    response = client_for(admin).post(
        "/api/conversations/bulk/", {"ids": [a.id, b.id], "changes": {"status": "snoozed", "tags": ["x"]}}, format="json"
    )
    # then nothing changed at all
    assert response.status_code == 400
    assert not Tag.conversations.through.objects.exists()
    assert Conversation.objects.get(pk=b.pk).status == "open"
