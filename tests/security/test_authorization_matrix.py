"""Every route of config/urls.py (and every websocket route) against the one table of who may use
it (tests/security/access_rules.py), for anonymous, an agent of the object's team, an agent of
another team, a supervisor and an admin.

A route missing from the table fails, so a new page must declare its rule. Refused means 401,
403, 404, 405 or the sign-in redirect, and nothing written; allowed means none of those and no
5xx. DELETE is only tried by those refused (an allowed DELETE is each feature's own test)."""
import re

import pytest
from asgiref.sync import async_to_sync
from django.db.models import Count
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from apps.accounts.models import User
from apps.connectors.models import ChannelAccount
from apps.crm.models import Customer, MergeSuggestion
from apps.inbox.models import CannedResponse, Conversation, ConversationEvent, Message
from apps.inbox.ws import websocket_urlpatterns
from apps.inbox.services.replies import note_create
from apps.routing.models import PriorityRule
from tests.inbox.test_realtime import _communicator, _drain, _headers

from .access_rules import ADMIN, NOBODY, PUBLIC, ROUTES, SIGNED, SIGNED_IN, STAFF, SUPERVISOR, TEAM, WEBSOCKETS
from .world import ROLES, build_world

ALLOWED = {
    PUBLIC: set(ROLES),
    SIGNED: set(),
    SIGNED_IN: {"agent", "other_agent", "supervisor", "admin"},
    TEAM: {"agent", "supervisor", "admin"},
    SUPERVISOR: {"supervisor", "admin"},
    ADMIN: {"admin"},
    STAFF: {"admin"},
    NOBODY: set(),
}
MISSING = {name: 10**9 for name in ("conversation_id", "customer_id", "message_id", "attachment_id", "suggestion_id")}


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace])) if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        else:
            yield prefix + str(entry.pattern), namespace, entry


ROUTE_LIST = list(_walk(get_resolver()))
ADMIN_SITE = [route for route in ROUTE_LIST if route[1] == "admin"]
DESK = [route for route in ROUTE_LIST if route[1] != "admin"]


def _key(namespace: str, entry: URLPattern, pattern: str) -> str:
    return f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or pattern)


def rule_for(namespace: str, entry: URLPattern, pattern: str):
    key = _key(namespace, entry, pattern)
    if key in ROUTES:
        return ROUTES[key]
    return ROUTES.get(f"{namespace}:*") if namespace else None


def test_every_route_of_the_url_conf_has_a_declared_rule():
    missing = [_key(ns, entry, pattern) for pattern, ns, entry in ROUTE_LIST if rule_for(ns, entry, pattern) is None]
    assert not missing, (
        f"routes without an access rule: {missing}. Declare who may use each in tests/security/access_rules.py "
        "(one line: \"url-name\": SIGNED_IN / TEAM / SUPERVISOR / ADMIN / PUBLIC / SIGNED)"
    )
    known = {_key(ns, entry, pattern) for pattern, ns, entry in ROUTE_LIST}
    stale = [key for key in ROUTES if not key.endswith(":*") and key not in known]
    assert not stale, f"rules for routes that no longer exist: {stale}"
    assert set(WEBSOCKETS) == {str(p.pattern) for p in websocket_urlpatterns}, "declare each websocket route in WEBSOCKETS"


def _url(pattern: str, params: dict) -> str:
    def value(name):
        if name not in params:
            pytest.fail(f"no value for URL parameter {name!r}: add one to tests/security/world.py")
        return str(params[name])

    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), pattern)  # re_path() groups
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), url)  # path() converters
    return "/" + url.replace("^", "").replace("$", "")


def _methods(entry: URLPattern, namespace: str) -> list[str]:
    if namespace == "admin":
        return ["GET"]  # the admin site's writes are behind the same staff check as its pages
    callback = entry.callback
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset bound to {"get": "list", ...}
        # DRF adds "head" to this dict at the viewset's first request (another suite may have made it
        # in this process): HEAD is GET's twin, skipped like in the class views below
        return sorted(m.upper() for m in actions if m != "head")
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        return [m.upper() for m in cls.http_method_names if m not in ("options", "head", "trace") and hasattr(cls, m)]
    return ["GET", "POST"]  # a function view: a 405 on one of them is a refusal like any other


def _level(rule, method: str) -> str:
    return rule if isinstance(rule, str) else rule.get(method, rule["*"])


def _request(client: Client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, "{}", content_type="application/json")


def _refused(response, level: str = "") -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    if level == SIGNED and response.status_code == 400:  # a provider handshake without its parameters
        return True
    location = response.get("Location", "") if response.status_code in (301, 302) else ""
    return "login" in location and "next=" in location


def _writes_snapshot():
    """Counts and versions of what a request could write; equal before and after refused requests."""
    return (
        Conversation.objects.aggregate(n=Count("id"))["n"],
        list(Conversation.objects.order_by("id").values_list("status", "assignee_id", "priority", "team_id")),
        Message.objects.count(), ConversationEvent.objects.count(), Customer.objects.filter(merged_into__isnull=False).count(),
        list(MergeSuggestion.objects.values_list("status", flat=True)), CannedResponse.objects.count(),
        PriorityRule.objects.count(), list(ChannelAccount.objects.order_by("id").values_list("inbound_token_hash", "enabled")),
        User.objects.count(),
    )


def _client(world, role: str) -> Client:
    """One client per role and world (a session row each, not one per request)."""
    clients = world.__dict__.setdefault("clients", {})
    if role not in clients:
        clients[role] = Client()
        if world.users[role] is not None:
            clients[role].force_login(world.users[role])
    return clients[role]


@pytest.mark.django_db
@pytest.mark.parametrize("pattern,namespace,entry", DESK, ids=[p or "/" for p, _, _ in DESK])
def test_each_role_gets_what_the_table_says(pattern, namespace, entry):
    _check(build_world(), pattern, namespace, entry)


ADMIN_CHUNKS = 4  # the admin site's ~130 routes in a few tests (xdist spreads them), one world each


@pytest.mark.django_db
@pytest.mark.parametrize("chunk", range(ADMIN_CHUNKS))
def test_each_role_gets_what_the_table_says_on_the_admin_site(chunk):
    """GET only: the admin site's writes sit behind the same gate as its pages."""
    world = build_world()
    for pattern, namespace, entry in ADMIN_SITE[chunk::ADMIN_CHUNKS]:
        _check(world, pattern, namespace, entry)


def _check(world, pattern, namespace, entry):
    rule = rule_for(namespace, entry, pattern)
    if rule is None:
        pytest.fail(f"{_key(namespace, entry, pattern)} has no rule in tests/security/access_rules.py")
    url = _url(pattern, world.params)
    for method in _methods(entry, namespace):
        level = _level(rule, method)
        if level == TEAM and "<" not in pattern:
            pytest.fail(f"{pattern}: TEAM is for a route about one object; a list is SIGNED_IN (filtered by visibility)")
        allowed = ALLOWED[level]
        # refused first: each refusal must leave everything as it was
        before = _writes_snapshot()
        for role in ROLES:
            if role in allowed:
                continue
            response = _request(_client(world, role), method, url)
            assert response.status_code < 500, (method, url, role, response.status_code)
            if role == "other_agent" and level == TEAM and response.status_code == 400:
                # the body was judged before the object: fine if a missing object gets the very same answer
                missing = _request(_client(world, role), method, _url(pattern, {**world.params, **MISSING}))
                assert (missing.status_code, missing.content) == (400, response.content), f"{method} {url}: an oracle"
                continue
            assert _refused(response, level), f"{method} {url} as {role} ({level}): {response.status_code} is not a refusal"
            if role == "other_agent" and level == TEAM:
                assert response.status_code in (404, 405), f"{method} {url}: another team's agent must get a 404, not a hint"
        assert _writes_snapshot() == before, f"{method} {url}: a refused request changed something"
        if method == "DELETE":
            continue
        for role in allowed:
            response = _request(_client(world, role), method, url)
            assert response.status_code < 500, (method, url, role, response.status_code)
            if level == STAFF:  # past the admin's gate: its per-model permissions are its own
                if not (entry.name or "").endswith(("_changelist", "index")):
                    continue  # one gate for the whole site: rendering every form page proves no more
                assert "/admin/login/" not in response.get("Location", ""), f"{url}: staff sent to sign in"
                continue
            assert not _refused(response) or response.status_code == 405, (
                f"{method} {url} as {role} ({level}): refused with {response.status_code}")


# --- the websocket ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_desk_socket_refuses_anonymous_and_tells_no_one_outside_the_team(django_capture_on_commit_callbacks):
    world = build_world()
    conv = world.conversation
    headers = {role: _headers(world.users[role]) for role in ("agent", "other_agent", "supervisor")}
    anonymous = _headers(None)

    def add_note():
        note_create(conversation=conv, author=world.users["supervisor"], text="nota interna")

    async def scenario():
        # anonymous: accepted then closed with 4401 (the desk's "sign in again"), never a hello
        socket = _communicator(anonymous)
        connected, _ = await socket.connect()
        closed = await socket.receive_output(timeout=5)
        await socket.wait()
        sockets = {}
        for role, h in headers.items():
            sockets[role] = _communicator(h)
            assert (await sockets[role].connect())[0]
            assert (await sockets[role].receive_json_from(timeout=5))["type"] == "hello"
        await _drain(sockets["supervisor"], 0.5)  # presence of the others
        # watch (collision) on team A's conversation
        for s in sockets.values():
            await s.send_json_to({"type": "watch", "conversation_id": conv.id, "state": "viewing"})
        from asgiref.sync import sync_to_async

        await sync_to_async(add_note)()
        heard = {role: await _drain(s, 1.0) for role, s in sockets.items()}
        for s in sockets.values():
            await s.disconnect()
        return connected, closed, heard

    connected, closed, heard = async_to_sync(scenario)()
    assert closed == {"type": "websocket.close", "code": 4401}
    # the other team's agent hears nothing of team A's conversation and is told it does not exist
    assert [f for f in heard["other_agent"] if f.get("conversation_id") == conv.id or f.get("type") == "collision"] == [
        {"type": "error", "message": "No such conversation", "conversation_id": conv.id}]
    assert not any("nota interna" in str(f) for f in heard["other_agent"])
    # while team A's agent hears the note and the supervisor's viewing
    assert any(f.get("type") == "collision" for f in heard["agent"])
    assert any(f.get("type") not in ("collision", "presence", "error") for f in heard["agent"]), heard["agent"]
