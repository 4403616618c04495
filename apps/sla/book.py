"""The policies and calendars in force, loaded once and kept in each process until one changes.

Every clock decision and every row's badge needs them; reading three tables for each would cost
queries on every list page and ingest batch. A version number in the shared cache says when a
process must reload (sla services bump it on every write); a process looks at it at most every
CHECK_SECONDS, so a change reaches every process within that time.
"""
import threading
import time
from dataclasses import dataclass, field

from django.core.cache import cache

from .models import BusinessCalendar, CalendarClosure, CalendarPeriod, SlaPolicy
from .worktime import Schedule, always_open

VERSION_KEY = "sla:book-version"
CHECK_SECONDS = 2.0
UTC_24_7 = always_open("UTC")


@dataclass
class Book:
    version: int = 0
    policies: list[SlaPolicy] = field(default_factory=list)  # enabled, in order
    by_id: dict[int, SlaPolicy] = field(default_factory=dict)  # every policy, disabled too
    schedules: dict[int, Schedule] = field(default_factory=dict)  # calendar id -> Schedule

    def pick(self, *, channel_kind: str, team_id: int | None, priority: int, tags) -> SlaPolicy | None:
        for policy in self.policies:
            if policy.matches(channel_kind=channel_kind, team_id=team_id, priority=priority, tags=tags):
                return policy
        return None

    def schedule_of(self, policy_id: int | None) -> Schedule:
        policy = self.by_id.get(policy_id)
        return self.schedules.get(policy.calendar_id, UTC_24_7) if policy else UTC_24_7


_lock = threading.Lock()
_book = Book(version=-1)
_checked = 0.0


def book() -> Book:
    global _book, _checked
    now = time.monotonic()
    if now - _checked < CHECK_SECONDS and _book.version >= 0:
        return _book
    version = cache.get(VERSION_KEY, 0)
    with _lock:
        if _book.version != version:
            _book = _load(version)
        _checked = now
    return _book


def book_changed() -> None:
    """Called by every write to calendars and policies: all processes reload."""
    global _checked
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)
    _checked = 0.0


def _load(version: int) -> Book:
    periods, closures = {}, {}
    for p in CalendarPeriod.objects.all():
        periods.setdefault(p.calendar_id, []).append(p)
    for c in CalendarClosure.objects.all():
        closures.setdefault(c.calendar_id, []).append(c)
    schedules = {
        cal.id: cal.schedule(periods.get(cal.id, []), closures.get(cal.id, []))
        for cal in BusinessCalendar.objects.all()
    }
    all_policies = list(SlaPolicy.objects.all())
    return Book(
        version=version,
        policies=[p for p in all_policies if p.enabled],
        by_id={p.id: p for p in all_policies},
        schedules=schedules,
    )


def book_reset() -> None:
    """Tests: forget this process's copy (a rolled-back test may have left policies in it)."""
    global _book, _checked
    with _lock:
        _book, _checked = Book(version=-1), 0.0
