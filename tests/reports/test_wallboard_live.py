"""The wallboard over the real desk socket: a real uvicorn, a real Celery worker, Redis."""
import json
import time

import pytest

from apps.accounts.models import Role
from tests.celery_routing import tasks_routed_to
from tests.conftest import frame_events
from tests.live_server import desk_queue, desk_socket

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
BOUND = 60  # seconds: a bound on waiting on a loaded machine, not a speed check


def _wallboard_frame(ws, condition, seconds=BOUND) -> dict:
    """The first wallboard frame whose snapshot satisfies `condition` (other frames are skipped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            events = frame_events(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        for frame in events:
            if frame.get("type") == "wallboard" and condition(frame["snapshot"]):
                return frame
    raise AssertionError("no wallboard frame satisfied the condition in time")


@pytest.fixture(autouse=True)
def _no_throttle_left_over():
    """The throttle's lock outlives a test whose worker stopped before its trailing check ran (it
    expires after WALLBOARD_LOCK_TTL_SECONDS): start each test with none, as a quiet desk would."""
    from django.conf import settings

    from apps.core.realtime import _counter
    from apps.reports.services import _keys

    if settings.REDIS_URL:
        _counter(settings.REDIS_URL).delete(*_keys())


@pytest.fixture
def tasks_to_the_test_worker():
    # services called in this process nudge the board: their tasks go to the desk worker's queue
    with tasks_routed_to(desk_queue(), "apps.reports.tasks.wallboard_publish", "apps.reports.tasks.wallboard_flush"):
        yield


def test_a_new_message_and_an_agent_going_away_change_the_wallboard_live(
    desk_server, desk_worker, tasks_to_the_test_worker, make_user, team, make_account, inbound
):
    from django.utils import timezone

    from apps.inbox.services.ingest import messages_ingest

    supervisor = make_user(role=Role.SUPERVISOR)
    agent = make_user(teams=[team], username="ana")
    account = make_account(team=team)
    with desk_socket(desk_server, user=supervisor) as board:
        assert json.loads(board.recv(timeout=BOUND))["type"] == "hello"
        board.send(json.dumps({"type": "subscribe", "topic": "wallboard"}))
        # when the agent opens the desk, the board shows her online
        with desk_socket(desk_server, user=agent) as desk:
            assert json.loads(desk.recv(timeout=BOUND))["type"] == "hello"
            agent_status = lambda snap, status: any(a["id"] == agent.id and a["status"] == status for a in snap["agents"])  # noqa: E731
            _wallboard_frame(board, lambda snap: agent_status(snap, "online"))

            # when a customer writes to her team, the queue shows one waiting
            messages_ingest(messages=[inbound(account, email="cliente@example.com", sent_at=timezone.now())])
            frame = _wallboard_frame(board, lambda snap: sum(q["waiting"] for q in snap["queues"]) == 1)
            queue = frame["snapshot"]["queues"][0]
            assert (queue["team_id"], queue["waiting"], queue["unassigned"]) == (team.id, 1, 1)

            # when she goes away, the board says so
            desk.send(json.dumps({"type": "presence", "status": "away"}))
            _wallboard_frame(board, lambda snap: agent_status(snap, "away"))


def test_agents_cannot_subscribe_to_the_wallboard(desk_server, make_user):
    agent = make_user()
    with desk_socket(desk_server, user=agent) as ws:
        assert json.loads(ws.recv(timeout=BOUND))["type"] == "hello"
        ws.send(json.dumps({"type": "subscribe", "topic": "wallboard"}))
        frame = json.loads(ws.recv(timeout=BOUND))
        assert frame == {"type": "error", "message": "Only supervisors and admins may watch the wallboard", "topic": "wallboard"}


def test_a_burst_of_changes_is_coalesced_and_the_last_state_is_sent(
    desk_server, desk_worker, tasks_to_the_test_worker, make_user, team, make_account, inbound
):
    from django.utils import timezone

    from apps.inbox.services.ingest import messages_ingest
    from apps.reports.services import interval

    supervisor = make_user(role=Role.SUPERVISOR)
    account = make_account(team=team)
    with desk_socket(desk_server, user=supervisor) as board:
        assert json.loads(board.recv(timeout=BOUND))["type"] == "hello"
        board.send(json.dumps({"type": "subscribe", "topic": "wallboard"}))
        assert json.loads(board.recv(timeout=BOUND))["type"] == "subscribed"
        # when 40 messages are committed one by one, as fast as this process can
        started = time.monotonic()
        for i in range(40):
            messages_ingest(messages=[inbound(account, email=f"c{i}@example.com", sent_at=timezone.now())])
        burst = time.monotonic() - started
        # then the board ends on the last state (40 waiting) ...
        frames = []
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            frame = next((e for e in frame_events(board.recv(timeout=BOUND)) if e.get("type") == "wallboard"), None)
            if frame is None:
                continue
            frames.append(frame)
            if sum(q["waiting"] for q in frame["snapshot"]["queues"]) == 40:
                break
        assert sum(q["waiting"] for q in frames[-1]["snapshot"]["queues"]) == 40
        # ... after far fewer publishes than changes: at most one per interval (plus the leading one)
        assert len(frames) <= burst / interval() + 2, (len(frames), burst)
        assert len(frames) < 40


def test_a_scoped_supervisor_s_socket_carries_only_their_teams(
    desk_server, desk_worker, tasks_to_the_test_worker, make_user, team, make_account, inbound
):
    from django.utils import timezone

    from apps.accounts.models import Team
    from apps.inbox.services.ingest import messages_ingest

    other = Team.objects.create(name="Otro equipo")
    boss, boss_a = make_user(role=Role.SUPERVISOR), make_user(role=Role.SUPERVISOR, teams=[team])
    mine, theirs = make_account(team=team), make_account(team=other)
    with desk_socket(desk_server, user=boss) as everything, desk_socket(desk_server, user=boss_a) as scoped:
        for ws in (everything, scoped):
            assert json.loads(ws.recv(timeout=BOUND))["type"] == "hello"
            ws.send(json.dumps({"type": "subscribe", "topic": "wallboard"}))
        # when a customer writes to the other team, then one to the scoped supervisor's team
        messages_ingest(messages=[inbound(theirs, email="otro@example.com", sent_at=timezone.now())])
        messages_ingest(messages=[inbound(mine, email="mio@example.com", sent_at=timezone.now())])
        # the unscoped board shows both queues ...
        waiting = lambda snap: sorted((q["team_id"], q["waiting"]) for q in snap["queues"])  # noqa: E731
        _wallboard_frame(everything, lambda snap: waiting(snap) == sorted([(team.id, 1), (other.id, 1)]))
        # ... the scoped one its own team's slice only, in every frame it receives
        seen = []
        deadline = time.monotonic() + BOUND
        while not any(waiting(f["snapshot"]) == [(team.id, 1)] for f in seen) and time.monotonic() < deadline:
            seen += [e for e in frame_events(scoped.recv(timeout=BOUND)) if e.get("type") == "wallboard"]
        assert any(waiting(f["snapshot"]) == [(team.id, 1)] for f in seen)
        assert {f["team_id"] for f in seen} == {team.id}
        for frame in seen:
            snap = frame["snapshot"]
            assert {q["team_id"] for q in snap["queues"]} <= {team.id}
            assert {r["team_id"] for r in snap["today_by_team_channel"]} <= {team.id}
            assert snap["today_by_channel"] == [] and {r["team_id"] for r in snap["at_risk"]} <= {team.id}
