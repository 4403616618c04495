"""A loopback HTTP server that answers like the Facebook Graph API (the parts the connector uses).

Served as `application/json` (facebook-sdk refuses anything else), errors as
{"error": {"message", "type", "code", "fbtrace_id"}} with the HTTP status Facebook uses.
  GET  /<version>/<page>/conversations   Messenger conversations, newest first, paged by `after`
  GET  /<version>/<page>/feed            posts with their comments
  POST /<version>/me/messages            Send API (recipient {"id"} or {"comment_id"})
  POST /<version>/<comment>/comments     comment reply
  POST /<version>/<comment>              is_hidden=true
  GET  /<version>/<PSID>                 User Profile API (first_name, last_name) for `profiles`
Every call is recorded (method, path, query, form); `fail()` queues an error for the next calls.
"""
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

from .loopback import LoopbackServer

ACCESS_TOKEN = "EAAB-page-token-test"


class GraphServer(LoopbackServer):
    """`on_message(recipient_psid, text)`, when set, is called (outside the lock, in the server's
    thread) after each Messenger message the Page sends: the demo's customer answers there."""

    def __init__(self, *, port: int = 0, on_message=None):
        super().__init__(_Handler, port=port)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.lock = threading.Lock()
        self.on_message = on_message
        self.reset()

    def reset(self) -> None:
        self.conversations: list[dict] = []
        self.feed: list[dict] = []
        self.calls: list[dict] = []
        self.failures: list[tuple[str, int, dict, dict]] = []
        self.hidden: set[str] = set()
        self.profiles: dict[str, dict] = {}  # PSID -> User Profile API answer
        self.page_size = 25
        self._ids = itertools.count(1)

    def fail(self, path_part: str, *, status: int, code: int | None = None, message: str = "", type_: str = "OAuthException",
             headers: dict | None = None, times: int = 1, html: str = "") -> None:
        """The next `times` calls whose path contains path_part answer this error (an HTML page if html is given,
        as a proxy in front of the Graph API answers a 502)."""
        body = {"html": html} if html else _error(message, code, type_)
        self.failures += [(path_part, status, body, headers or {})] * times

    def posts(self, path_part: str) -> list[dict]:
        return [c for c in self.calls if c["method"] == "POST" and path_part in c["path"]]

    def gets(self, path_part: str) -> list[dict]:
        return [c for c in self.calls if c["method"] == "GET" and path_part in c["path"]]

    # --- answers -----------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict, form: dict) -> tuple[int, dict, dict]:
        with self.lock:
            self.calls.append({"method": method, "path": path, "query": query, "form": form})
            for i, (part, status, body, headers) in enumerate(self.failures):
                if part in path:
                    del self.failures[i]
                    return status, body, headers
        token = form.get("access_token") or query.get("access_token")
        if token != ACCESS_TOKEN:
            return 400, _error("Invalid OAuth access token - Cannot parse access token", 190), {}
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not parts[0].startswith("v"):
            return 400, _error("Unknown path components", 2500), {}
        rest = parts[1:]
        if method == "GET" and len(rest) == 2 and rest[1] == "conversations":
            return 200, self._conversations(path, query), {}
        if method == "GET" and len(rest) == 2 and rest[1] == "feed":
            return 200, {"data": self.feed}, {}
        if method == "GET" and len(rest) == 1 and rest[0] in self.profiles:
            return 200, {**self.profiles[rest[0]], "id": rest[0]}, {}
        if method == "POST" and rest == ["me", "messages"]:
            status, body, headers = self._send(form)
            if status == 200 and self.on_message is not None and body.get("recipient_id") != "psid-from-comment":
                self.on_message(body["recipient_id"], json.loads(form["message"]).get("text") or "")
            return status, body, headers
        if method == "POST" and len(rest) == 2 and rest[1] == "comments":
            if not form.get("message"):
                return 400, _error("(#100) Missing message", 100), {}
            return 200, {"id": f"{rest[0].split('_')[0]}_{900 + next(self._ids)}"}, {}
        if method == "POST" and len(rest) == 1 and form.get("is_hidden") == "true":
            self.hidden.add(rest[0])
            return 200, {"success": True}, {}
        return 400, _error(f"Unsupported {method.lower()} request.", 100, "GraphMethodException"), {}

    def _conversations(self, path: str, query: dict) -> dict:
        limit = min(int(query.get("limit") or self.page_size), self.page_size)  # Graph caps the page size too
        start = int(query.get("after") or 0)
        page = self.conversations[start:start + limit]
        body = {"data": page, "paging": {"cursors": {"before": str(start), "after": str(start + len(page))}}}
        if start + limit < len(self.conversations):
            following = {**query, "after": str(start + limit), "access_token": ACCESS_TOKEN}
            body["paging"]["next"] = f"{self.url.rstrip('/')}{path}?{urlencode(following)}"
        return body

    def _send(self, form: dict) -> tuple[int, dict, dict]:
        try:
            recipient, message = json.loads(form["recipient"]), json.loads(form["message"])
        except (KeyError, ValueError):
            return 400, _error("(#100) param recipient and message must be JSON objects", 100), {}
        if not message.get("text"):
            return 400, _error("(#100) Message cannot be empty", 100), {}
        if "comment_id" in recipient:
            return 200, {"recipient_id": "psid-from-comment", "message_id": f"m_private_{next(self._ids)}"}, {}
        if form.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return 400, _error("(#100) messaging_type is required", 100), {}
        if form.get("messaging_type") == "MESSAGE_TAG" and form.get("tag") != "HUMAN_AGENT":
            return 400, _error("(#100) tag is required for MESSAGE_TAG", 100), {}
        return 200, {"recipient_id": recipient["id"], "message_id": f"m_sent_{next(self._ids)}"}, {}


def _error(message: str, code: int, type_: str = "OAuthException") -> dict:
    return {"error": {"message": message, "type": type_, "code": code, "fbtrace_id": "AbCdEf123"}}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._serve("GET", {})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
        self._serve("POST", form)

    def _serve(self, method: str, form: dict):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        status, body, headers = self.server.owner.answer(method, url.path, query, form)
        if status >= 500 and body.get("html"):
            data, content_type = body["html"].encode(), "text/html"
        else:
            data, content_type = json.dumps(body).encode(), "application/json; charset=UTF-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("facebook-api-version", "v19.0")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
