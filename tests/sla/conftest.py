"""A Madrid desk: Mon–Fri 09:00–14:00 and 16:00–20:00, Sat 10:00–14:00, Spanish and Madrid holidays;
policies made through the services, ahead of the default ones."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from apps.sla.book import book_changed
from apps.sla.models import SlaPolicy
from apps.sla.services import calendar_save, policy_save

MADRID = ZoneInfo("Europe/Madrid")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=MADRID)


def madrid_periods():
    weekday = [(time(9), time(14)), (time(16), time(20))]
    return [{"weekday": d, "start": s, "end": e} for d in range(5) for s, e in weekday] + [
        {"weekday": 5, "start": time(10), "end": time(14)}
    ]


@pytest.fixture
def madrid(db):
    return calendar_save(name="Madrid", time_zone="Europe/Madrid", holiday_country="ES", holiday_subdivision="MD",
                         periods=madrid_periods())


@pytest.fixture
def make_policy(madrid):
    def make(name="Email", **fields):
        fields.setdefault("position", 10)
        fields.setdefault("calendar", madrid)
        return policy_save(name=name, **fields)

    return make


@pytest.fixture
def only_our_policies(db):
    """The default 24/7 policies out of the way: conversations no test policy matches have no clock."""
    SlaPolicy.objects.filter(name__endswith="(default)").update(enabled=False)
    book_changed()
