"""Writes of the sla app: calendars and policies (supervisors and admins), and the sweep that
fires each warning and breach once.

The sweep (Celery beat, every SLA_SWEEP_SECONDS) reads the clocks whose next check is due from a
small partial index (Clock.next_check_at: only running clocks with a warning or breach ahead),
then locks their conversations (id order) and the clocks (lock order: conversation, then its
clocks, as the inbox services take them) and checks again: a clock answered, paused or
re-targeted meanwhile is skipped or re-timed, and a clock already fired has no next check, so a
second sweep, a slow beat or two workers never fire it twice.
"""
import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from apps.accounts.models import Role, User
from apps.audit.services import audit_record
from apps.core.bulk import rows_update
from apps.core.errors import ApplicationError
from apps.inbox.models import Conversation
from apps.inbox.services.clocks import SlaAlert, conversations_sla_alert
from apps.inbox.services.conversations import conversation_update

from .book import book_changed
from .clocks import _next_check
from .models import BusinessCalendar, CalendarClosure, CalendarPeriod, Clock, Escalation, SlaPolicy
from .worktime import NeverOpen, add_working

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500
CLOCK_NAMES = {
    Clock.Kind.FIRST_RESPONSE: _lazy("First response"),
    Clock.Kind.NEXT_RESPONSE: _lazy("Next response"),
    Clock.Kind.RESOLUTION: _lazy("Resolution"),
}


# --- the sweep ---------------------------------------------------------------------------------


def clocks_sweep(*, now: datetime | None = None) -> dict:
    """Fire the warnings and breaches that are due; returns {"warnings": n, "breaches": n}.

    One transaction per batch, set-based: the conversations locked in id order (as ingest locks
    them), then their due clocks, re-checked under the lock; one statement each for the clocks,
    the audit events and the notifications. Escalations go through conversation_update."""
    now = now or timezone.now()
    fired = {"warnings": 0, "breaches": 0}
    while True:
        due = list(
            Clock.objects.filter(next_check_at__lte=now).order_by("next_check_at").values_list("id", "conversation_id")[:SWEEP_BATCH]
        )
        try:
            batches = [_fire_batch(due, now)] if due else []
        except Exception:  # a bad clock must not hold back the others: again one by one, each on its own
            logger.exception("SLA sweep batch of %d failed; firing its clocks one by one", len(due))
            batches = []
            for one in due:
                try:
                    batches.append(_fire_batch([one], now))
                except Exception:
                    logger.exception("SLA clock %s could not be swept", one[0])
            if len(due) == SWEEP_BATCH:
                due = due[:-1]  # stop after this round: the failing clock would come back first
        for batch in batches:
            fired["warnings"] += batch["warnings"]
            fired["breaches"] += batch["breaches"]
        if len(due) < SWEEP_BATCH:
            return fired


def _fire_batch(due: list[tuple[int, int]], now: datetime) -> dict:
    result = {"warnings": 0, "breaches": 0}
    with transaction.atomic():
        conversations = Conversation.objects.select_for_update().filter(pk__in={c for _, c in due}).order_by("id").in_bulk()
        clocks = list(
            Clock.objects.select_for_update(of=("self",)).select_related("policy")
            .filter(pk__in=[i for i, _ in due], next_check_at__lte=now).order_by("conversation_id", "id")
        )
        supervisors = _supervisors_by_team({conversations[k.conversation_id].team_id for k in clocks if k.conversation_id in conversations})
        alerts, escalate = [], {}  # one escalation per conversation, whichever of its clocks breached
        for clock in clocks:
            conversation = conversations.get(clock.conversation_id)
            if conversation is None:
                continue
            breached = clock.due_at is not None and clock.due_at <= now
            clock.warned_at = clock.warned_at or now
            if breached:
                clock.breached_at = now
            clock.next_check_at = _next_check(clock)
            alerts.append(_alert(conversation, clock, breached, supervisors))
            result["breaches" if breached else "warnings"] += 1
            if breached and clock.policy is not None:
                escalate.setdefault(conversation.id, clock.policy)
        rows_update(clocks, ["warned_at", "breached_at", "next_check_at"])
        conversations_sla_alert(alerts=alerts)
        for conversation_id, policy in escalate.items():
            _escalate(conversations[conversation_id], policy)
    return result


def _alert(conversation: Conversation, clock: Clock, breached: bool, supervisors: dict) -> SlaAlert:
    policy = clock.policy
    data = {
        "clock": clock.kind, "clock_id": clock.id, "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "policy": policy.id if policy else None, "policy_name": policy.name if policy else None,
    }
    recipients = [conversation.assignee_id] if conversation.assignee_id else []
    name = str(CLOCK_NAMES[clock.kind])
    if breached:
        recipients += supervisors.get(conversation.team_id) or supervisors.get(None, [])
        data["escalation"] = policy.escalation if policy else Escalation.NOTIFY
        text = _("%(clock)s overdue on conversation #%(id)s") % {"clock": name, "id": conversation.id}
    else:
        text = _("%(clock)s due soon on conversation #%(id)s") % {"clock": name, "id": conversation.id}
    subject = conversation.subject or conversation.last_message_preview
    if subject:
        text += f": {subject}"
    return SlaAlert(conversation=conversation, breached=breached, data=data, notify_user_ids=recipients, text=text)


def _supervisors_by_team(team_ids: set) -> dict:
    """team id -> its supervisors' ids; None -> every supervisor (for no team, or a team with none). One query."""
    by_team = {None: []}
    rows = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("id").values_list("id", "teams")
    for user_id, team_id in rows:
        if user_id not in by_team[None]:
            by_team[None].append(user_id)
        if team_id in team_ids:
            by_team.setdefault(team_id, []).append(user_id)
    return by_team


def _escalate(conversation: Conversation, policy: SlaPolicy) -> None:
    if policy.escalation == Escalation.RAISE_PRIORITY and conversation.priority < Conversation.Priority.URGENT:
        conversation_update(conversation=conversation, actor=None, priority=conversation.priority + 1)
    elif policy.escalation == Escalation.TEAM_QUEUE and conversation.assignee_id is not None:
        conversation_update(conversation=conversation, actor=None, assignee=None)


# --- calendars and policies -----------------------------------------------------------------


CALENDAR_FIELDS = ("name", "time_zone", "always_open", "holiday_country", "holiday_subdivision")
POLICY_FIELDS = (
    "name", "position", "enabled", "calendar", "channel_kind", "team", "priority", "tag", "first_response_minutes",
    "next_response_minutes", "resolution_minutes", "warning_percent", "escalation",
)


def _plain(value):
    """A field's value as the audit log keeps it (JSON): an object by its id, times as text."""
    value = getattr(value, "pk", value)
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def _audit(actor, action: str, target, before: dict | None, after: dict | None) -> None:
    audit_record(actor=actor, action=action, target=target,
                 before={k: _plain(v) for k, v in (before or {}).items()} or None,
                 after={k: _plain(v) for k, v in (after or {}).items()} or None)


def calendar_save(*, calendar: BusinessCalendar | None = None, periods: list[dict] | None = None,
                  closures: list[dict] | None = None, actor=None, **fields) -> BusinessCalendar:
    """Create or change a calendar; `periods` ({weekday, start, end}) and `closures` ({name,
    date_from, date_to, start, end}) replace the calendar's lists when given."""
    unknown = set(fields) - set(CALENDAR_FIELDS)
    if unknown:
        raise ApplicationError("These fields cannot be set", extra={"fields": sorted(unknown)})
    with transaction.atomic():
        calendar = calendar or BusinessCalendar()
        before = {name: getattr(calendar, name) for name in fields} if calendar.pk else {}
        for name, value in fields.items():
            setattr(calendar, name, value)
        calendar.holiday_country = calendar.holiday_country.upper()
        calendar.holiday_subdivision = calendar.holiday_subdivision.upper()
        _check_holidays(calendar)
        calendar.save()
        if periods is not None:
            rows = [CalendarPeriod(calendar=calendar, **p) for p in periods]
            for p in rows:
                _check_span(p.start, p.end, _("A period"))
            calendar.periods.all().delete()
            CalendarPeriod.objects.bulk_create(rows)
        if closures is not None:
            rows = [CalendarClosure(calendar=calendar, **c) for c in closures]
            for c in rows:
                if c.date_to and c.date_to < c.date_from:
                    raise ApplicationError(_("A closure ends before it starts"), extra={"closure": c.name})
                if (c.start is None) != (c.end is None):
                    raise ApplicationError(_("A partial closure needs both start and end"), extra={"closure": c.name})
                if c.start is not None:
                    _check_span(c.start, c.end, _("A closure"))
            calendar.closures.all().delete()
            CalendarClosure.objects.bulk_create(rows)
        if not calendar.always_open:
            try:  # a calendar with no working time at all would stop every clock it runs
                add_working(timezone.now(), 60, calendar.schedule())
            except NeverOpen:
                raise ApplicationError(_("The calendar has no working time: add periods or make it 24/7")) from None
        after = {**fields, **({"periods": len(periods)} if periods is not None else {}),
                 **({"closures": len(closures)} if closures is not None else {})}
        _audit(actor, "sla.calendar_changed" if before else "sla.calendar_created", calendar, before, after)
        _changed()
    return calendar


def _check_span(start, end, what: str) -> None:
    if end.hour == 0 and end.minute == 0:
        return  # until midnight
    if end <= start:
        raise ApplicationError(_("%(what)s must end after it starts") % {"what": what},
                               extra={"start": start.isoformat(), "end": end.isoformat()})


def _check_holidays(calendar: BusinessCalendar) -> None:
    if not calendar.holiday_country:
        if calendar.holiday_subdivision:
            raise ApplicationError(_("A region needs its country"))
        return
    import holidays

    supported = holidays.list_supported_countries()
    if calendar.holiday_country not in supported:
        raise ApplicationError(_("Unknown holiday country"), extra={"country": calendar.holiday_country})
    if calendar.holiday_subdivision and calendar.holiday_subdivision not in supported[calendar.holiday_country]:
        raise ApplicationError(
            _("Unknown region for this country"),
            extra={"subdivision": calendar.holiday_subdivision, "allowed": supported[calendar.holiday_country]},
        )


def calendar_delete(*, calendar: BusinessCalendar, actor=None) -> None:
    if calendar.policies.exists():
        raise ApplicationError(_("Policies use this calendar"), extra={"policies": list(calendar.policies.values_list("id", flat=True))},
                               status_code=409)
    with transaction.atomic():
        _audit(actor, "sla.calendar_deleted", calendar, {"name": calendar.name}, None)
        calendar.delete()
        _changed()


def policy_save(*, policy: SlaPolicy | None = None, actor=None, **fields) -> SlaPolicy:
    """Create or change a policy. Conversations keep the policy and targets they have until
    something they depend on changes (priority, team, tags, a new message): see docs/sla.md."""
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ApplicationError("These fields cannot be set", extra={"fields": sorted(unknown)})
    policy = policy or SlaPolicy()
    before = {name: getattr(policy, name) for name in fields} if policy.pk else {}
    for name, value in fields.items():
        setattr(policy, name, value)
    if not (policy.first_response_minutes or policy.next_response_minutes or policy.resolution_minutes):
        raise ApplicationError(_("A policy needs at least one target"))
    if not 1 <= policy.warning_percent <= 99:
        raise ApplicationError(_("The warning share is a percentage between 1 and 99"))
    if policy.escalation not in Escalation.values:
        raise ApplicationError(_("Unknown escalation"), extra={"allowed": Escalation.values})
    with transaction.atomic():
        policy.save()
        _audit(actor, "sla.policy_changed" if before else "sla.policy_created", policy, before, fields)
        _changed()
    return policy


def policy_delete(*, policy: SlaPolicy, actor=None) -> None:
    with transaction.atomic():
        _audit(actor, "sla.policy_deleted", policy, {"name": policy.name}, None)
        policy.delete()
        _changed()


def _changed() -> None:
    # Now (this process, this transaction's reads) and after commit (every other process).
    book_changed()
    transaction.on_commit(book_changed)
