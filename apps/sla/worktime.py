"""Working-time arithmetic on a business-hours calendar. Pure: no database, no clock.

A `Schedule` is a calendar frozen into plain values (hashable, so each day's open intervals are
computed once per process). Its periods are local wall-clock times in its time zone; each day's
open intervals are turned into real instants, so an hour of work is an hour of real time even on
the days the clocks go forward or back (Europe/Madrid: the last Sundays of March and October).
A holiday (from the `holidays` library for the calendar's country and region, or one of the
company's own dates) has no working time; a closure removes part of a day (or all of it).

    add_working(start, seconds, schedule)      -> the instant `seconds` of working time later
                                                  (earlier when negative)
    working_seconds(start, end, schedule)      -> working seconds between two instants
                                                  (negative when end < start)
    next_change(at, schedule)                  -> (open now?, when that changes)
"""
import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib

DAY_MINUTES = 24 * 60
# A calendar open less than this often is a mistake: arithmetic gives up instead of looping on.
SEARCH_DAYS = 3 * 366


class NeverOpen(ValueError):
    """The calendar has no working time in the search window."""


@dataclass(frozen=True)
class Schedule:
    time_zone: str = "UTC"
    always_open: bool = False
    # weekday (0 = Monday) -> ((start minute, end minute), ...); end up to 1440 (midnight).
    periods: tuple[tuple[tuple[int, int], ...], ...] = field(default_factory=lambda: ((),) * 7)
    country: str = ""
    subdivision: str = ""
    # The company's own days off.
    own_dates: frozenset[date] = frozenset()
    # (day, start minute, end minute): closed that day between those times.
    closures: tuple[tuple[date, int, int], ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.time_zone)

    def is_holiday(self, day: date) -> bool:
        return day in self.own_dates or (bool(self.country) and day in public_holidays(self.country, self.subdivision, day.year))


def always_open(time_zone: str = "UTC") -> Schedule:
    return Schedule(time_zone=time_zone, always_open=True)


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.lru_cache(maxsize=256)
def public_holidays(country: str, subdivision: str, year: int) -> dict[date, str]:
    """The country's (and region's) public holidays of one year: {date: name}."""
    return dict(holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year).items())


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    # Wall-clock time of that day; 1440 is the next midnight. A time skipped by a DST change
    # (02:30 on the last Sunday of March) resolves to the instant the clocks jumped past.
    if minute >= DAY_MINUTES:
        day, minute = day + timedelta(days=1), minute - DAY_MINUTES
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).astimezone(UTC)


@functools.lru_cache(maxsize=8192)
def day_intervals(schedule: Schedule, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The open intervals of one local day, as UTC instants, in order."""
    tz = schedule.tz
    if schedule.always_open:
        return ((_local(day, 0, tz), _local(day, DAY_MINUTES, tz)),)
    if schedule.is_holiday(day):
        return ()
    spans = list(schedule.periods[day.weekday()])
    for closed_day, start, end in schedule.closures:
        if closed_day == day:
            spans = _subtract(spans, start, end)
    result = []
    for start, end in sorted(spans):
        a, b = _local(day, start, tz), _local(day, end, tz)
        if b > a:
            result.append((a, b))
    return tuple(result)


def _subtract(spans: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    out = []
    for a, b in spans:
        if end <= a or start >= b:
            out.append((a, b))
            continue
        if a < start:
            out.append((a, start))
        if end < b:
            out.append((end, b))
    return out


def _local_date(instant: datetime, schedule: Schedule) -> date:
    return instant.astimezone(schedule.tz).date()


def add_working(start: datetime, seconds: float, schedule: Schedule) -> datetime:
    """The instant at which `seconds` of working time have passed since `start` (counting
    backwards when negative). Zero returns `start` itself, open or not."""
    if seconds == 0:
        return start
    start = start.astimezone(UTC)  # arithmetic on real time: an aware local datetime adds wall-clock time
    if schedule.always_open:
        return start + timedelta(seconds=seconds)
    remaining = timedelta(seconds=abs(seconds))
    day = _local_date(start, schedule)
    step = 1 if seconds > 0 else -1
    for _ in range(SEARCH_DAYS):
        intervals = day_intervals(schedule, day)
        for a, b in intervals if step > 0 else reversed(intervals):
            if step > 0:
                if b <= start:
                    continue
                a = max(a, start)
                if remaining <= b - a:
                    return a + remaining
                remaining -= b - a
            else:
                if a >= start:
                    continue
                b = min(b, start)
                if remaining <= b - a:
                    return b - remaining
                remaining -= b - a
        day += timedelta(days=step)
    raise NeverOpen("the calendar has no working time within three years")


def working_seconds(start: datetime, end: datetime, schedule: Schedule) -> float:
    """Working seconds between two instants; negative when `end` is before `start`."""
    if end < start:
        return -working_seconds(end, start, schedule)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if schedule.always_open:
        return (end - start).total_seconds()
    total = timedelta()
    day, last = _local_date(start, schedule), _local_date(end, schedule)
    while day <= last:
        for a, b in day_intervals(schedule, day):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds()


def next_change(at: datetime, schedule: Schedule) -> tuple[bool, datetime | None]:
    """(whether working time runs at `at`, the instant that changes; None: never within the window)."""
    if schedule.always_open:
        return True, None
    at = at.astimezone(UTC)
    day = _local_date(at, schedule)
    for _ in range(SEARCH_DAYS):
        for a, b in day_intervals(schedule, day):
            if b <= at:
                continue
            if a <= at:
                return True, b
            return False, a
        day += timedelta(days=1)
    return False, None
