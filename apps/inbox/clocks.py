"""What the inbox needs from the SLA clocks, and the one place it asks.

The sla app lives above the inbox (it imports the inbox, never the other way), so, as with the
channels (channels.py), the inbox states the contract here and apps/sla connects its
implementation at start (apps/sla/apps.py):

- `clocks_sync(conversations)`: called by the inbox services, in their transaction and with the
  rows locked, after they changed what a clock depends on (a customer message, a reply actually
  sent, status, priority, team, tags). The sla app (re)picks the policy, starts, pauses, resumes
  or stops the clocks and writes the summary back through services/clocks.py.
- `clocks_start(conversations)`: for new conversations about to be inserted (the ingest's): sets
  their summary on the objects, so the INSERT writes it (not an UPDATE right after: every index of
  the table twice), and returns `write(saved)`, which stores the clocks of those that were saved.
- `describe(conversation, now)`: working-time detail for the badge (seconds left in working
  time, whether the calendar is open now and until when).

The summary columns on the conversation (sla_clock, sla_due_at, sla_warn_at, sla_paused_seconds)
are the inbox's own, so the state of a row and the list filters are read here, without the sla
app: one rule, in Python for one row (`sla_data`) and as a range filter (`sla_filter_q`).
"""
from collections.abc import Callable
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

OK, WARNING, BREACHED, PAUSED, NONE = "ok", "warning", "breached", "paused", "none"
STATES = (OK, WARNING, BREACHED, PAUSED, NONE)

_sync: Callable[..., None] = lambda conversations, **kwargs: None
_start: Callable[..., Callable[[list], None]] = lambda conversations, **kwargs: lambda saved: None
_describe: Callable[..., dict] = lambda conversation, now: {}


def clocks_connect(*, sync: Callable[..., None], start: Callable[..., Callable[[list], None]],
                   describe: Callable[..., dict]) -> None:
    global _sync, _start, _describe
    _sync, _start, _describe = sync, start, describe


def clocks_sync(conversations, *, now: datetime | None = None) -> None:
    """Bring the clocks of these (locked, saved) conversations in line with their state."""
    conversations = [c for c in conversations if c is not None and c.pk is not None]
    if conversations:
        _sync(conversations, now=now or timezone.now())


def clocks_start(conversations, *, now: datetime | None = None) -> Callable[[list], None]:
    """The clocks of new (unsaved) conversations: their summary set on the objects now; call the
    returned write(saved) with those of them that were inserted (in the same transaction)."""
    if not conversations:
        return lambda saved: None
    return _start(conversations, now=now or timezone.now())


def sla_state(conversation, now: datetime) -> str:
    if not conversation.sla_clock:
        return NONE
    if conversation.sla_paused_seconds is not None or conversation.sla_due_at is None:
        return PAUSED
    if now >= conversation.sla_due_at:
        return BREACHED
    if conversation.sla_warn_at is not None and now >= conversation.sla_warn_at:
        return WARNING
    return OK


def sla_data(conversation, now: datetime | None = None) -> dict:
    """The `sla` of a conversation row and of its live events: {clock, due_at, warn_at, state,
    remaining_seconds (working time; negative once breached), ticking, until, as_of}."""
    now = now or timezone.now()
    state = sla_state(conversation, now)
    data = {
        "clock": conversation.sla_clock or None,
        "state": state,
        "due_at": _iso(conversation.sla_due_at),
        "warn_at": _iso(conversation.sla_warn_at),
        "remaining_seconds": conversation.sla_paused_seconds if state == PAUSED else None,
        "ticking": state in (OK, WARNING, BREACHED),
        "until": None,
        "as_of": now.isoformat(),
    }
    if state != NONE:
        data.update(_describe(conversation, now))
    return data


def _iso(value):
    return value.isoformat() if value else None


def sla_filter_q(state: str, *, now: datetime | None = None, prefix: str = "") -> Q:
    """Conversations in `state` now: ranges on the indexed due and warning times."""
    if state not in STATES:
        raise ValueError(state)
    p = prefix
    if state == NONE:
        return Q(**{f"{p}sla_clock": ""})
    if state == PAUSED:
        return ~Q(**{f"{p}sla_clock": ""}) & Q(**{f"{p}sla_paused_seconds__isnull": False})
    now = now or timezone.now()
    if state == BREACHED:
        return Q(**{f"{p}sla_due_at__lte": now})
    if state == WARNING:
        return Q(**{f"{p}sla_warn_at__lte": now, f"{p}sla_due_at__gt": now})
    return Q(**{f"{p}sla_due_at__gt": now}) & (Q(**{f"{p}sla_warn_at__gt": now}) | Q(**{f"{p}sla_warn_at__isnull": True}))
