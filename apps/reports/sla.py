"""The SLA facts the supervisor's room counts with, in ONE place, read from the SLA app's clocks.

- Compliance: first-response clocks (apps.sla Clock) settled in a period: stopped (the reply was
  actually sent) or breached (due passed while still running). Met when it stopped within its
  target, counted in its calendar's working time (elapsed <= target), whatever pauses it had.
  Each clock belongs to the policy that counted it (per-policy compliance).
- Now: the conversation's active clock, kept on the row by the inbox (apps/inbox/clocks.py:
  sla_due_at, sla_warn_at): breached once due, due soon from the warning share on.
"""
from datetime import datetime

from django.db.models import Case, DateTimeField, F, Q, QuerySet, When

from apps.inbox.clocks import BREACHED, WARNING
from apps.inbox.models import Conversation
from apps.sla.models import Clock

MET = Q(status=Clock.Status.STOPPED, elapsed_seconds__lte=F("target_seconds"))


def first_response_clocks(*, start: datetime, until: datetime, conversation_q: Q = Q()) -> QuerySet[Clock]:
    """First-response clocks settled in [start, until), annotated with `settled_at`; `conversation_q`
    filters their conversations (prefix "conversation__")."""
    settled = Case(When(status=Clock.Status.STOPPED, then=F("stopped_at")), default=F("due_at"), output_field=DateTimeField())
    return (
        Clock.objects.filter(kind=Clock.Kind.FIRST_RESPONSE)
        .filter(Q(status=Clock.Status.STOPPED, stopped_at__gte=start, stopped_at__lt=until)
                | Q(status=Clock.Status.RUNNING, due_at__gte=start, due_at__lt=until))
        .filter(conversation_q)
        .exclude(conversation__status=Conversation.Status.SPAM)
        .alias(settled_at=settled)
    )


def due_soon_q(*, now: datetime, prefix: str = "") -> Q:
    """Past the warning share of the active clock, not yet due."""
    return Q(**{f"{prefix}sla_warn_at__lte": now, f"{prefix}sla_due_at__gt": now})


def breached_q(*, now: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}sla_due_at__lte": now})


def at_risk(queryset, *, now: datetime, limit: int) -> list:
    """The conversations of `queryset` breached or due soon, the earliest due first, with `.due_at`
    and `.sla_state`: one range on the stored warning time, ordered by the stored due time."""
    rows = list(queryset.filter(sla_warn_at__lte=now, sla_due_at__isnull=False).order_by("sla_due_at", "id")[:limit])
    for c in rows:
        c.due_at = c.sla_due_at
        c.sla_state = BREACHED if c.sla_due_at <= now else WARNING
    return rows
