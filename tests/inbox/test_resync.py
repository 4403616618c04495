"""Resync: every published event is kept (bounded window) for GET /api/events/?after=<last id seen>."""
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apps.accounts.models import Role
from apps.core import realtime
from apps.inbox.models import Conversation
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from tests.builders import client_for
from tests.inbox.test_realtime import _communicator, _drain, _headers, _next
from tests.live_server import desk_socket


@pytest.fixture(autouse=True)
def empty_log(db):
    realtime._log_clear()
    yield
    realtime._log_clear()


def _resync(user, after):
    response = client_for(user).get(f"/api/events/?after={after}")
    assert response.status_code == 200, response.content
    return response.json()


def _kinds(events):
    return [(e["type"], e.get("conversation", e.get("message", {})).get("id")) for e in events]


@pytest.mark.django_db(transaction=True)
def test_resync_returns_what_the_user_may_see_in_id_order(make_user, team, make_account, inbound):
    # given events for team X, team Y and nobody's team
    team_y = make_user().teams.create(name="Team Y")
    agent_x = make_user(teams=[team])
    supervisor = make_user(role=Role.SUPERVISOR)
    messages_ingest(messages=[inbound(make_account(team=team), "x1", email="x@example.com")])
    messages_ingest(messages=[inbound(make_account(team=team_y), "y1", email="y@example.com")])
    messages_ingest(messages=[inbound(make_account(), "u1", email="u@example.com")])
    conv_x, conv_y, conv_u = Conversation.objects.order_by("id")
    # when each asks for everything after 0
    seen_x, seen_sup = _resync(agent_x, 0), _resync(supervisor, 0)
    # then the agent gets team X's and the team-less events, not team Y's; the supervisor all; in id order
    assert [e["type"] for e in seen_x["events"]] == ["conversation.created", "message.created"] * 2
    assert {e["conversation"]["id"] for e in seen_x["events"] if "conversation" in e} == {conv_x.id, conv_u.id}
    assert len(seen_sup["events"]) == 6
    ids = [e["id"] for e in seen_sup["events"]]
    assert ids == sorted(ids) and seen_sup["last_id"] == ids[-1] and seen_sup["complete"] is True
    # and the agent's last_id is the newest logged id (team Y's included), so the next call starts after it
    assert seen_x["last_id"] == ids[-1]
    # when asked again from there, then nothing new
    assert _resync(agent_x, seen_x["last_id"]) == {"events": [], "last_id": ids[-1], "complete": True}
    # when something happens, then only it comes back
    conversation_update(conversation=conv_x, actor=supervisor, priority=3)
    later = _resync(agent_x, seen_x["last_id"])
    assert [(e["type"], e["conversation"]["priority"]) for e in later["events"]] == [("conversation.updated", 3)]
    assert conv_y.id not in {e.get("conversation", {}).get("id") for e in later["events"]}


@pytest.mark.django_db(transaction=True)
def test_a_window_that_no_longer_reaches_back_says_incomplete(make_user, make_account, inbound, settings, monkeypatch):
    # given a log of 4 events, and 3 conversations (6 events) published
    settings.EVENT_LOG_SIZE = 4
    admin = make_user(role=Role.ADMIN)
    account = make_account()
    for i in range(3):
        messages_ingest(messages=[inbound(account, f"m{i}", email=f"p{i}@example.com")])
    everything = _resync(admin, 0)
    # then from 0 it is incomplete (refetch the lists) and says where to go on from
    assert everything["complete"] is False and everything["events"] == []
    newest = everything["last_id"]
    # and from within the window it is complete
    recent = _resync(admin, newest - 3)
    assert recent["complete"] is True
    assert [e["id"] for e in recent["events"]] == [newest - 2, newest - 1, newest]
    # and a client further behind than one resync reads is told to refetch too
    monkeypatch.setattr(realtime, "RESYNC_SCAN_MAX", 2)
    assert _resync(admin, newest - 3) == {"events": [], "last_id": newest, "complete": False}
    assert _resync(admin, newest - 2)["complete"] is True
    # and a bad id is a 400
    assert client_for(admin).get("/api/events/?after=abc").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_an_event_published_while_a_socket_was_down_comes_back_by_resync(make_user, team, make_account, inbound):
    # given an agent connected, who heard one event, then lost the connection
    team_y = make_user().teams.create(name="Team Y")
    agent = make_user(teams=[team])
    account_x, account_y = make_account(team=team), make_account(team=team_y)
    headers = _headers(agent)

    async def scenario():
        socket = _communicator(headers)
        await socket.connect()
        await socket.receive_json_from(timeout=5)  # hello
        await sync_to_async(messages_ingest)(messages=[inbound(account_x, "before", email="a@example.com")])
        heard = await _drain(socket)
        await socket.disconnect()
        # while disconnected: one for the agent's team, one for another team
        await sync_to_async(messages_ingest)(messages=[inbound(account_x, "missed", email="b@example.com")])
        await sync_to_async(messages_ingest)(messages=[inbound(account_y, "invisible", email="c@example.com")])
        return heard

    heard = async_to_sync(scenario)()
    last_seen = max(e["id"] for e in heard)
    # when the client reconnects and resyncs from the last id it saw
    missed = _resync(agent, last_seen)
    # then exactly the missed event of its team comes back, not the other team's
    missed_conv = Conversation.objects.get(messages__external_id="missed")
    assert _kinds(missed["events"]) == [("conversation.created", missed_conv.id), ("message.created", missed["events"][1]["message"]["id"])]
    assert missed["events"][1]["message"]["conversation_id"] == missed_conv.id
    assert missed["complete"] is True


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_client_dropped_and_back_loses_nothing(desk_server, make_user, team, make_account, inbound):
    # given an agent on a real server (Redis layer, the log in Redis), hearing one event
    agent = make_user(teams=[team])
    other = make_user().teams.create(name="Other")
    account, hidden = make_account(team=team), make_account(team=other)
    with desk_socket(desk_server, user=agent) as ws:
        _next(ws)
        messages_ingest(messages=[inbound(account, "one", email="a@example.com")])
        last_seen = max(_next(ws)["id"], _next(ws)["id"])
    # when two messages arrive while the socket is down (one for another team)
    messages_ingest(messages=[inbound(account, "two", email="a@example.com", minutes=1)])
    messages_ingest(messages=[inbound(hidden, "three", email="z@example.com")])
    # then the server's resync endpoint gives back the missed one, and the socket works again
    import urllib.request

    from tests.live_server import session_cookie

    request = urllib.request.Request(f"{desk_server}/api/events/?after={last_seen}", headers={"Cookie": session_cookie(agent)})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    assert [e["type"] for e in body["events"]] == ["conversation.updated", "message.created"]
    assert body["events"][1]["message"]["text"] and body["complete"] is True
    assert body["events"][0]["conversation"]["id"] == Conversation.objects.get(channel_account=account).id
