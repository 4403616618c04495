"""The live event stream, /ws/desk/.

Two levels: WebsocketCommunicator on config.asgi.application (runs on the embedded in-memory
layer too), and a real uvicorn process with real websocket clients over the Redis layer
(tests/live_server.py). Waiting is bounded, never asserted on.
"""
import json
import logging
import socket
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed, InvalidStatus

from apps.accounts.models import Role
from apps.inbox.models import Conversation, Message
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from config.asgi import application
from tests.conftest import frame_events
from tests.live_server import desk_socket, session_cookie

QUIET = 1.5  # seconds of silence taken as "nothing more is coming" (a bound on waiting)


# --- helpers -------------------------------------------------------------------------------


def _headers(user=None, *, origin="http://testserver", token=None):
    headers = []
    if origin:
        headers.append((b"origin", origin.encode()))
    if user is not None:
        headers.append((b"cookie", session_cookie(user).encode()))
    if token is not None:
        headers.append((b"authorization", f"Token {token}".encode()))
    return headers


def _communicator(headers, path="/ws/desk/"):
    return WebsocketCommunicator(application, path, headers=headers)


async def _drain(communicator, quiet=QUIET) -> list[dict]:
    """Every frame until `quiet` seconds pass without one."""
    frames = []
    # receive_nothing, not a receive timeout: a timed-out receive cancels the application
    while not await communicator.receive_nothing(timeout=quiet):
        frames.extend(frame_events(await communicator.receive_json_from()))
    return frames


def _seen(frames) -> list[tuple[str, int]]:
    """(type, conversation id) of each event frame."""
    return [(f["type"], _conversation_id(f)) for f in frames]


def _conversation_id(frame) -> int:
    if "conversation" in frame:
        return frame["conversation"]["id"]
    if "message" in frame:
        return frame["message"]["conversation_id"]
    return frame.get("conversation_id") or frame[frame["type"]]["conversation_id"]


def _conversation_of(external_id: str) -> int:
    return Message.objects.get(external_id=external_id).conversation_id


def _ingest(*messages):
    return messages_ingest(messages=list(messages))


# --- who may connect (communicator) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("credential", ["none", "unknown token", "inactive user's token", "empty token"])
def test_a_socket_without_valid_credentials_is_closed_with_4401(make_user, credential):
    # given
    path, headers = "/ws/desk/", _headers()
    if credential == "unknown token":
        path += "?token=0123456789abcdef0123456789abcdef01234567"
    elif credential == "inactive user's token":
        path += f"?token={Token.objects.create(user=make_user(is_active=False)).key}"
    elif credential == "empty token":
        # an empty token is a failed token login, not a fall back to the cookie
        path, headers = path + "?token=", _headers(make_user())

    async def scenario():
        communicator = _communicator(headers, path)
        connected, _ = await communicator.connect()
        closed = await communicator.receive_output(timeout=5)
        await communicator.wait()
        return connected, closed

    # when
    connected, closed = async_to_sync(scenario)()
    # then: accepted, then closed with the code that sends the desk page to the sign-in page
    assert connected
    assert closed == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", ["http://evil.example", None])
def test_a_session_cookie_is_refused_from_a_foreign_or_missing_origin(make_user, origin):
    # given a valid session cookie sent by a page of another site (cross-site websocket hijacking)
    headers = _headers(make_user(), origin=origin)

    async def scenario():
        communicator = _communicator(headers)
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    # when / then
    assert async_to_sync(scenario)() is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["session", "token in query", "token header"])
def test_an_agent_joins_and_gets_pong_for_ping(make_user, team, how):
    # given an agent of one team
    agent = make_user(teams=[team])
    key = Token.objects.create(user=agent).key
    # token clients are not browsers: they send no Origin and need none
    path, headers = {
        "session": ("/ws/desk/", _headers(agent)),
        "token in query": (f"/ws/desk/?token={key}", _headers(origin=None)),
        "token header": ("/ws/desk/", _headers(origin=None, token=key)),
    }[how]

    async def scenario():
        communicator = _communicator(headers, path)
        connected, _ = await communicator.connect()
        hello = await communicator.receive_json_from(timeout=5)
        await communicator.send_to(text_data="not json")  # ignored, the socket stays up
        await communicator.send_json_to({"type": "ping"})
        pong = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return connected, hello, pong

    # when
    connected, hello, pong = async_to_sync(scenario)()
    # then: unteamed, own and one team group
    assert connected
    assert hello == {"type": "hello", "user_id": agent.id, "groups": 3}
    assert pong == {"type": "pong"}


# --- who hears what (communicator; the in-memory layer embedded, Redis with REDIS_URL) ---------


@pytest.mark.django_db(transaction=True)
def test_events_follow_visibility(make_user, team, make_account, inbound):
    # given agents of team X and team Y, and a supervisor, all connected
    team_y = make_user().teams.create(name="Team Y")
    agent_x, agent_y = make_user(teams=[team]), make_user(teams=[team_y])
    supervisor = make_user(role=Role.SUPERVISOR)
    accounts = {"x": make_account(team=team), "y": make_account(team=team_y), "none": make_account()}
    headers = {u: _headers(u) for u in (agent_x, agent_y, supervisor)}

    def publish():
        _ingest(inbound(accounts["x"], email="x@example.com"))
        _ingest(inbound(accounts["none"], email="nobody@example.com"))
        _ingest(inbound(accounts["y"], email="y@example.com"))
        conv = {c.channel_account_id: c for c in Conversation.objects.all()}
        # team Y's conversation handed to agent X: X hears it through their own group
        conversation_update(conversation=conv[accounts["y"].id], actor=supervisor, assignee=agent_x)
        # team X's conversation assigned to agent X: published to team X and to agent X,
        # two of X's groups, yet X hears it once
        conversation_update(conversation=conv[accounts["x"].id], actor=supervisor, assignee=agent_x)
        return {k: conv[a.id].id for k, a in accounts.items()}

    async def scenario():
        sockets = {u: _communicator(h) for u, h in headers.items()}
        for s in sockets.values():
            assert (await s.connect())[0]
            assert (await s.receive_json_from(timeout=5))["type"] == "hello"
        ids = await sync_to_async(publish)()
        heard = {u: await _drain(s) for u, s in sockets.items()}
        for s in sockets.values():
            await s.disconnect()
        return ids, heard

    # when
    ids, heard = async_to_sync(scenario)()
    # then
    x, y, none = ids["x"], ids["y"], ids["none"]
    created = lambda c: [("conversation.created", c), ("message.created", c)]  # noqa: E731
    # (and, given conversations by someone else, a notification each)
    assert _seen(heard[agent_x]) == [
        *created(x), *created(none), ("conversation.updated", y), ("notification", y), ("conversation.updated", x), ("notification", x)
    ]
    assert _seen(heard[agent_y]) == [*created(none), *created(y), ("conversation.updated", y)]
    assert _seen(heard[supervisor]) == [
        *created(x), *created(none), *created(y), ("conversation.updated", y), ("conversation.updated", x)
    ]
    ids_heard = [f["id"] for f in heard[supervisor]]
    assert ids_heard == sorted(set(ids_heard))  # every event numbered, increasing, no repeats


@pytest.mark.django_db(transaction=True)
def test_a_new_team_membership_takes_effect_on_reconnect(make_user, team, make_account, inbound):
    # given an agent with no team, connected
    agent = make_user()
    team_account, unteamed_account = make_account(team=team), make_account()
    headers = _headers(agent)

    async def scenario():
        before = _communicator(headers)
        await before.connect()
        await before.receive_json_from(timeout=5)
        # when the agent joins the team while connected, and the team gets a conversation
        await sync_to_async(agent.teams.add)(team)
        await sync_to_async(_ingest)(inbound(team_account, "t1", email="t1@example.com"))
        await sync_to_async(_ingest)(inbound(unteamed_account, "u1", email="u1@example.com"))
        heard_before = await _drain(before)
        await before.disconnect()
        # and after a reconnect
        after = _communicator(headers)
        await after.connect()
        await after.receive_json_from(timeout=5)
        await sync_to_async(_ingest)(inbound(team_account, "t2", email="t2@example.com"))
        heard_after = await _drain(after)
        await after.disconnect()
        return heard_before, heard_after

    heard_before, heard_after = async_to_sync(scenario)()
    # then the open socket kept its old groups (team-less only); the new one has the team's
    u1, t2 = _conversation_of("u1"), _conversation_of("t2")
    assert _seen(heard_before) == [("conversation.created", u1), ("message.created", u1)]
    assert _seen(heard_after) == [("conversation.created", t2), ("message.created", t2)]


# --- publishing failures ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dead_redis_does_not_undo_or_fail_the_committed_write(settings, account, inbound, caplog):
    # given a channel layer and event counter on a port where no Redis answers
    dead = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = dead
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [dead]}}}
    # when
    with caplog.at_level(logging.ERROR, logger="apps.core.realtime"):
        result = _ingest(inbound(account, "kept", email="a@example.com"))
    # then the message is stored and the failure is logged, not raised
    assert Message.objects.filter(pk__in=result.message_ids, external_id="kept").count() == 1
    assert "publishing 2 events failed" in caplog.text


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_publishes_from_sync_code_share_one_redis_connection(settings, account, inbound, monkeypatch):
    # given a process outside any server's event loop (a worker) that has published once
    port = urlsplit(settings.REDIS_URL).port or 6379
    _ingest(inbound(account, email="first@example.com"))
    opened = []
    real_connect = socket.socket.connect

    def connect(sock, address):  # counts, then connects for real
        if isinstance(address, tuple) and address[1] == port:
            opened.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    # when it publishes ten more commits
    for i in range(10):
        _ingest(inbound(account, email=f"next{i}@example.com"))
    # then it opened no new connection to Redis for them (async_to_sync gave each publish a new
    # event loop, and channels_redis a new connection on it)
    assert opened == []


# --- the real stack: uvicorn process, Redis layer, PostgreSQL, websocket clients ---------------


def _pending(ws) -> list[dict]:
    """Events received on this socket and not read yet (a frame may carry several)."""
    return ws.__dict__.setdefault("_centralita_events", [])


def _frames(ws, quiet=QUIET) -> list[dict]:
    """Every event until `quiet` seconds pass without a frame."""
    events = _pending(ws)
    while True:
        try:
            events.extend(frame_events(ws.recv(timeout=quiet)))
        except TimeoutError:
            taken = events[:]
            events.clear()
            return taken


def _next(ws) -> dict:
    """The next event."""
    events = _pending(ws)
    if not events:
        events.extend(frame_events(ws.recv(timeout=10)))
    return events.pop(0)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_client_hears_commits_never_rollbacks_nor_other_teams(desk_server, make_user, team, make_account, inbound):
    # given agents of team X and team Y connected to a real server with their session cookies
    team_y = make_user().teams.create(name="Team Y")
    agent_x, agent_y = make_user(teams=[team]), make_user(teams=[team_y])
    account_x, account_y, unteamed = make_account(team=team), make_account(team=team_y), make_account()
    with desk_socket(desk_server, user=agent_x) as ws_x, desk_socket(desk_server, user=agent_y) as ws_y:
        assert _next(ws_x) == {"type": "hello", "user_id": agent_x.id, "groups": 3}
        assert _next(ws_y)["type"] == "hello"

        # when a message for team X is committed
        _ingest(inbound(account_x, "x-1", email="ana@example.com", text="¿Dónde está mi pedido?"))
        conv = Conversation.objects.get(channel_account=account_x)
        message = Message.objects.get(external_id="x-1")
        # then agent X hears the conversation, then the message, as JSON
        created, said = _next(ws_x), _next(ws_x)
        assert created["type"] == "conversation.created" and created["conversation"]["id"] == conv.id
        assert said["type"] == "message.created"
        assert said["message"]["id"] == message.id and said["message"]["conversation_id"] == conv.id
        assert said["message"]["text"] == "¿Dónde está mi pedido?"
        assert created["id"] < said["id"]

        # when a batch for team X rolls back
        with pytest.raises(RuntimeError), transaction.atomic():
            _ingest(inbound(account_x, "x-lost", email="luis@example.com"))
            raise RuntimeError("the caller failed after ingesting")
        # then nothing is stored and agent X hears nothing
        assert not Message.objects.filter(external_id="x-lost").exists()
        assert _frames(ws_x) == []

        # when team Y and then nobody's team get a conversation
        _ingest(inbound(account_y, "y-1", email="eva@example.com"))
        _ingest(inbound(unteamed, "u-1", email="joe@example.com"))
        conv_y = Conversation.objects.get(channel_account=account_y)
        conv_u = Conversation.objects.get(channel_account=unteamed)
        # then each hears only what it may see: the next thing X hears is the team-less one
        # (so the rolled-back and team Y events were never queued for X), and Y never heard X's
        assert _seen([_next(ws_x), _next(ws_x)]) == [("conversation.created", conv_u.id), ("message.created", conv_u.id)]
        assert _seen(_frames(ws_y)) == [
            ("conversation.created", conv_y.id), ("message.created", conv_y.id),
            ("conversation.created", conv_u.id), ("message.created", conv_u.id),
        ]


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_server_refuses_strangers_and_serves_token_clients(desk_server, make_user):
    # given
    agent = make_user()
    key = Token.objects.create(user=agent).key
    # when a client comes with no credentials, then the server closes with 4401
    with desk_socket(desk_server) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4401
    # when a page of another site sends the agent's cookie, then the handshake is refused
    with pytest.raises(InvalidStatus) as refused:
        desk_socket(desk_server, user=agent, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    # when a non-browser client brings a token and no Origin, then it is in
    with desk_socket(desk_server, token=key, origin=None) as ws:
        assert _next(ws) == {"type": "hello", "user_id": agent.id, "groups": 2}
        ws.send(json.dumps({"type": "ping"}))
        assert _next(ws) == {"type": "pong"}


@pytest.mark.postgres
@pytest.mark.redis
def test_a_batch_of_500_messages_reaches_a_real_client_whole_and_in_order(desk_server, make_user, account, inbound):
    # given a supervisor connected, and 500 messages from 100 people
    supervisor = make_user(role=Role.SUPERVISOR)
    batch = [inbound(account, email=f"p{i % 100}@example.com", minutes=i) for i in range(500)]
    with desk_socket(desk_server, user=supervisor) as ws:
        _next(ws)
        # when they are ingested as one batch
        _ingest(*batch)
        frames = [_next(ws) for _ in range(600)]
        rest = _frames(ws)
    # then 100 conversations, 500 messages, each conversation announced before its messages,
    # every event numbered in increasing order
    assert rest == []
    types = [f["type"] for f in frames]
    assert types == ["conversation.created"] * 100 + ["message.created"] * 500
    announced = {f["conversation"]["id"] for f in frames[:100]}
    assert {f["message"]["conversation_id"] for f in frames[100:]} == announced
    assert set(Message.objects.values_list("id", flat=True)) == {f["message"]["id"] for f in frames[100:]}
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == 600


# --- signing out --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_signing_out_closes_that_browsers_sockets_and_no_other(make_user, team):
    # given an agent signed in on two browsers, each with the desk's socket open
    from django.conf import settings
    from django.test import Client

    agent = make_user(teams=[team])
    cookie_here, cookie_elsewhere = session_cookie(agent), session_cookie(agent)

    def sign_out(cookie: str) -> int:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie.split("=", 1)[1]
        return client.post("/logout/").status_code

    async def scenario():
        here = _communicator([(b"origin", b"http://testserver"), (b"cookie", cookie_here.encode())])
        elsewhere = _communicator([(b"origin", b"http://testserver"), (b"cookie", cookie_elsewhere.encode())])
        for communicator in (here, elsewhere):
            assert (await communicator.connect())[0]
            assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
        # when the agent signs out in the first browser
        status = await sync_to_async(sign_out)(cookie_here)
        closed = await here.receive_output(timeout=5)
        # then that browser's socket is closed as unauthenticated; the other one still answers
        await elsewhere.send_json_to({"type": "ping"})
        frames = await _drain(elsewhere)
        await elsewhere.disconnect()
        return status, closed, frames

    status, closed, frames = async_to_sync(scenario)()
    assert status == 302
    assert closed == {"type": "websocket.close", "code": 4401}
    assert {"type": "pong"} in frames
