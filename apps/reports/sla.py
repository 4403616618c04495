"""The SLA rules the supervisor's room counts with, in ONE place.

Today they come from apps/sla/state.py (settings-based first-response targets per priority,
clock on `Conversation.waiting_since` / `first_inbound_at`). When real SLA policies land with
due times stored on the conversation (e.g. `Conversation.sla_due_at`), only this class changes:
`first_response_due()` becomes `F("sla_due_at")` (or the stored first-response due time), the
two filters become ranges on the stored due time, and `at_risk()` one ordered query.
Everything in apps/reports reads SLA facts through `sla_rules()`.
"""
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, Value, When

from apps.sla import state


class CurrentSla:
    """First-response targets per priority (apps/sla/state.py)."""

    def targets(self) -> dict[int, timedelta]:
        return {priority: state.target(priority) for priority in sorted(settings.SLA_FIRST_RESPONSE_MINUTES)}

    def longest_target(self) -> timedelta:
        return max(self.targets().values())

    def due_soon_q(self, *, now: datetime, prefix: str = "") -> Q:
        """Waiting now and past the warning share of the target, not yet breached."""
        return state.sla_filter_q(state.WARNING, now=now, prefix=prefix)

    def breached_q(self, *, now: datetime, prefix: str = "") -> Q:
        return state.sla_filter_q(state.BREACHED, now=now, prefix=prefix)

    def first_response_due(self, prefix: str = ""):
        """When the first response was due, as an SQL expression (first inbound + target)."""
        return self._plus_target(f"{prefix}first_inbound_at", prefix)

    def waiting_due(self, prefix: str = ""):
        """When the current wait breaches (oldest unanswered inbound + target)."""
        return self._plus_target(f"{prefix}waiting_since", prefix)

    def _plus_target(self, field: str, prefix: str):
        whens = [
            When(**{f"{prefix}priority": priority}, then=ExpressionWrapper(F(field) + Value(target), output_field=DateTimeField()))
            for priority, target in self.targets().items()
        ]
        default = ExpressionWrapper(F(field) + Value(state.target(1)), output_field=DateTimeField())
        return Case(*whens, default=default, output_field=DateTimeField())

    def at_risk(self, queryset, *, now: datetime, limit: int):
        """The conversations of `queryset` breached or due soon, the earliest due first, with
        `.due_at` and `.sla_state`: per priority one range on the conv_waiting index (priority,
        waiting_since) up to the warning threshold, the longest waits first; merged here."""
        rows = []
        for priority, target in self.targets().items():
            warn_from = now - target * settings.SLA_WARNING_RATIO
            chunk = list(
                queryset.filter(priority=priority, status__in=state.CLOCKED_STATUSES, waiting_since__lte=warn_from)
                .order_by("waiting_since", "id")[:limit]
            )
            for c in chunk:
                c.due_at = c.waiting_since + target
                c.sla_state = state.BREACHED if c.due_at <= now else state.WARNING
            rows += chunk
        rows.sort(key=lambda c: (c.due_at, c.id))
        return rows[:limit]


def sla_rules() -> CurrentSla:
    return CurrentSla()
