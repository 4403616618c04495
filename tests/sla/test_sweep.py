"""The sweep: each warning and breach fires once, is audited, notifies the right people, escalates
as the policy says, and reaches a connected supervisor's real websocket."""
import json

import pytest
import time_machine
from django.conf import settings

from apps.accounts.models import Role
from apps.inbox.models import Conversation, ConversationEvent, Notification
from apps.inbox.services.conversations import conversation_update
from apps.sla.models import Clock
from apps.sla.services import clocks_sweep
from apps.sla.tasks import sla_sweep
from tests.conftest import frame_events
from tests.live_server import desk_socket

from .conftest import local
from .test_clocks import fresh, ingest

pytestmark = pytest.mark.usefixtures("only_our_policies")


def sweep(at):
    with time_machine.travel(at, tick=False):
        return clocks_sweep()


@pytest.fixture
def desk(make_account, make_user, team):
    """A team with an agent and a supervisor, another team's supervisor, and the team's email account."""
    agent = make_user(teams=[team])
    supervisor = make_user(role=Role.SUPERVISOR, teams=[team])
    other = make_user(role=Role.SUPERVISOR, teams=[make_user().teams.create(name="Other team")])
    return {"agent": agent, "supervisor": supervisor, "other": other, "account": make_account(kind="email", team=team)}


@pytest.mark.django_db
def test_warning_then_breach_each_once_audited_notified_and_escalated(desk, inbound, make_policy, django_capture_on_commit_callbacks):
    # given a policy of 60 working minutes, warning at 75%, escalation: raise the priority
    policy = make_policy(channel_kind="email", first_response_minutes=60, escalation="raise_priority")
    conv = ingest(inbound, desk["account"], local(2026, 11, 17, 13, 30))
    conversation_update(conversation=conv, actor=desk["agent"], assignee=desk["agent"])
    # due 16:30 (lunch in between), warning at 45 minutes: 16:15
    assert (fresh(conv).sla_warn_at, fresh(conv).sla_due_at) == (local(2026, 11, 17, 16, 15), local(2026, 11, 17, 16, 30))
    # when the sweep runs before the warning: nothing
    assert sweep(local(2026, 11, 17, 16, 14)) == {"warnings": 0, "breaches": 0}
    # when it runs at and after the warning share: one warning, never a second
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(local(2026, 11, 17, 16, 15, 30)) == {"warnings": 1, "breaches": 0}
    assert sweep(local(2026, 11, 17, 16, 20)) == {"warnings": 0, "breaches": 0}
    warned = Notification.objects.get(kind="sla_warning")
    assert (warned.user_id, warned.conversation_id) == (desk["agent"].id, conv.id)
    # when it runs past the target: one breach, never a second
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(local(2026, 11, 17, 16, 31)) == {"warnings": 0, "breaches": 1}
    assert sweep(local(2026, 11, 17, 16, 32)) == {"warnings": 0, "breaches": 0}
    assert sweep(local(2026, 11, 18, 12, 0)) == {"warnings": 0, "breaches": 0}
    # then audited once each
    alerts = list(ConversationEvent.objects.filter(conversation=conv, kind__in=["sla_warning", "sla_breached"]).order_by("id"))
    assert [(e.kind, e.data["clock"], e.data["policy"]) for e in alerts] == [
        ("sla_warning", "first_response", policy.id), ("sla_breached", "first_response", policy.id)]
    assert alerts[1].data["escalation"] == "raise_priority"
    # and the breach reached the assignee and the team's supervisor, not another team's
    breached = set(Notification.objects.filter(kind="sla_breached").values_list("user_id", flat=True))
    assert breached == {desk["agent"].id, desk["supervisor"].id}
    # and the escalation raised the priority, audited as the system's change
    conv = fresh(conv)
    assert conv.priority == 2
    assert ConversationEvent.objects.filter(conversation=conv, kind="priority", actor=None, data={"from": 1, "to": 2}).exists()
    clock = Clock.objects.get(conversation=conv)
    assert (clock.warned_at, clock.breached_at, clock.next_check_at) == (
        local(2026, 11, 17, 16, 15, 30), local(2026, 11, 17, 16, 31), None)


@pytest.mark.django_db
def test_escalation_back_to_the_team_queue(desk, inbound, make_policy):
    make_policy(channel_kind="email", first_response_minutes=30, escalation="team_queue")
    conv = ingest(inbound, desk["account"], local(2026, 11, 17, 10, 0))
    conversation_update(conversation=conv, actor=desk["agent"], assignee=desk["agent"])
    # a sweep that first looks after the target fires the breach alone (no late warning)
    assert sweep(local(2026, 11, 17, 10, 40)) == {"warnings": 0, "breaches": 1}
    conv = fresh(conv)
    assert (conv.assignee_id, conv.team_id, conv.priority) == (None, desk["account"].team_id, 1)
    assert ConversationEvent.objects.filter(conversation=conv, kind="assigned", actor=None, data={"from": desk["agent"].id, "to": None}).exists()
    # the agent who had it still heard of the breach
    assert Notification.objects.filter(kind="sla_breached", user=desk["agent"]).exists()


@pytest.mark.django_db
def test_notify_only_changes_nothing_and_a_conversation_without_team_alerts_every_supervisor(
    make_account, make_user, inbound, make_policy
):
    make_policy(channel_kind="email", first_response_minutes=30, escalation="notify")
    supervisors = {make_user(role=Role.SUPERVISOR).id, make_user(role=Role.SUPERVISOR).id}
    conv = ingest(inbound, make_account(kind="email"), local(2026, 11, 17, 10, 0))
    assert sweep(local(2026, 11, 17, 10, 31)) == {"warnings": 0, "breaches": 1}
    assert set(Notification.objects.filter(kind="sla_breached").values_list("user_id", flat=True)) == supervisors
    assert (fresh(conv).priority, fresh(conv).assignee_id) == (1, None)


@pytest.mark.django_db
def test_a_clock_answered_or_paused_before_the_sweep_does_not_fire(desk, inbound, make_policy):
    make_policy(channel_kind="email", first_response_minutes=60)
    conv = ingest(inbound, desk["account"], local(2026, 11, 17, 10, 0))
    with time_machine.travel(local(2026, 11, 17, 10, 30), tick=False):
        conversation_update(conversation=conv, actor=None, status="pending")
    assert sweep(local(2026, 11, 17, 12, 0)) == {"warnings": 0, "breaches": 0}
    assert not ConversationEvent.objects.filter(kind__startswith="sla_w").exists()


@pytest.mark.django_db
def test_the_sweep_is_one_indexed_query_when_nothing_is_due(django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert clocks_sweep() == {"warnings": 0, "breaches": 0}


def test_the_sweep_is_on_the_beat_every_minute_or_finer():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == sla_sweep.name)
    assert entry["schedule"] <= 60


@pytest.mark.postgres
@pytest.mark.redis
def test_a_breach_reaches_a_connected_supervisors_real_websocket(desk_server, desk, inbound, make_policy):
    # given a supervisor of the team connected to a real desk server
    make_policy(channel_kind="email", first_response_minutes=60)
    conv = ingest(inbound, desk["account"], local(2026, 11, 17, 10, 0))
    with desk_socket(desk_server, user=desk["supervisor"]) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        # when the sweep finds the warning, then the breach
        sweep(local(2026, 11, 17, 10, 50))
        warning = _frames_until(ws, lambda e: e["type"] == "sla.warning")
        sweep(local(2026, 11, 17, 11, 1))
        frames = _frames_until(ws, lambda e: e["type"] == "notification")
    # then the desk heard the badge change, the breach and the supervisor's own notification
    assert warning[-1] == {**warning[-1], "conversation_id": conv.id}
    assert warning[-1]["sla"]["state"] == "warning"
    updated = [e for e in frames if e["type"] == "conversation.updated"]
    assert updated and updated[0]["conversation"]["sla"]["state"] == "breached"
    breach = next(e for e in frames if e["type"] == "sla.breached")
    assert (breach["conversation_id"], breach["sla"]["clock"]) == (conv.id, "first_response")
    assert frames[-1]["notification"]["kind"] == "sla_breached"
    assert str(conv.id) in frames[-1]["notification"]["text"]
    assert Conversation.objects.get(pk=conv.pk).sla_due_at == local(2026, 11, 17, 11, 0)


def _frames_until(ws, done, limit=50):
    """The events heard up to the first one `done` accepts."""
    frames = []
    for _ in range(limit):
        for event in frame_events(ws.recv(timeout=15)):
            frames.append(event)
            if done(event):
                return frames
    raise AssertionError(f"not heard: {frames}")


@pytest.mark.django_db
def test_one_clock_that_cannot_be_fired_does_not_hold_back_the_others(make_account, inbound, make_policy, monkeypatch):
    # given two conversations past their target, and a fault while firing the first one
    make_policy(channel_kind="email", first_response_minutes=30)
    account = make_account(kind="email")
    bad = ingest(inbound, account, local(2026, 11, 17, 10, 0), email="uno@example.com")
    good = ingest(inbound, account, local(2026, 11, 17, 10, 1), email="dos@example.com")
    from apps.sla import services

    real_alert = services._alert

    def faulty(conversation, *args):
        if conversation.id == bad.id:
            raise RuntimeError("boom")
        return real_alert(conversation, *args)

    monkeypatch.setattr(services, "_alert", faulty)
    # when the sweep runs, then the other breach fires; the faulty one is left for the next sweep
    assert sweep(local(2026, 11, 17, 11, 0)) == {"warnings": 0, "breaches": 1}
    assert list(ConversationEvent.objects.filter(kind="sla_breached").values_list("conversation_id", flat=True)) == [good.id]
    assert Clock.objects.get(conversation=bad).next_check_at is not None
    monkeypatch.setattr(services, "_alert", real_alert)
    assert sweep(local(2026, 11, 17, 11, 1)) == {"warnings": 0, "breaches": 1}
