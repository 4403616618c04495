"""Collision (who views or types where) and presence over /ws/desk/, with GET /api/agents/."""
import json

import pytest
import redis
from asgiref.sync import async_to_sync

from apps.accounts import presence
from apps.accounts.models import Role
from apps.inbox.services.conversations import conversation_update
from tests.builders import cache_clear, client_for, conversations
from tests.inbox.test_realtime import _communicator, _drain, _headers, _next
from tests.live_server import desk_socket

QUIET = 1.0


@pytest.fixture(autouse=True)
def nobody_connected():
    presence._clear()
    yield
    presence._clear()


async def _open(headers):
    socket = _communicator(headers)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    return socket


def _name(user):
    return {"id": user.id, "name": user.username}


@pytest.mark.django_db(transaction=True)
def test_watchers_see_each_other_and_strangers_get_an_error(make_user, team, make_account, inbound):
    # given two agents of the team, an agent of another team, and a conversation of the team
    a, b = make_user(teams=[team]), make_user(teams=[team])
    stranger = make_user(teams=[make_user().teams.create(name="Other")])
    (conv,) = conversations(inbound, make_account(team=team), 1)
    headers = {u: _headers(u) for u in (a, b, stranger)}

    async def scenario():
        ws = {u: await _open(h) for u, h in headers.items()}
        await ws[a].send_json_to({"type": "watch", "conversation_id": conv.id, "state": "viewing"})
        await ws[a].send_json_to({"type": "watch", "conversation_id": conv.id, "state": "typing"})
        await ws[stranger].send_json_to({"type": "watch", "conversation_id": conv.id, "state": "typing"})
        await ws[stranger].send_json_to({"type": "watch", "conversation_id": "x", "state": "typing"})
        heard = {u: await _drain(s, QUIET) for u, s in ws.items()}
        # when A's socket goes away while watching
        await ws[a].disconnect()
        heard_after = await _drain(ws[b], QUIET)
        for u in (b, stranger):
            await ws[u].disconnect()
        return heard, heard_after

    heard, heard_after = async_to_sync(scenario)()
    # then B sees A viewing, then typing; A is not told about themselves
    assert heard[b] == [
        {"type": "collision", "conversation_id": conv.id, "user": _name(a), "state": "viewing"},
        {"type": "collision", "conversation_id": conv.id, "user": _name(a), "state": "typing"},
    ]
    assert heard[a] == []
    # and the stranger gets an error for the invisible conversation (as for a missing one), broadcasts nothing
    assert heard[stranger] == [
        {"type": "error", "message": "No such conversation", "conversation_id": conv.id},
        {"type": "error", "message": "watch needs an integer conversation_id and a state",
         "states": ["viewing", "typing", "idle", "left"]},
    ]
    # and A's disconnect tells B that A left
    assert heard_after == [{"type": "collision", "conversation_id": conv.id, "user": _name(a), "state": "left"}]


@pytest.mark.redis
def test_a_test_clearing_its_cache_leaves_the_presence_of_another_test_worker(settings):
    # given this worker's cached value, and an agent's socket as another test worker keeps it in the
    # same Redis database (its own prefix)
    from django.core.cache import cache

    cache.set("topics-report", "cached")
    other_worker = redis.Redis.from_url(settings.REDIS_URL)
    key = f"centralita:{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}-other-worker:presence:1:sockets"
    other_worker.zadd(key, {"socket": 1})
    try:
        # when this worker empties its cache (cache.clear() was FLUSHDB: the presence test's flake)
        cache_clear()
        # then its value is gone and the other worker's socket is still there
        assert cache.get("topics-report") is None
        assert other_worker.zcard(key) == 1
    finally:
        other_worker.delete(key)


@pytest.mark.django_db(transaction=True)
def test_presence_online_away_offline_over_several_sockets(make_user, team):
    # given a supervisor connected, and an agent
    supervisor, agent = make_user(role=Role.SUPERVISOR), make_user(teams=[team])
    sup_headers, agent_headers = _headers(supervisor), _headers(agent)

    def listed():
        rows = client_for(supervisor).get("/api/agents/").json()
        return {r["id"]: r["status"] for r in rows}[agent.id]

    async def scenario():
        sup = await _open(sup_headers)
        steps = {}
        first = await _open(agent_headers)
        steps["connect"] = (await _drain(sup, QUIET), await sync(listed)())
        await first.send_json_to({"type": "presence", "status": "away"})
        steps["away"] = (await _drain(sup, QUIET), await sync(listed)())
        second = await _open(agent_headers)
        await first.disconnect()
        steps["one of two closed"] = (await _drain(sup, QUIET), await sync(listed)())
        await second.send_json_to({"type": "presence", "status": "busy"})
        steps["bad status"] = await second.receive_json_from(timeout=5)
        await second.disconnect()
        steps["last closed"] = (await _drain(sup, QUIET), await sync(listed)())
        await sup.disconnect()
        return steps

    from asgiref.sync import sync_to_async as sync

    steps = async_to_sync(scenario)()
    # then connect = online, the chosen away is broadcast to supervisors, a second tab changes nothing,
    # closing one of two changes nothing, the last one closed = offline
    event = lambda status: {"type": "presence", "user": _name(agent), "status": status}  # noqa: E731
    assert steps["connect"] == ([event("online")], "online")
    assert steps["away"] == ([event("away")], "away")
    assert steps["one of two closed"] == ([], "away")
    assert steps["bad status"]["type"] == "error"
    assert steps["last closed"] == ([event("offline")], "offline")


@pytest.mark.django_db
def test_agents_list_is_for_supervisors_with_load(make_user, team, make_account, inbound, django_assert_max_num_queries):
    # given agents with conversations assigned (open, pending and resolved)
    supervisor = make_user(role=Role.SUPERVISOR, first_name="Sofía", last_name="Sup")
    agent = make_user(teams=[team])
    a, b, c = conversations(inbound, make_account(team=team), 3)
    for conv, status in ((a, "open"), (b, "pending"), (c, "resolved")):
        conversation_update(conversation=conv, actor=supervisor, assignee=agent, status=status)
    for _ in range(5):
        make_user(teams=[team])
    # when the supervisor lists the agents
    client = client_for(supervisor)
    with django_assert_max_num_queries(4):  # session, user, users with their load, their teams
        rows = client.get("/api/agents/").json()
    # then each with role, presence, teams and open load; bounded queries whatever the head count
    mine = next(r for r in rows if r["id"] == agent.id)
    assert mine == {"id": agent.id, "name": agent.username, "username": agent.username, "role": "agent",
                    "status": "offline", "open_assigned": 2, "teams": [{"id": team.id, "name": team.name}]}
    assert next(r for r in rows if r["id"] == supervisor.id)["name"] == "Sofía Sup"
    # and agents may not list them
    assert client_for(agent).get("/api/agents/").status_code == 403


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_server_carries_typing_between_two_agents(desk_server, make_user, team, make_account, inbound):
    a, b = make_user(teams=[team]), make_user(teams=[team])
    supervisor = make_user(role=Role.SUPERVISOR)
    (conv,) = conversations(inbound, make_account(team=team), 1)
    with desk_socket(desk_server, user=supervisor) as sup, desk_socket(desk_server, user=b) as ws_b:
        _next(sup), _next(ws_b)
        assert _next(sup) == {"type": "presence", "user": _name(b), "status": "online"}
        with desk_socket(desk_server, user=a) as ws_a:
            _next(ws_a)
            assert _next(sup) == {"type": "presence", "user": _name(a), "status": "online"}
            ws_a.send(json.dumps({"type": "watch", "conversation_id": conv.id, "state": "typing"}))
            assert _next(ws_b) == {"type": "collision", "conversation_id": conv.id, "user": _name(a), "state": "typing"}
            assert _next(sup)["state"] == "typing"
            # presence lives in Redis, shared with this process
            assert presence.statuses([a.id]) == {a.id: "online"}
        assert _next(ws_b)["state"] == "left"
        assert [_next(sup) for _ in range(2)] == [
            {"type": "collision", "conversation_id": conv.id, "user": _name(a), "state": "left"},
            {"type": "presence", "user": _name(a), "status": "offline"},
        ]
