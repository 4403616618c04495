"""The facts and inbound counts the reports read (apps/reports/models.py) are kept by triggers in
the writer's transaction: exact at once, moved by a transfer, rebuilt identically by the
backfill; and working time where a business calendar applies (the SLA app's arithmetic)."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from apps.connectors.models import ChannelKind
from apps.inbox.inbound import InboundStatus
from apps.inbox.models import Conversation, ConversationEvent, Message
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import message_deliver, reply_create
from apps.inbox.services.statuses import message_statuses_apply
from apps.reports import facts, selectors
from apps.reports.models import Fact, InboundRollup
from apps.reports.selectors import ReportFilters
from apps.sla.services import calendar_save, policy_save
from tests.builders import client_for

from .conftest import MADRID, at

pytestmark = pytest.mark.postgres  # triggers, percentile_cont

FACT_FIELDS = ("kind", "at", "conversation_id", "event_id", "team_id", "channel_kind", "agent_id", "first_response",
               "policy_id", "start_at", "end_at", "wall_seconds", "work_seconds")


def _week_filters(**kwargs):
    return ReportFilters(start=date(2026, 11, 16), end=date(2026, 11, 22), tz=MADRID, **kwargs)


def _facts():
    return sorted(Fact.objects.values_list(*FACT_FIELDS), key=repr)


def _counts():
    from django.db.models import Sum

    rows = InboundRollup.objects.values("bucket", "channel_kind", "team_id").annotate(n=Sum("messages")).order_by()
    return {(r["bucket"], r["channel_kind"], r["team_id"]): r["n"] for r in rows if r["n"]}


def test_the_triggers_keep_facts_and_counts_exact_and_the_backfill_rebuilds_the_same(week):
    assert Fact.objects.filter(kind="first").count() == 5  # c1..c5 answered
    assert Fact.objects.filter(kind="reply").count() == 6 and Fact.objects.filter(kind="resolved").count() == 2
    assert Fact.objects.filter(kind="opened").count() == 5
    assert sum(_counts().values()) == 6  # inbound messages
    built, counts = _facts(), _counts()
    facts.rollups_backfill()
    assert _facts() == built
    assert _counts() == counts
    # the deltas merge into one row per bucket, channel and team, the sums unchanged
    facts.rollups_compact()
    assert _counts() == counts
    assert InboundRollup.objects.count() == len(counts)


def test_a_transfer_moves_the_conversations_figures_to_its_new_team(week):
    with time_machine.travel(at(18, 9), tick=False):
        conversation_update(conversation=week.c1, actor=week.agent1, team=week.team_b)
    with time_machine.travel(at(25, 12), tick=False):
        only_b = _week_filters(team_ids=(week.team_b.id,))
        assert sorted((r["channel"], r["messages"]) for r in selectors.volume_by_channel(only_b)) == [("api", 1), ("api", 1), ("email", 2)]
        by_team = {r["key"]: r for r in selectors.first_response_times(_week_filters(), by="team")}
        assert (by_team[week.team_a.id]["count"], by_team[week.team_b.id]["count"]) == (2, 3)
        assert selectors.next_response_times(only_b, by="team")[0]["count"] == 1  # c1's second reply went with it
        backlog = selectors.backlog(_week_filters(team_ids=(week.team_a.id,)))
        assert (backlog[0]["opened"], backlog[0]["resolved"]) == (2, 1)  # c2, c3 opened; c2 resolved
    moved = _facts()
    facts.rollups_backfill()
    assert _facts() == moved


def test_a_deleted_conversation_leaves_no_figure(week):
    week.c4.delete()
    with time_machine.travel(at(25, 12), tick=False):
        assert [(r["day"].isoformat(), r["channel"], r["messages"]) for r in selectors.volume_by_channel(_week_filters())] == [
            ("2026-11-16", "email", 4), ("2026-11-17", "api", 1)]
        assert {r["key"]: r["count"] for r in selectors.first_response_times(_week_filters(), by="channel")} == {"email": 3, "api": 1}


@pytest.fixture
def office_hours(db):
    """Mon-Fri 09:00-18:00 Madrid, no public holidays; the email policy counts in it."""
    calendar = calendar_save(name="Office", time_zone="Europe/Madrid", periods=[
        {"weekday": d, "start": time(9), "end": time(18)} for d in range(5)])
    return policy_save(name="Email office hours", position=10, calendar=calendar, channel_kind="email",
                       first_response_minutes=240, next_response_minutes=240, resolution_minutes=2400)


def test_working_time_across_a_weekend_and_a_night(madrid, make_user, make_account, inbound, team, outside, office_hours):
    """Friday 20 Nov 17:30 a customer writes; the reply comes Monday 09:30: 64 h on the clock,
    1 h of working time (Friday 17:30-18:00, Monday 09:00-09:30). They write again Monday 19:00
    and are answered Tuesday 09:15: 14 h 15 min, 15 working minutes. Resolved Tuesday 10:00:
    88 h 30 min since Friday 17:30, of which 30 min + 9 h + 1 h = 10 h 30 min working."""
    smtp, _receiver = outside
    account = make_account(kind=ChannelKind.EMAIL, team=team, settings={
        "address": "soporte@tienda.example", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"})
    agent = make_user(teams=[team], username="night_agent")
    supervisor = make_user(role="supervisor", username="night_boss")

    def write(when):
        with time_machine.travel(when, tick=False):
            ids = messages_ingest(messages=[inbound(account, email="late@example.com", sent_at=when)]).message_ids
        return Conversation.objects.get(messages__id=ids[0])

    def reply(conversation, when):
        with time_machine.travel(when, tick=False):
            message = reply_create(conversation=conversation, author=agent, text="Buenos días")
            message_deliver(message_id=message.id)

    c = write(at(20, 17, 30))
    assert c.sla_policy_id == office_hours.id
    reply(c, at(23, 9, 30))
    assert write(at(23, 19)).pk == c.pk
    reply(c, at(24, 9, 15))
    with time_machine.travel(at(24, 10), tick=False):
        conversation_update(conversation=c, actor=agent, status=Conversation.Status.RESOLVED)
    # the triggers leave calendar facts' working time to Python (apps.sla.worktime); the API fills it
    assert Fact.objects.filter(conversation=c, work_seconds__isnull=True, start_at__isnull=False).count() == 4
    period = {"start": "2026-11-20", "end": "2026-11-24"}
    client = client_for(supervisor)
    with time_machine.travel(at(25, 12), tick=False):
        rows = {slug: client.get(f"/api/reports/{slug}/", period).json()["rows"][0]
                for slug in ("first-response-by-channel", "next-response-by-channel", "resolution-by-channel")}
    first, nxt, res = rows["first-response-by-channel"], rows["next-response-by-channel"], rows["resolution-by-channel"]
    assert (first["count"], first["median_seconds"], first["median_work_seconds"], first["p90_work_seconds"]) == (1, 64 * 3600, 3600, 3600)
    assert (nxt["count"], nxt["median_seconds"], nxt["median_work_seconds"]) == (1, 14 * 3600 + 900, 900)
    assert (res["count"], res["median_seconds"], res["median_work_seconds"]) == (1, 88.5 * 3600, 10.5 * 3600)
    assert first["4h_24h"] == 0 and first["over_24h"] == 1  # the distribution stays wall-clock
    assert not Fact.objects.filter(work_seconds__isnull=True, start_at__isnull=False).exists()
    # the backfill computes the same working times
    before = _facts()
    call_command("reports_backfill")
    assert _facts() == before
    # the calendar becomes 24/7: recomputing makes working time the wall-clock time
    calendar_save(calendar=office_hours.calendar, always_open=True)
    call_command("reports_backfill", "--working-time")
    assert Fact.objects.get(conversation=c, kind="first").work_seconds == 64 * 3600


def test_the_beat_task_fills_working_time(madrid, week, office_hours):
    from apps.reports.tasks import facts_maintain

    Fact.objects.filter(kind="first").update(work_seconds=None, policy_id=office_hours.id)
    facts_maintain()
    # c1 09:00 -> 09:10 Monday: inside office hours, 600 s; c4 Mon 23:30 -> Tue 00:30: none of it
    work = dict(Fact.objects.filter(kind="first").values_list("conversation_id", "work_seconds"))
    assert (work[week.c1.id], work[week.c3.id], work[week.c4.id]) == (600, 5 * 3600, 0)


def test_a_comment_hidden_in_a_resolved_conversation_is_not_one_more_resolution(week):
    # given a resolved conversation, one of whose messages is a public comment
    resolved = Conversation.objects.filter(status=Conversation.Status.RESOLVED).first()
    comment = resolved.messages.filter(direction=Message.Direction.IN).first()
    Message.objects.filter(pk=comment.pk).update(metadata={**comment.metadata, "facebook": {"hidden": False}})
    before = Fact.objects.filter(kind="resolved").count()
    # when the network says it was hidden (moderation has its own event kind, not a status change)
    message_statuses_apply(statuses=[InboundStatus(account_id=comment.channel_account_id, kind="hidden",
                                                   external_ids=[comment.external_id], data={"on": "facebook"})])
    # then it is audited as moderation, and the reports count no new resolution
    assert list(ConversationEvent.objects.filter(conversation=resolved, kind="moderated").values_list("data__action", flat=True)) == [
        "comment_hidden"]
    assert Fact.objects.filter(kind="resolved").count() == before
