"""Every report on whichever database the desk runs: on SQLite (embedded) the counts are the same
and the percentiles are empty (no percentile_cont), nothing crashes."""
from datetime import date

import pytest
import time_machine
from django.conf import settings

from apps.reports import selectors
from apps.reports.selectors import ReportFilters
from apps.reports.tables import TABLES
from tests.builders import client_for

from .conftest import MADRID, at


def _filters():
    return ReportFilters(start=date(2026, 11, 16), end=date(2026, 11, 22), tz=MADRID)


def test_counts_everywhere_and_percentiles_where_the_database_has_them(week, django_assert_max_num_queries):
    with time_machine.travel(at(25, 12), tick=False):
        frt = {r["key"]: r for r in selectors.first_response_times(_filters(), by="channel")}
        assert (frt["email"]["count"], frt["email"]["5m_15m"]) == (3, 1)
        assert frt["email"]["median_seconds"] == (1800 if settings.IS_POSTGRES else None)
        assert [(r["due"], r["met"]) for r in selectors.sla_compliance_trend(_filters())] == [(3, 2), (2, 2)]
        assert sum(r["messages"] for r in selectors.heatmap(_filters())) == 6
        # one or two aggregate queries per table, whatever the rows
        client = client_for(week.supervisor)
        for table in TABLES:
            # session + user + the report's own (at most 4: the agents' table reads replies, resolutions,
            # satisfaction and the names)
            with django_assert_max_num_queries(7):
                assert client.get(f"/api/reports/{table.slug}/", {"start": "2026-11-16", "end": "2026-11-22"}).status_code == 200


def test_the_wallboard_snapshot_is_a_fixed_number_of_queries(week, django_assert_max_num_queries, make_user):
    for i in range(5):  # more agents and teams do not add queries
        make_user(username=f"more{i}", teams=[week.team_a, week.team_b])
    with time_machine.travel(at(17, 10), tick=False), django_assert_max_num_queries(14):  # teams, queues, 4 at-risk ranges, agents (4), today (4)
        snapshot = selectors.wallboard_snapshot()
    assert len(snapshot["agents"]) == 7


@pytest.mark.parametrize("path", ["/reports/", "/reports/wallboard/"])
def test_the_pages_render_for_a_supervisor(week, path):
    with time_machine.travel(at(25, 12), tick=False):
        response = client_for(week.supervisor).get(path, {"start": "2026-11-16", "end": "2026-11-22"})
    assert response.status_code == 200
    assert b'id="wallboard-slices"' in response.content or b'id="report-data"' in response.content
