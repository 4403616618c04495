"""A loopback HTTP server that answers like the X API v2 (the parts the connector uses).

Shapes from X's API reference: {"data", "includes", "meta"} with meta result_count, newest_id,
oldest_id, next_token; errors as problem JSON {"title", "detail", "type", "status"}; 429 with
x-rate-limit-limit / -remaining / -reset headers.
  GET  /2/users/me                                  the connected account
  GET  /2/users/:id/mentions                        newest first, since_id, pagination_token
  GET  /2/dm_events                                 newest first, pagination_token
  POST /2/tweets                                    {"text", "reply": {"in_reply_to_tweet_id"}}
  POST /2/dm_conversations/with/:user_id/messages   {"text"}
  POST /2/dm_conversations/:dm_conversation_id/messages
Fields are served only when asked for (tweet.fields, dm_event.fields, expansions), as X does.
Every call is recorded (method, path, query, json, authorization); `fail()` queues errors.
tweepy's host is fixed (https://api.twitter.com): `LoopbackAdapter` mounted on the client's
requests.Session sends those calls here.
"""
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from requests.adapters import HTTPAdapter

from .loopback import LoopbackServer

OWN_ID = "1400000000000000001"
OWN = {"id": OWN_ID, "name": "Tienda Soporte", "username": "TiendaSoporte"}
REVOKED_TOKEN = "revoked-access-token"


class LoopbackAdapter(HTTPAdapter):
    """Sends https://api.twitter.com/... to the loopback server (transport level: tweepy is untouched)."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request, **kwargs):
        request.url = self.base_url + request.url[len("https://api.twitter.com"):]
        return super().send(request, **kwargs)


class XServer(LoopbackServer):
    """`own`: the connected account ({"id", "name", "username"}). `on_dm(event)`, when set, is called
    (outside the lock, in the server's thread) after each DM the account sends: the demo's customer
    reads it there and answers."""

    def __init__(self, *, port: int = 0, own: dict | None = None, on_dm=None):
        super().__init__(_Handler, port=port)
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.own = dict(own or OWN)
        self.on_dm = on_dm
        self.reset()

    def reset(self) -> None:
        self.users: dict[str, dict] = {self.own["id"]: self.own}
        self.tweets: list[dict] = []  # mentions of the account (full objects; fields filtered when served)
        self.dm_events: list[dict] = []
        self.posted_texts: set[str] = set()
        self.calls: list[dict] = []
        self.failures: list[list] = []  # [path_part, status, problem, headers, calls to let through first]
        self.page_size = 100
        self._ids = itertools.count(1861000000000009001)

    # --- the world outside --------------------------------------------------------------------

    def user(self, user_id: str, name: str, username: str) -> None:
        self.users[user_id] = {"id": user_id, "name": name, "username": username}

    def mention(self, tweet_id: str, author_id: str, text: str, *, conversation_id: str | None = None,
                replied_to: str | None = None, created_at: str = "2026-11-23T10:00:00.000Z") -> dict:
        tweet = {
            "id": tweet_id, "text": text, "author_id": author_id, "conversation_id": conversation_id or tweet_id,
            "created_at": created_at, "in_reply_to_user_id": OWN_ID, "edit_history_tweet_ids": [tweet_id],
        }
        if replied_to:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": replied_to}]
        self.tweets.append(tweet)
        return tweet

    def dm(self, event_id: str, sender_id: str, text: str, *, other_id: str | None = None,
           created_at: str = "2026-11-23T10:30:00.000Z") -> dict:
        own_id = self.own["id"]
        other = other_id or (own_id if sender_id != own_id else None)
        event = {
            "id": event_id, "event_type": "MessageCreate", "text": text, "sender_id": sender_id,
            "dm_conversation_id": "-".join(sorted({sender_id, other}, key=int)), "created_at": created_at,
        }
        self.dm_events.append(event)
        return event

    def fail(self, path_part: str, *, status: int, detail: str = "", headers: dict | None = None, times: int = 1,
             after: int = 0) -> None:
        """`times` calls whose path contains path_part, once `after` such calls went through, answer this problem JSON."""
        title = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "Error")
        body = {"title": title, "detail": detail or title, "type": "about:blank", "status": status}
        self.failures += [[path_part, status, body, headers or {}, after]] * times

    def rate_limit(self, path_part: str, *, reset: int, times: int = 1, after: int = 0) -> None:
        headers = {"x-rate-limit-limit": "180", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
        self.fail(path_part, status=429, headers=headers, times=times, after=after)

    def calls_to(self, method: str, path_part: str) -> list[dict]:
        return [c for c in self.calls if c["method"] == method and path_part in c["path"]]

    # --- answers -------------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict, body: dict | None, authorization: str):
        status, answer, headers = self._answer(method, path, query, body, authorization)
        if self.on_dm is not None and method == "POST" and path.startswith("/2/dm_conversations/") and status == 201:
            self.on_dm(dict(self.dm_events[-1]))
        return status, answer, headers

    def _answer(self, method: str, path: str, query: dict, body: dict | None, authorization: str):
        with self.lock:
            self.calls.append({"method": method, "path": path, "query": query, "json": body, "authorization": authorization})
            if not authorization or REVOKED_TOKEN in authorization:
                return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, {}
            for i, (part, status, problem, headers, after) in enumerate(self.failures):
                if part in path:
                    if after:
                        self.failures[i] = [part, status, problem, headers, after - 1]
                        break
                    del self.failures[i]
                    return status, problem, headers
            parts = path.strip("/").split("/")
            if method == "GET" and path == "/2/users/me":
                return 200, {"data": self.own}, {}
            if method == "GET" and len(parts) == 4 and parts[:2] == ["2", "users"] and parts[3] == "mentions":
                return 200, self._mentions(query), {}
            if method == "GET" and path == "/2/dm_events":
                return 200, self._dm_events(query), {}
            if method == "POST" and path == "/2/tweets":
                return self._create_tweet(body or {})
            if method == "POST" and parts[:2] == ["2", "dm_conversations"] and parts[-1] == "messages":
                return self._create_dm(parts, body or {})
            return 404, {"title": "Not Found Error", "detail": f"no route {method} {path}", "type": "about:blank", "status": 404}, {}

    def _page(self, items: list[dict], query: dict) -> tuple[list[dict], str | None]:
        size = min(int(query.get("max_results", 10)), self.page_size)
        start = int((query.get("pagination_token") or "p0")[1:])
        page = items[start:start + size]
        return page, f"p{start + size}" if start + size < len(items) else None

    def _mentions(self, query: dict) -> dict:
        since = int(query.get("since_id") or 0)
        items = sorted((t for t in self.tweets if int(t["id"]) > since), key=lambda t: int(t["id"]), reverse=True)
        page, next_token = self._page(items, query)
        fields = {"id", "text", "edit_history_tweet_ids", *_csv(query, "tweet.fields")}
        data = [{k: v for k, v in t.items() if k in fields} for t in page]
        body = self._list_body(data, next_token, users_of=[t["author_id"] for t in page] if "author_id" in _csv(query, "expansions") else [])
        if page:
            body["meta"].update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        return body

    def _dm_events(self, query: dict) -> dict:
        items = sorted(self.dm_events, key=lambda e: int(e["id"]), reverse=True)
        wanted_types = _csv(query, "event_types")
        if wanted_types:
            items = [e for e in items if e["event_type"] in wanted_types]
        page, next_token = self._page(items, query)
        fields = {"id", "event_type", "text", *_csv(query, "dm_event.fields")}
        data = [{k: v for k, v in e.items() if k in fields} for e in page]
        users = [e["sender_id"] for e in page] if "sender_id" in _csv(query, "expansions") else []
        return self._list_body(data, next_token, users_of=users)

    def _list_body(self, data: list[dict], next_token: str | None, *, users_of: list[str]) -> dict:
        body = {"meta": {"result_count": len(data)}}
        if data:
            body["data"] = data
        users = [self.users[u] for u in dict.fromkeys(users_of) if u in self.users]
        if users:
            body["includes"] = {"users": users}
        if next_token:
            body["meta"]["next_token"] = next_token
        return body

    def _create_tweet(self, body: dict):
        text = body.get("text") or ""
        if text in self.posted_texts:
            return 403, {"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank",
                         "title": "Forbidden", "status": 403}, {}
        self.posted_texts.add(text)
        tweet_id = str(next(self._ids))
        return 201, {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}, {}

    def _create_dm(self, parts: list[str], body: dict):
        own_id = self.own["id"]
        if parts[2] == "with":
            conversation_id = "-".join(sorted({parts[3], own_id}, key=int))
        else:
            conversation_id = parts[2]
        event_id = str(next(self._ids))
        # The sent DM is an event of the conversation: the next poll sees it (our own echo).
        self.dm_events.append({"id": event_id, "event_type": "MessageCreate", "text": body.get("text") or "",
                               "sender_id": own_id, "dm_conversation_id": conversation_id,
                               "created_at": "2026-11-23T12:00:00.000Z"})
        return 201, {"data": {"dm_conversation_id": conversation_id, "dm_event_id": event_id}}, {}


def _csv(query: dict, key: str) -> set[str]:
    return {v for v in (query.get(key) or "").split(",") if v}


class _Handler(BaseHTTPRequestHandler):
    def _serve(self, method: str):
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        status, answer, headers = self.server.owner.answer(method, split.path, query, body, self.headers.get("Authorization", ""))
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json" if status >= 400 else "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def log_message(self, *args):
        pass
