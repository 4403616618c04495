"""Working-time arithmetic on a Madrid calendar (Mon–Fri 09–14 and 16–20, Sat 10–14, ES/MD
holidays): lunch, nights, weekends, a national and a regional holiday, both DST changes."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.sla.worktime import NeverOpen, Schedule, add_working, always_open, next_change, working_seconds

MADRID = ZoneInfo("Europe/Madrid")
WEEKDAY = ((9 * 60, 14 * 60), (16 * 60, 20 * 60))
SATURDAY = ((10 * 60, 14 * 60),)
MADRID_DESK = Schedule(time_zone="Europe/Madrid", periods=(WEEKDAY,) * 5 + (SATURDAY, ()), country="ES", subdivision="MD")
SPAIN_ONLY = Schedule(time_zone="Europe/Madrid", periods=(WEEKDAY,) * 5 + (SATURDAY, ()), country="ES")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=MADRID)


def minutes(n) -> float:
    return n * 60


@pytest.mark.parametrize(
    "start, target_minutes, due, why",
    [
        (local(2026, 11, 17, 10, 0), 60, local(2026, 11, 17, 11, 0), "inside the morning"),
        (local(2026, 11, 17, 13, 30), 60, local(2026, 11, 17, 16, 30), "across lunch"),
        (local(2026, 11, 17, 14, 30), 30, local(2026, 11, 17, 16, 30), "written during lunch"),
        (local(2026, 11, 17, 19, 30), 60, local(2026, 11, 18, 9, 30), "across the night"),
        (local(2026, 11, 18, 3, 0), 15, local(2026, 11, 18, 9, 15), "written at night"),
        (local(2026, 11, 20, 19, 55), 120, local(2026, 11, 21, 11, 55), "Friday evening -> Saturday morning"),
        (local(2026, 11, 21, 13, 0), 120, local(2026, 11, 23, 10, 0), "Saturday -> over Sunday -> Monday"),
        (local(2026, 11, 22, 12, 0), 5, local(2026, 11, 23, 9, 5), "written on Sunday"),
        # national holiday: Monday 12 October 2026 (Fiesta Nacional)
        (local(2026, 10, 10, 13, 30), 60, local(2026, 10, 13, 9, 30), "Saturday -> national holiday Monday -> Tuesday"),
        # regional holiday: Monday 2 November 2026 is a holiday in Madrid only
        (local(2026, 10, 31, 13, 0), 120, local(2026, 11, 3, 10, 0), "Saturday -> Madrid's holiday Monday -> Tuesday"),
        # DST ends Sunday 25 October 2026 (03:00 CEST -> 02:00 CET): Monday opens at 09:00 CET
        (local(2026, 10, 24, 13, 0), 120, local(2026, 10, 26, 10, 0), "across the end of summer time"),
        # DST starts Sunday 29 March 2026 (02:00 CET -> 03:00 CEST)
        (local(2026, 3, 28, 13, 30), 60, local(2026, 3, 30, 9, 30), "across the start of summer time"),
        (local(2026, 11, 17, 9, 0), 9 * 60 * 2 + 30, local(2026, 11, 19, 9, 30), "two whole days"),
    ],
)
def test_due_times_on_the_madrid_calendar(start, target_minutes, due, why):
    got = add_working(start, minutes(target_minutes), MADRID_DESK)
    assert got == due, why
    # and the two functions agree: exactly the target of working time lies between
    assert working_seconds(start, got, MADRID_DESK) == minutes(target_minutes)


def test_the_regional_holiday_is_a_working_day_for_a_calendar_without_the_region():
    # given the same hours with Spain's national holidays only
    due = add_working(local(2026, 10, 31, 13, 0), minutes(120), SPAIN_ONLY)
    # then Monday 2 November is worked
    assert due == local(2026, 11, 2, 10, 0)


def test_dst_is_real_time_not_wall_time():
    # Monday after the change opens at 09:00 CET = 08:00 UTC, not 07:00 UTC as summer time would have it
    due = add_working(local(2026, 10, 24, 13, 30), minutes(45), MADRID_DESK)
    assert due.astimezone(ZoneInfo("UTC")) == datetime(2026, 10, 26, 8, 15, tzinfo=ZoneInfo("UTC"))
    # a 24/7 calendar: the day the clocks go back has 25 hours, so 24 working hours end an hour "earlier"
    desk = always_open("Europe/Madrid")
    assert add_working(local(2026, 10, 24, 22, 0), minutes(24 * 60), desk) == local(2026, 10, 25, 21, 0)
    assert working_seconds(local(2026, 10, 25, 0, 0), local(2026, 10, 26, 0, 0), desk) == 25 * 3600
    assert working_seconds(local(2026, 3, 29, 0, 0), local(2026, 3, 30, 0, 0), desk) == 23 * 3600


def test_working_seconds_counts_only_open_time():
    # Friday 19:00 -> Monday 10:00: Friday 1 h + Saturday 4 h + Monday 1 h
    assert working_seconds(local(2026, 11, 20, 19, 0), local(2026, 11, 23, 10, 0), MADRID_DESK) == 6 * 3600
    # the other way round is negative
    assert working_seconds(local(2026, 11, 23, 10, 0), local(2026, 11, 20, 19, 0), MADRID_DESK) == -6 * 3600
    # all of lunch: nothing
    assert working_seconds(local(2026, 11, 17, 14, 0), local(2026, 11, 17, 16, 0), MADRID_DESK) == 0


def test_adding_negative_working_time_goes_back():
    assert add_working(local(2026, 11, 17, 16, 30), -minutes(60), MADRID_DESK) == local(2026, 11, 17, 13, 30)
    assert add_working(local(2026, 11, 23, 9, 30), -minutes(60), MADRID_DESK) == local(2026, 11, 21, 13, 30)
    assert add_working(local(2026, 11, 17, 10, 0), 0, MADRID_DESK) == local(2026, 11, 17, 10, 0)


def test_company_dates_and_partial_closures():
    # given the company's own day off (Wed 18 Nov) and an afternoon closure on Thursday 19 Nov
    desk = Schedule(
        time_zone="Europe/Madrid", periods=(WEEKDAY,) * 5 + (SATURDAY, ()), country="ES", subdivision="MD",
        own_dates=frozenset({date(2026, 11, 18)}), closures=((date(2026, 11, 19), 15 * 60, 24 * 60),),
    )
    # then Tuesday evening's hour runs into Thursday morning, and Thursday's afternoon is closed
    assert add_working(local(2026, 11, 17, 19, 30), minutes(60), desk) == local(2026, 11, 19, 9, 30)
    assert add_working(local(2026, 11, 19, 13, 30), minutes(60), desk) == local(2026, 11, 20, 9, 30)


def test_next_change_tells_whether_the_clock_runs():
    assert next_change(local(2026, 11, 17, 10, 0), MADRID_DESK) == (True, local(2026, 11, 17, 14, 0))
    assert next_change(local(2026, 11, 17, 14, 0), MADRID_DESK) == (False, local(2026, 11, 17, 16, 0))
    assert next_change(local(2026, 10, 11, 12, 0), MADRID_DESK) == (False, local(2026, 10, 13, 9, 0))
    assert next_change(local(2026, 11, 17, 10, 0), always_open()) == (True, None)


def test_a_calendar_that_never_opens_is_an_error_not_a_hang():
    with pytest.raises(NeverOpen):
        add_working(local(2026, 11, 17, 10, 0), 60, Schedule(time_zone="Europe/Madrid"))
    assert next_change(local(2026, 11, 17, 10, 0), Schedule()) == (False, None)
    assert working_seconds(local(2026, 11, 17), local(2026, 11, 17) + timedelta(days=3), Schedule()) == 0
