"""Business-hours calendars, SLA policies and the clocks they run on conversations.

The clocks' summary (which clock is active, its due and warning times, paused) is kept on the
conversation row itself (apps/inbox: Conversation.sla_*), so every list, filter and count is a
range query; the Clock rows here hold each clock's own history and once-only flags.
"""
import zoneinfo
from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .worktime import Schedule


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


class BusinessCalendar(models.Model):
    """When the team works: a time zone, periods per weekday, public holidays of a country (and
    region) from the `holidays` library, the company's own days off and closures. "24/7" ignores
    periods and holidays."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/Madrid", validators=[validate_time_zone])
    always_open = models.BooleanField(default=False, help_text="24/7: every minute counts")
    holiday_country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. ES; blank: no public holidays")
    holiday_subdivision = models.CharField(max_length=10, blank=True, help_text="Region code, e.g. MD (Madrid)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def schedule(self, periods=None, closures=None) -> Schedule:
        """The calendar as plain values for apps/sla/worktime.py (periods/closures: prefetched rows)."""
        periods = list(self.periods.all()) if periods is None else periods
        closures = list(self.closures.all()) if closures is None else closures
        by_day = [[] for _ in range(7)]
        for p in periods:
            by_day[p.weekday].append((_minute(p.start), _minute(p.end, end=True)))
        own, partial = set(), []
        for c in closures:
            day = c.date_from
            while day <= (c.date_to or c.date_from):
                if c.start is None:
                    own.add(day)
                else:
                    partial.append((day, _minute(c.start), _minute(c.end, end=True)))
                day = day.fromordinal(day.toordinal() + 1)
        return Schedule(
            time_zone=self.time_zone, always_open=self.always_open,
            periods=tuple(tuple(sorted(d)) for d in by_day),
            country=self.holiday_country.upper(), subdivision=self.holiday_subdivision.upper(),
            own_dates=frozenset(own), closures=tuple(sorted(partial)),
        )


def _minute(value: time | None, *, end: bool = False) -> int:
    if value is None:
        return 24 * 60
    minute = value.hour * 60 + value.minute
    return 24 * 60 if end and minute == 0 else minute  # an end of 00:00 is midnight


class CalendarPeriod(models.Model):
    """One working period of a weekday, local time (end 00:00 = midnight)."""

    WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
                (5, _("Saturday")), (6, _("Sunday"))]

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]


class CalendarClosure(models.Model):
    """A company day off or closure: whole days from date_from to date_to, or those days between
    start and end (e.g. Christmas Eve from 14:00)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="closures")
    name = models.CharField(max_length=100)
    date_from = models.DateField()
    date_to = models.DateField(null=True, blank=True, help_text="Blank: one day")
    start = models.TimeField(null=True, blank=True, help_text="Blank: the whole day")
    end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["date_from"]


class Escalation(models.TextChoices):
    NOTIFY = "notify", _("Notify only")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority one step")
    TEAM_QUEUE = "team_queue", _("Back to the team queue (unassign)")


class SlaPolicy(models.Model):
    """Targets in working minutes of a calendar. The enabled policy with the lowest position whose
    conditions all match a conversation applies (blank condition = any)."""

    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=100)
    enabled = models.BooleanField(default=True)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="policies")
    # conditions
    channel_kind = models.CharField(max_length=16, blank=True, help_text="email, twitter, facebook, phone, …; blank = any")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    priority = models.SmallIntegerField(null=True, blank=True, choices=[(0, _("Low")), (1, _("Normal")), (2, _("High")), (3, _("Urgent"))])
    tag = models.CharField(max_length=50, blank=True, help_text="A tag the conversation carries, e.g. vip; blank = any")
    # targets (working minutes; blank = no such clock)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    warning_percent = models.PositiveSmallIntegerField(default=75, help_text="Warn when this share of the target is used")
    escalation = models.CharField(max_length=16, choices=Escalation.choices, default=Escalation.NOTIFY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "SLA policies"

    def __str__(self):
        return self.name

    def matches(self, *, channel_kind: str, team_id: int | None, priority: int, tags) -> bool:
        return (
            (not self.channel_kind or self.channel_kind == channel_kind)
            and (self.team_id is None or self.team_id == team_id)
            and (self.priority is None or self.priority == priority)
            and (not self.tag or self.tag in tags)
        )

    def target_minutes(self, clock: str) -> int | None:
        return {
            Clock.Kind.FIRST_RESPONSE: self.first_response_minutes,
            Clock.Kind.NEXT_RESPONSE: self.next_response_minutes,
            Clock.Kind.RESOLUTION: self.resolution_minutes,
        }[clock]


class Clock(models.Model):
    """One SLA clock of a conversation: first response, next response (each later wait) or
    resolution. Time is counted in working seconds of the policy's calendar: `elapsed_seconds`
    before the running segment that began at `segment_start` (None while paused)."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        NEXT_RESPONSE = "next_response", _("Next response")
        RESOLUTION = "resolution", _("Resolution")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")

    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="sla_clocks")
    # No database constraint: a process whose cached policies are a moment old (apps/sla/book.py)
    # must not fail an ingest batch by naming a policy just deleted; Django still nulls it on delete.
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    target_seconds = models.PositiveIntegerField()
    warning_percent = models.PositiveSmallIntegerField(default=75)
    started_at = models.DateTimeField()
    elapsed_seconds = models.FloatField(default=0)
    segment_start = models.DateTimeField(null=True)
    due_at = models.DateTimeField(null=True)
    warn_at = models.DateTimeField(null=True)
    stopped_at = models.DateTimeField(null=True)
    # Once-only: each warning and breach is recorded (and escalated) a single time.
    warned_at = models.DateTimeField(null=True)
    breached_at = models.DateTimeField(null=True)
    # The next instant the sweep must look at this clock: warn_at, then due_at, then never.
    next_check_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            # The sweep: a range on a small partial index (only running clocks with something ahead).
            models.Index(fields=["next_check_at"], condition=models.Q(next_check_at__isnull=False), name="sla_clock_next_check"),
            models.Index(fields=["conversation"], condition=~models.Q(status="stopped"), name="sla_clock_open"),
        ]

    @property
    def is_response(self) -> bool:
        return self.kind in (self.Kind.FIRST_RESPONSE, self.Kind.NEXT_RESPONSE)
