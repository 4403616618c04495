"""SLA state of a conversation, from settings-based first-response targets (a stop-gap until
real SLA policies with business hours land).

The clock is `Conversation.waiting_since` (the oldest inbound message nobody answered yet;
ingest sets it, a reply clears it), so it covers the first response and every later wait.
Target per priority: settings.SLA_FIRST_RESPONSE_MINUTES ({3: 15, 2: 60, 1: 240, 0: 1440}
by default); the state is "warning" from SLA_WARNING_RATIO (75%) of the target on,
"breached" past it, "ok" before, and "none" when nobody waits or the conversation is not
in a queue (snoozed, spam, resolved). The same rule exists twice: in Python for one row
(`sla_state`) and as a queryset filter for the list (`sla_filter_q`); tests pin both.
"""
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

OK, WARNING, BREACHED, NONE = "ok", "warning", "breached", "none"
STATES = (OK, WARNING, BREACHED, NONE)
# Only these statuses are in a queue; the others have no clock.
CLOCKED_STATUSES = ("open", "pending")


def target(priority: int) -> timedelta:
    minutes = settings.SLA_FIRST_RESPONSE_MINUTES
    return timedelta(minutes=minutes.get(priority, minutes.get(1, 240)))


def sla_state(*, status: str, priority: int, waiting_since: datetime | None, now: datetime | None = None) -> dict:
    """{"state": ok|warning|breached|none, "due_at": datetime|None}."""
    if waiting_since is None or status not in CLOCKED_STATUSES:
        return {"state": NONE, "due_at": None}
    now = now or timezone.now()
    due = waiting_since + target(priority)
    warn_at = waiting_since + target(priority) * settings.SLA_WARNING_RATIO
    state = BREACHED if now >= due else WARNING if now >= warn_at else OK
    return {"state": state, "due_at": due}


def sla_filter_q(state: str, *, now: datetime | None = None, prefix: str = "") -> Q:
    """Conversations in `state` now, as a filter (one range on waiting_since per priority)."""
    if state not in STATES:
        raise ValueError(state)
    if state == NONE:
        return ~Q(**{f"{prefix}status__in": CLOCKED_STATUSES}) | Q(**{f"{prefix}waiting_since__isnull": True})
    now = now or timezone.now()
    clocked = Q(**{f"{prefix}status__in": CLOCKED_STATUSES})
    q = Q(pk__in=[])
    for priority in sorted(settings.SLA_FIRST_RESPONSE_MINUTES):
        full = target(priority)
        warn = full * settings.SLA_WARNING_RATIO
        # waiting_since + full <= now  <=>  waiting_since <= now - full
        ranges = {
            BREACHED: {f"{prefix}waiting_since__lte": now - full},
            WARNING: {f"{prefix}waiting_since__gt": now - full, f"{prefix}waiting_since__lte": now - warn},
            OK: {f"{prefix}waiting_since__gt": now - warn},
        }[state]
        q |= Q(**{f"{prefix}priority": priority}, **ranges)
    return clocked & q
