"""SLA state from settings-based first-response targets: one rule in Python, one as a filter."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inbox.models import Conversation
from apps.sla.state import sla_filter_q, sla_state
from tests.builders import conversations

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.mark.parametrize(
    "status, priority, waited_minutes, expected",
    [
        ("open", 3, 5, "ok"),  # urgent: 15 min, warning from 11.25
        ("open", 3, 12, "warning"),
        ("open", 3, 15, "breached"),
        ("pending", 1, 179, "ok"),  # normal: 240 min, warning from 180
        ("pending", 1, 181, "warning"),
        ("open", 0, 1500, "breached"),
        ("snoozed", 3, 60, "none"),  # out of the queue: no clock
        ("resolved", 3, 60, "none"),
        ("spam", 3, 60, "none"),
        ("open", 3, None, "none"),  # nobody waits
    ],
)
def test_state_by_priority_and_wait(status, priority, waited_minutes, expected):
    waiting_since = NOW - timedelta(minutes=waited_minutes) if waited_minutes is not None else None
    state = sla_state(status=status, priority=priority, waiting_since=waiting_since, now=NOW)
    assert state["state"] == expected
    if expected != "none":
        target = {3: 15, 2: 60, 1: 240, 0: 1440}[priority]
        assert state["due_at"] == waiting_since + timedelta(minutes=target)
    else:
        assert state["due_at"] is None


def test_the_filter_agrees_with_the_state_of_each_row(make_account, inbound, settings):
    # given conversations waiting various times at various priorities, and one answered
    settings.SLA_FIRST_RESPONSE_MINUTES = {3: 15, 2: 60, 1: 240, 0: 1440}
    account = make_account()
    waits = [5, 12, 50, 50, 59, 61, 200, 239, 300, 1300]  # priority i % 4
    convs = []
    for i, minutes in enumerate(waits):
        (conv,) = conversations(inbound, account, 1, sent_at=NOW - timedelta(minutes=minutes))
        Conversation.objects.filter(pk=conv.pk).update(priority=i % 4)
        convs.append(conv)
    Conversation.objects.filter(pk=convs[0].pk).update(waiting_since=None)
    Conversation.objects.filter(pk=convs[1].pk).update(status="snoozed")
    # when each state is asked of the database, then it holds exactly the rows sla_state puts there
    rows = list(Conversation.objects.all())
    for state in ("ok", "warning", "breached", "none"):
        expected = {c.id for c in rows if sla_state(status=c.status, priority=c.priority, waiting_since=c.waiting_since,
                                                     now=NOW)["state"] == state}
        assert set(Conversation.objects.filter(sla_filter_q(state, now=NOW)).values_list("id", flat=True)) == expected, state
    # and every state is represented (the table above is not degenerate)
    states = {sla_state(status=c.status, priority=c.priority, waiting_since=c.waiting_since, now=NOW)["state"] for c in rows}
    assert states == {"ok", "warning", "breached", "none"}
