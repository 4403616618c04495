"""CSAT per channel, team and agent, in the reports (SQL aggregates), the agents' table, and the
REST API (JSON and CSV), asserted exactly on a known dataset.

Surveys made in the week of 16-22 Nov 2026 (UTC):
  #  channel team agent   status    score
  1  api     A    agent1  answered  5
  2  api     A    agent1  answered  4
  3  api     A    agent1  sent      -
  4  api     B    agent2  answered  2     (an API conversation handled by team B)
  5  email   B    agent2  answered  1
  6  email   B    agent2  skipped   -     (public)
  7  email   B    nobody  answered  3
  8  api     A    agent1  answered  1     on 10 Nov: outside the period
"""
import csv
import io
from datetime import date, datetime, timezone

import pytest

from apps.accounts.models import Role, Team
from apps.connectors.models import ChannelKind
from apps.csat.models import Survey
from apps.inbox.models import ConversationEvent
from apps.reports import selectors
from apps.reports.selectors import ReportFilters
from tests.builders import client_for, conversations

pytestmark = pytest.mark.django_db
WEEK = datetime(2026, 11, 18, 12, tzinfo=timezone.utc)
BEFORE = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)


@pytest.fixture
def dataset(make_account, make_user, inbound):
    team_a, team_b = Team.objects.create(name="Soporte"), Team.objects.create(name="Social")
    api, mail = make_account(kind=ChannelKind.PUSH, team=team_a), make_account(kind=ChannelKind.EMAIL, team=team_b)
    agent1 = make_user(username="agent1", first_name="Laura", last_name="Gil", teams=[team_a])
    agent2 = make_user(username="agent2", teams=[team_b])
    on_api, on_mail = conversations(inbound, api, 1)[0], conversations(inbound, mail, 1)[0]
    rows = [
        (on_api, team_a, agent1, "answered", 5, WEEK), (on_api, team_a, agent1, "answered", 4, WEEK),
        (on_api, team_a, agent1, "sent", None, WEEK), (on_api, team_b, agent2, "answered", 2, WEEK),
        (on_mail, team_b, agent2, "answered", 1, WEEK), (on_mail, team_b, agent2, "skipped", None, WEEK),
        (on_mail, team_b, None, "answered", 3, WEEK), (on_api, team_a, agent1, "answered", 1, BEFORE),
    ]
    for conversation, team, agent, status, score, at in rows:
        resolution = ConversationEvent.objects.create(conversation=conversation, kind="status", data={"from": "open", "to": "resolved"})
        Survey.objects.create(
            resolution=resolution, conversation=conversation, customer_id=conversation.customer_id,
            channel_kind=conversation.channel_account.kind, team=team, agent=agent, status=status, score=score,
            skip_reason="public" if status == "skipped" else "", language="es", created_at=at,
            answered_at=at if status == "answered" else None,
        )
    return {"team_a": team_a, "team_b": team_b, "agent1": agent1, "agent2": agent2}


FIELDS = ("label", "asked", "skipped", "answered", "response_rate_pct", "average_score", "satisfied_pct", "low")


def _table(by, **filters):
    f = ReportFilters(start=date(2026, 11, 16), end=date(2026, 11, 22), **filters)
    return [tuple(r[k] for k in FIELDS) for r in selectors.satisfaction(f, by=by)]


def test_per_channel_team_and_agent(dataset, django_assert_max_num_queries):
    assert _table("channel") == [
        ("API", 4, 0, 3, 75.0, 3.67, 66.7, 1),
        ("Email", 2, 1, 2, 100.0, 2.0, 0.0, 1),
    ]
    assert _table("team") == [
        ("Soporte", 3, 0, 2, 66.7, 4.5, 100.0, 0),
        ("Social", 3, 1, 3, 100.0, 2.0, 0.0, 2),
    ]
    with django_assert_max_num_queries(2):  # the aggregate, and the agents' names
        by_agent = _table("agent")
    assert by_agent == [
        ("Laura Gil", 3, 0, 2, 66.7, 4.5, 100.0, 0),
        ("agent2", 2, 1, 2, 100.0, 1.5, 0.0, 2),
        ("—", 1, 0, 1, 100.0, 3.0, 0.0, 0),
    ]
    # filters narrow it: one team, one channel
    assert _table("channel", team_ids=(dataset["team_b"].id,)) == [("API", 1, 0, 1, 100.0, 2.0, 0.0, 1), ("Email", 2, 1, 2, 100.0, 2.0, 0.0, 1)]
    assert _table("agent", channel="email") == [("agent2", 1, 1, 1, 100.0, 1.0, 0.0, 1), ("—", 1, 0, 1, 100.0, 3.0, 0.0, 0)]


def test_the_agents_table_has_their_satisfaction(dataset):
    f = ReportFilters(start=date(2026, 11, 16), end=date(2026, 11, 22))
    rows = {r["agent"]: (r["csat_answered"], r["csat_average"]) for r in selectors.agent_performance(f)}
    assert rows == {"Laura Gil": (2, 4.5), "agent2": (2, 1.5)}


def test_the_api_serves_them_as_json_and_csv_to_supervisors_only(dataset, make_user):
    supervisor = client_for(make_user(role=Role.SUPERVISOR))
    response = supervisor.get("/api/reports/csat-by-team/?start=2026-11-16&end=2026-11-22")
    assert response.status_code == 200
    body = response.json()
    assert [c["key"] for c in body["columns"]] == list(FIELDS)
    assert [(r["label"], r["average_score"]) for r in body["rows"]] == [("Soporte", 4.5), ("Social", 2.0)]
    as_csv = supervisor.get("/api/reports/csat-by-channel/?start=2026-11-16&end=2026-11-22&format=csv")
    lines = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert lines[0][:4] == ["Channel", "Asked (surveys)", "Not sent (surveys)", "Answered (surveys)"]
    assert lines[1:] == [["API", "4", "0", "3", "75.0", "3.67", "66.7", "1"], ["Email", "2", "1", "2", "100.0", "2.0", "0.0", "1"]]
    agents = supervisor.get("/api/reports/agents/?start=2026-11-16&end=2026-11-22").json()
    assert {(r["agent"], r["csat_average"]) for r in agents["rows"]} == {("Laura Gil", 4.5), ("agent2", 1.5)}
    assert client_for(dataset["agent1"]).get("/api/reports/csat-by-agent/").status_code == 403
