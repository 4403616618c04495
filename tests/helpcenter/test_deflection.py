"""Deflection: suggestions shown to a web-form visit, the article opened, the form sent anyway;
the rate per day in the reports (page, JSON, CSV)."""
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from apps.helpcenter.models import DeflectionEvent

MADRID = ZoneInfo("Europe/Madrid")


def visit_shown(client, q="refund"):
    visit = str(uuid.uuid4())
    assert client.get("/help/suggest/", {"q": q, "lang": "en", "visit": visit}).json()["articles"]
    return visit


def event(client, **data):
    return client.post("/help/events/", data, content_type="application/json")


@pytest.mark.django_db
def test_shown_opened_and_sent_are_recorded_once_per_visit(shop):
    client = Client()
    visit = visit_shown(client)
    # typing on: the same article again is not a second "shown"
    client.get("/help/suggest/", {"q": "refunds", "lang": "en", "visit": visit})
    assert DeflectionEvent.objects.filter(visit=visit, kind="shown").count() == 1
    assert event(client, visit=visit, kind="opened", article=shop["returns_en"].id).status_code == 204
    assert event(client, visit=visit, kind="submitted").status_code == 204
    assert event(client, visit=visit, kind="submitted").status_code == 204
    assert list(DeflectionEvent.objects.filter(visit=visit).order_by("id").values_list("kind", "article_id")) == [
        ("shown", shop["returns_en"].id), ("opened", shop["returns_en"].id), ("submitted", None)]


@pytest.mark.django_db
def test_bad_events_are_refused_and_drafts_never_counted(shop):
    client = Client()
    visit = str(uuid.uuid4())
    assert event(client, visit="nope", kind="opened", article=1).status_code == 400
    assert event(client, visit=visit, kind="shown", article=1).status_code == 400  # shown comes from suggest only
    assert event(client, visit=visit, kind="opened").status_code == 400
    assert client.post("/help/events/", "not json", content_type="application/json").status_code == 400
    assert client.post("/help/events/", "x" * 5000, content_type="application/json").status_code == 413
    assert client.get("/help/events/").status_code == 405
    assert event(client, visit=visit, kind="opened", article=shop["draft"].id).status_code == 204
    assert not DeflectionEvent.objects.filter(visit=visit).exists()


@pytest.mark.django_db
def test_the_deflection_rate_per_day_in_the_reports(shop, supervisor, settings, django_assert_max_num_queries):
    settings.REPORTS_TIME_ZONE = "Europe/Madrid"  # the company's days
    client = Client()
    # given three visits on 3 March (Madrid): one sent the form anyway, one opened an article and left, one just left
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=MADRID), tick=False):
        sent, opened, left = visit_shown(client), visit_shown(client), visit_shown(client, "password")
        event(client, visit=sent, kind="submitted")
        event(client, visit=opened, kind="opened", article=shop["returns_en"].id)
    # and on 4 March at 00:30 Madrid (still 3 March in UTC) one more that sent the form
    with time_machine.travel(datetime(2026, 3, 4, 0, 30, tzinfo=MADRID), tick=False):
        late = visit_shown(client)
        event(client, visit=late, kind="submitted")
    # a form sent without any suggestion is no visit of this report
    event(client, visit=str(uuid.uuid4()), kind="submitted")
    staff = Client()
    staff.force_login(supervisor)
    # when the supervisor asks the reports API (Madrid days)
    with django_assert_max_num_queries(4):
        data = staff.get("/api/reports/deflection/", {"start": "2026-03-01", "end": "2026-03-05"}).json()
    # then
    assert data["rows"] == [
        {"day": "2026-03-03", "visits": 3, "opened": 1, "sent": 1, "deflected": 2, "deflection_pct": 66.7},
        {"day": "2026-03-04", "visits": 1, "opened": 0, "sent": 1, "deflected": 0, "deflection_pct": 0.0},
    ]
    assert [c["key"] for c in data["columns"]] == ["day", "visits", "opened", "sent", "deflected", "deflection_pct"]
    csv = staff.get("/api/reports/deflection/", {"start": "2026-03-01", "end": "2026-03-05", "format": "csv"}).content.decode()
    assert "2026-03-03,3,1,1,2,66.7" in csv
    page = staff.get("/reports/", {"start": "2026-03-01", "end": "2026-03-05"}).content.decode()
    assert 'id="report-deflection"' in page and "66.7" in page
