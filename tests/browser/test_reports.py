"""The supervisor's room in a real browser: every report draws its chart (Chart.js from static/),
the topics arrive from the Celery task, a CSV downloads, the wallboard moves live, and the
Content-Security-Policy reports no violation."""
import csv
import io
import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.reports.tables import TABLES
from apps.routing.models import TeamRouting
from tests.browser.conftest import login, off_loop
from tests.browser.test_csp import Violations
from tests.builders import cache_clear
from tests.celery_routing import tasks_routed_to
from tests.live_server import desk_queue
from tests.reports.conftest import madrid, outside, week  # noqa: F401  (fixtures: a known week, Madrid time)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SHOTS = os.environ.get("CENTRALITA_SCREENSHOTS")  # a directory: save the pages' screenshots there (docs/img)
CHARTS = [t.slug for t in TABLES if t.slug != "heatmap" and t.chart]  # a table may come without a chart (deflection)


def _shot(page, name, full_page=True):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=full_page)


def test_the_reports_page_draws_every_chart_loads_topics_and_downloads_a_csv(page, desk_url, desk_worker, week, inbound):  # noqa: F811
    from datetime import datetime, timezone

    from apps.inbox.services.ingest import messages_ingest
    from tests.reports.test_topics import LABELLED

    # questions for the topics: Wednesday 18 Nov, 15:00 UTC, on the API channel
    wednesday = datetime(2026, 11, 18, 15, tzinfo=timezone.utc)
    texts = [t for messages in LABELLED.values() for t in messages]
    off_loop(messages_ingest, messages=[inbound(week.api, email=f"q{i}@example.com", sent_at=wednesday, text=t) for i, t in enumerate(texts)])
    cache_clear()  # no topics report cached by an earlier run for the same week
    violations = Violations(page)
    login(page, week.supervisor, desk_url)
    page.goto(f"{desk_url}/reports/?start=2026-11-16&end=2026-11-22")
    # every chart drawn by Chart.js (served from static/vendor, no CDN), with its table beside it
    for slug in CHARTS:
        expect(page.locator(f'canvas[data-chart="{slug}"]')).to_have_attribute("data-drawn", "1")
        expect(page.locator(f'#report-{slug} a[data-csv="{slug}"]')).to_be_visible()
    assert page.evaluate("typeof window.Chart") == "function"
    # the heatmap: 7 days x 24 hours. The server process runs on its own settings (UTC, not the
    # Madrid of tests/reports): Monday 08:00 UTC holds c1 and c2
    expect(page.locator("table.heatmap tbody td")).to_have_count(168)
    expect(page.locator("table.heatmap tbody tr").nth(0).locator("td").nth(8)).to_have_text("2")
    # SLA compliance by the day a first response settled, in UTC: c4 and c5 were answered on Tuesday
    # 00:30 in Madrid, Monday 23:30 in UTC, so Monday holds all five (c3 missed): 80 %
    expect(page.locator("#report-sla-trend table.data tbody tr").first).to_contain_text("80.0 %")
    # the topics come from the worker's task, then the page shows them with their chart
    expect(page.locator('canvas[data-chart="topics"]')).to_have_attribute("data-drawn", "1", timeout=90_000)
    expect(page.locator("table.topics tbody tr").first).to_be_visible()
    _shot(page, "reports.png")
    _shot(page, "reports-top.png", full_page=False)  # the first screen (the README's picture)
    # the response tables carry the working-time median and p90 beside the wall-clock ones
    expect(page.locator("#report-first-response-by-channel table.data thead")).to_contain_text("Median, working time")
    if SHOTS:  # the same page in Spanish (the supervisor's profile language)
        off_loop(type(week.supervisor).objects.filter(pk=week.supervisor.pk).update, language="es")
        page.reload()
        expect(page.locator('canvas[data-chart="topics"]')).to_have_attribute("data-drawn", "1", timeout=90_000)
        expect(page.locator("#report-first-response-by-channel table.data thead")).to_contain_text("Mediana, tiempo laborable")
        _shot(page, "reports-es.png")
        off_loop(type(week.supervisor).objects.filter(pk=week.supervisor.pk).update, language="")
        page.reload()
    # a CSV beside the chart downloads the table
    with page.expect_download() as download:
        page.locator('a[data-csv="volume"]').click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["Day", "Channel", "Channel name", "Messages (messages)"]
    # c5 came at 23:30 UTC Monday; the 24 questions on Wednesday
    assert rows[1:] == [["2026-11-16", "api", "API", "2"], ["2026-11-16", "email", "Email", "4"], ["2026-11-18", "api", "API", "24"]]
    assert violations.seen() == []


def test_the_wallboard_renders_and_moves_live(page, desk_url, desk_worker, make_user, team, make_account, inbound):
    from django.utils import timezone

    from apps.inbox.services.ingest import messages_ingest

    violations = Violations(page)
    supervisor = make_user(role=Role.SUPERVISOR, username="sara")
    make_user(teams=[team], username="agent_ana")
    account = make_account(team=team)
    off_loop(TeamRouting.objects.create, team=team, max_open_per_agent=5)
    login(page, supervisor, desk_url)
    page.goto(f"{desk_url}/reports/wallboard/")
    expect(page.locator("#live")).to_have_class("live online")
    expect(page.locator("#kpi-waiting")).to_have_text("0")
    expect(page.locator('#agents li[data-status="offline"]')).to_have_count(1)
    # her load against her team's capacity (routing's rule)
    expect(page.locator('#agents li [data-field="load"]')).to_have_text("0 / 5")
    # when two customers write, the board shows them waiting without a reload
    with tasks_routed_to(desk_queue(), "apps.reports.tasks.wallboard_publish", "apps.reports.tasks.wallboard_flush"):
        for email in ("uno@example.com", "two@example.com"):
            off_loop(messages_ingest, messages=[inbound(account, email=email, sent_at=timezone.now())])
    expect(page.locator("#kpi-waiting")).to_have_text("2")
    expect(page.locator('#queues tbody td[data-field="waiting"]')).to_have_text(["2"])
    _shot(page, "wallboard.png")
    if SHOTS:
        off_loop(type(supervisor).objects.filter(pk=supervisor.pk).update, language="es")
        page.reload()
        expect(page.locator("#kpi-waiting")).to_have_text("2")
        expect(page.locator("#live")).to_have_class("live online")
        _shot(page, "wallboard-es.png")
    assert violations.seen() == []


def test_the_desk_links_to_the_room_for_supervisors_only(page, desk_url, make_user):
    supervisor, agent = make_user(role=Role.SUPERVISOR), make_user()
    login(page, supervisor, desk_url)
    page.goto(f"{desk_url}/")
    expect(page.locator("#link-wallboard")).to_be_visible()
    expect(page.locator("#link-reports")).to_be_visible()
    # Leave the desk first: with its session gone, the open desk's socket is refused and the
    # page sends itself to the login page, which would abort the next navigation.
    page.goto("about:blank")
    page.context.clear_cookies()
    login(page, agent, desk_url)
    page.goto(f"{desk_url}/")
    expect(page.locator("#link-reports")).to_have_count(0)
    assert page.goto(f"{desk_url}/reports/").status == 403
