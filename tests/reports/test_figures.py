"""The reports' figures on a known dataset (tests/reports/conftest.py), exactly: counts, medians,
p90, compliance, heatmap cells, CSV; and who may read them."""
import csv
import io
import json
import re

import pytest
import time_machine
from django.urls import reverse

from apps.inbox.services.ingest import messages_ingest
from apps.reports import selectors
from apps.reports.selectors import ReportFilters
from tests.builders import client_for

from .conftest import MADRID, at

pytestmark = pytest.mark.postgres  # percentile_cont

WEEK = {"start": "2026-11-16", "end": "2026-11-22"}


def _filters(**kwargs):
    from datetime import date

    return ReportFilters(start=date(2026, 11, 16), end=date(2026, 11, 22), tz=MADRID, **kwargs)


def _by(rows, key):
    return {r[key]: r for r in rows}


@pytest.fixture
def later():
    with time_machine.travel(at(25, 12), tick=False):
        yield


def test_volume_per_day_and_channel_in_the_company_time_zone(week, later):
    rows = selectors.volume_by_channel(_filters())
    # c5 came at 23:30 UTC on Monday: Tuesday in Madrid
    assert [(r["day"].isoformat(), r["channel"], r["messages"]) for r in rows] == [
        ("2026-11-16", "api", 1), ("2026-11-16", "email", 4), ("2026-11-17", "api", 1),
    ]


def test_heatmap_cells_are_madrid_hours(week, later):
    cells = {(c["weekday"], c["hour"]): c["messages"] for c in selectors.heatmap(_filters())}
    assert len(cells) == 168
    assert {k: v for k, v in cells.items() if v} == {(1, 9): 2, (1, 10): 1, (1, 13): 1, (1, 23): 1, (2, 0): 1}


def test_first_response_median_and_p90_per_channel_and_team(week, later):
    by_channel = _by(selectors.first_response_times(_filters(), by="channel"), "key")
    email, api = by_channel["email"], by_channel["api"]
    assert (email["count"], email["median_seconds"], email["p90_seconds"]) == (3, 1800, 14760)  # 600, 1800, 18000
    assert (api["count"], api["median_seconds"], api["p90_seconds"]) == (2, 1860, pytest.approx(3252))  # 120, 3600
    assert (email["under_5m"], email["5m_15m"], email["15m_1h"], email["1h_4h"], email["4h_24h"]) == (0, 1, 1, 0, 1)
    by_team = _by(selectors.first_response_times(_filters(), by="team"), "key")
    assert by_team[week.team_a.id]["count"] == 3 and by_team[week.team_b.id]["median_seconds"] == 1860


def test_next_response_and_resolution_times(week, later):
    nxt = selectors.next_response_times(_filters(), by="channel")
    assert [(r["key"], r["count"], r["median_seconds"]) for r in nxt] == [("email", 1, 1800)]
    res = _by(selectors.resolution_times(_filters(), by="channel"), "key")
    assert (res["email"]["count"], res["email"]["median_seconds"], res["email"]["p90_seconds"]) == (2, 9000, 10440)
    assert "api" not in res


def test_sla_compliance_per_day_week_and_policy(week, later):
    trend = selectors.sla_compliance_trend(_filters())
    # The default policies (24/7, Normal: 240 min). First-response clocks settle when answered:
    # Monday c1, c2 met, c3 missed (due 17:00, answered 18:00); Tuesday c4 (answered 00:30) and c5 met
    assert [(r["period"].isoformat(), r["due"], r["met"], r["compliance_pct"]) for r in trend] == [
        ("2026-11-16", 3, 2, 66.7), ("2026-11-17", 2, 2, 100.0),
    ]
    weekly = selectors.sla_compliance_trend(_filters(bucket="week"))
    assert [(r["period"].isoformat(), r["due"], r["met"], r["compliance_pct"]) for r in weekly] == [("2026-11-16", 5, 4, 80.0)]
    policy = selectors.sla_compliance_by_policy(_filters())
    assert [(r["policy"], r["target_minutes"], r["due"], r["met"], r["compliance_pct"]) for r in policy] == [
        ("Normal (default)", 240, 5, 4, 80.0)]


def test_agent_performance_and_backlog(week, later):
    agents = _by(selectors.agent_performance(_filters()), "agent")
    a1, a2 = agents["agent1"], agents["agent2"]
    assert (a1["handled"], a1["replies"], a1["first_responses"], a1["median_first_response_seconds"], a1["resolved"]) == (2, 3, 2, 1200, 2)
    assert (a2["handled"], a2["replies"], a2["first_responses"], a2["median_first_response_seconds"], a2["resolved"]) == (3, 3, 3, 3600, 0)
    backlog = selectors.backlog(_filters())
    assert [(r["day"].isoformat(), r["opened"], r["resolved"], r["net"]) for r in backlog[:3]] == [
        ("2026-11-16", 4, 2, 2), ("2026-11-17", 1, 0, 1), ("2026-11-18", 0, 0, 0),
    ]
    assert len(backlog) == 7


def test_a_team_and_a_channel_narrow_every_report(week, later):
    only_b = _filters(team_ids=(week.team_b.id,))
    assert [(r["channel"], r["messages"]) for r in selectors.volume_by_channel(only_b)] == [("api", 1), ("api", 1)]
    only_email = _filters(channel="email")
    assert sum(r["due"] for r in selectors.sla_compliance_trend(only_email)) == 3


def test_csv_beside_each_table(week, later):
    client = client_for(week.supervisor)
    response = client.get("/api/reports/volume/", {**WEEK, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="volume_2026-11-16_2026-11-22.csv"' in response["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["Day", "Channel", "Channel name", "Messages (messages)"],
        ["2026-11-16", "api", "API", "1"], ["2026-11-16", "email", "Email", "4"], ["2026-11-17", "api", "API", "1"],
    ]
    frt = list(csv.reader(io.StringIO(client.get("/api/reports/first-response-by-channel/", {**WEEK, "format": "csv"}).content.decode())))
    assert frt[0][:4] == ["Channel", "Count (conversations)", "Median (s)", "90th percentile (s)"]
    assert frt[2][:4] == ["Email", "3", "1800.0", "14760.0"]


def test_json_api_for_every_table(week, later):
    from apps.reports.tables import TABLES

    client = client_for(week.admin)
    for table in TABLES:
        body = client.get(f"/api/reports/{table.slug}/", WEEK).json()
        assert body["report"] == table.slug and [c["key"] for c in body["columns"]] == [c.key for c in table.columns]
    assert client.get("/api/reports/sla-trend/", WEEK).json()["rows"][0]["compliance_pct"] == 66.7


def test_csv_for_every_table_is_its_json_rows_under_labelled_headers(week, later):
    from apps.reports.tables import TABLES

    client, agent = client_for(week.admin), client_for(week.agent1)
    for table in TABLES:
        assert agent.get(f"/api/reports/{table.slug}/", {**WEEK, "format": "csv"}).status_code == 403, table.slug
        body = client.get(f"/api/reports/{table.slug}/", WEEK).json()
        response = client.get(f"/api/reports/{table.slug}/", {**WEEK, "format": "csv"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), table.slug
        assert f'filename="{table.slug}_2026-11-16_2026-11-22.csv"' in response["Content-Disposition"]
        header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert header == [f"{c['label']} ({c['unit']})" if c["unit"] else c["label"] for c in body["columns"]], table.slug
        assert rows == [["" if r[c["key"]] is None else str(r[c["key"]]) for c in body["columns"]] for r in body["rows"]], table.slug
    # the week's tables are not empty: the comparison above compared figures
    agents = list(csv.reader(io.StringIO(client.get("/api/reports/agents/", {**WEEK, "format": "csv"}).content.decode())))
    assert [row[:3] for row in agents[1:]] == [["agent1", "2", "3"], ["agent2", "3", "3"]]


@pytest.mark.parametrize("params, message", [
    ({"start": "16/11/2026"}, "start and end must be dates as YYYY-MM-DD"),
    ({"start": "2026-11-20", "end": "2026-11-10"}, "start must not be after end"),
    ({"start": "2024-01-01", "end": "2026-11-10"}, "a period spans at most 366 days"),
    ({"channel": "pigeon"}, "unknown channel 'pigeon'"),
    ({"bucket": "month"}, "bucket must be day or week"),
])
def test_bad_filters_are_a_clear_400(week, params, message):
    response = client_for(week.supervisor).get("/api/reports/volume/", params)
    assert response.status_code == 400 and response.json()["message"] == message


def test_agents_get_403_on_every_report_page_and_api(week, later):
    from apps.reports.tables import TABLES

    client = client_for(week.agent1)
    for url in ["/reports/", "/reports/wallboard/", "/api/reports/wallboard/", "/api/reports/topics/",
                *[f"/api/reports/{t.slug}/" for t in TABLES]]:
        assert client.get(url).status_code == 403, url


def test_a_supervisor_with_teams_sees_only_those_teams(week, later):
    scoped = client_for(week.scoped)  # member of team A only
    rows = scoped.get("/api/reports/volume/", WEEK).json()["rows"]
    assert [(r["channel"], r["messages"]) for r in rows] == [("email", 4)]
    assert scoped.get("/api/reports/volume/", {**WEEK, "team": week.team_b.id}).status_code == 403
    assert scoped.get("/reports/", {**WEEK, "team": week.team_b.id}).status_code == 403
    snapshot = scoped.get("/api/reports/wallboard/").json()
    assert set(snapshot["slices"]) == {str(week.team_a.id)}
    # an unscoped supervisor and an admin see every team
    for user in (week.supervisor, week.admin):
        rows = client_for(user).get("/api/reports/volume/", WEEK).json()["rows"]
        assert sum(r["messages"] for r in rows) == 6


def test_the_wallboard_snapshot_at_a_known_moment(week, make_account, inbound):
    from apps.inbox.services.ingest import messages_ingest

    # Tuesday: c6 waits from 07:00 (due 11:00, due soon from 10:00), c7 from 05:00 (breached at 09:00)
    for email, when in (("c6@example.com", at(17, 7)), ("c7@example.com", at(17, 5))):
        with time_machine.travel(when, tick=False):
            messages_ingest(messages=[inbound(week.email, email=email, sent_at=when)])
    with time_machine.travel(at(17, 10, 0), tick=False):
        snap = selectors.wallboard_snapshot()
    queue = _by(snap["queues"], "channel")["email"]
    assert (queue["waiting"], queue["due_soon"], queue["breached"], queue["oldest_wait_seconds"]) == (2, 1, 1, 5 * 3600)
    today = _by(snap["today_by_channel"], "channel")
    # today (Tuesday, Madrid): c4 answered 00:30 (3600 s) and c5 00:32 (120 s); due today: c4, c5 met, c7 missed
    assert (today["api"]["first_responses"], today["api"]["frt_p50"], today["api"]["frt_p90"]) == (2, 1860, pytest.approx(3252))
    assert (today["email"]["sla_due"], today["email"]["sla_met"], today["email"]["sla_compliance_pct"]) == (1, 0, 0.0)
    assert [(c["state"], c["due_at"][:16]) for c in snap["at_risk"]] == [("breached", "2026-11-17T08:00"), ("warning", "2026-11-17T10:00")]
    # each one click from the desk: the conversation's own desk URL
    assert [c["url"] for c in snap["at_risk"]] == [reverse("desk-conversation", args=[c["id"]]) for c in snap["at_risk"]]
    agents = _by(snap["agents"], "name")
    assert agents["agent1"]["status"] == "offline" and agents["agent1"]["open"] == 0


def _page_data(html: str, element_id: str):
    """A page's json_script block (what its script draws from)."""
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def test_a_scoped_supervisor_reads_only_their_teams_in_csv_pages_and_wallboard(week, make_account, inbound):
    """boss_a belongs to team A: the CSV, the reports page and the wallboard (page and API) leave
    team B out; an unscoped supervisor reads both."""
    # Tuesday 10:00: one customer waits on team A's email, one on team B's API channel
    for account, email, when in ((week.email, "wa@example.com", at(17, 8)), (week.api, "wb@example.com", at(17, 9))):
        with time_machine.travel(when, tick=False):
            messages_ingest(messages=[inbound(account, email=email, sent_at=when)])
    scoped, boss = client_for(week.scoped), client_for(week.supervisor)
    with time_machine.travel(at(17, 10), tick=False):
        as_csv = list(csv.reader(io.StringIO(scoped.get("/api/reports/volume/", {**WEEK, "format": "csv"}).content.decode())))
        assert as_csv[1:] == [["2026-11-16", "email", "Email", "4"], ["2026-11-17", "email", "Email", "1"]]
        frt = list(csv.reader(io.StringIO(scoped.get("/api/reports/first-response-by-team/", {**WEEK, "format": "csv"}).content.decode())))
        assert [row[:2] for row in frt[1:]] == [[week.team_a.name, "3"]]
        page = scoped.get("/reports/", WEEK)
        assert page.status_code == 200
        data = _page_data(page.content.decode(), "report-data")
        assert {(r["channel"], r["messages"]) for r in data["volume"]["rows"]} == {("email", 4), ("email", 1)}
        assert [r["label"] for r in data["first-response-by-team"]["rows"]] == [week.team_a.name]
        assert "Team B" not in page.content.decode()  # not even in the team filter
        board = scoped.get("/reports/wallboard/")
        assert board.status_code == 200
        slices = _page_data(board.content.decode(), "wallboard-slices")
        assert list(slices) == [str(week.team_a.id)]
        assert [(q["team_id"], q["channel"], q["waiting"]) for q in slices[str(week.team_a.id)]["queues"]] == [(week.team_a.id, "email", 1)]
        assert slices[str(week.team_a.id)]["today_by_channel"] == []  # all-teams totals: unscoped viewers only
        api = scoped.get("/api/reports/wallboard/").json()["slices"][str(week.team_a.id)]
        assert {q["team_id"] for q in api["queues"]} == {week.team_a.id}
        assert {r["team_id"] for r in api["today_by_team_channel"]} <= {week.team_a.id}
        assert {a["name"] for a in api["agents"]} == {"agent1", "agent2"}  # both are in team A
        everything = boss.get("/api/reports/wallboard/").json()["slices"]["all"]
        assert sorted((q["team_id"], q["waiting"]) for q in everything["queues"]) == sorted([(week.team_a.id, 1), (week.team_b.id, 1)])


def test_the_wallboard_shows_each_agent_s_capacity_as_routing_counts_it(week, make_user, settings):
    """Capacity is routing's rule (apps/routing/assignment.py capacity_of): the agent's own, else
    the team's, else the desk's default; in several teams, the smallest."""
    from apps.routing.models import TeamRouting

    settings.ROUTING_DEFAULT_CAPACITY = 9
    TeamRouting.objects.create(team=week.team_a, max_open_per_agent=3)
    TeamRouting.objects.create(team=week.team_b)  # no capacity of its own: the desk's default
    type(week.agent2).objects.filter(pk=week.agent2.pk).update(max_open=7)
    make_user(teams=[week.team_b], username="bea")
    make_user(username="teamless")
    with time_machine.travel(at(17, 10), tick=False):
        agents = _by(selectors.wallboard_snapshot()["agents"], "name")
    assert {name: a["capacity"] for name, a in agents.items()} == {"agent1": 3, "agent2": 7, "bea": 9, "teamless": 9}
