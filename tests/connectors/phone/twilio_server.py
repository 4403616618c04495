"""A loopback HTTP server that answers like Twilio's REST API (the call the connection test makes).

  GET /2010-04-01/Accounts/<AccountSid>.json    HTTP Basic auth (SID : auth token), the Account resource
Wrong credentials get Twilio's 401 body {"code": 20003, "message": "Authenticate", "more_info", "status"}.
The twilio library is pointed here through apps.connectors.phone.client.API_BASE.
"""
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler

from tests.loopback import LoopbackServer

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "3f0c8e1b2a7d4c6e9f1a2b3c4d5e6f70"


class TwilioServer(LoopbackServer):
    def __init__(self):
        super().__init__(_Handler)
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.accounts = {ACCOUNT_SID: (AUTH_TOKEN, "Aurora Home")}
        self.calls: list[dict] = []

    def answer(self, path: str, authorization: str) -> tuple[int, dict]:
        with self.lock:
            self.calls.append({"path": path})
        prefix, suffix = "/2010-04-01/Accounts/", ".json"
        if not (path.startswith(prefix) and path.endswith(suffix)):
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        sid = path[len(prefix):-len(suffix)]
        try:
            user, _, token = base64.b64decode(authorization.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            user = token = ""
        known = self.accounts.get(user)
        if known is None or known[0] != token:
            return 401, {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
                         "status": 401}
        if sid != user:
            return 404, {"code": 20404, "message": f"The requested resource /2010-04-01/Accounts/{sid}.json was not found",
                         "status": 404}
        return 200, {"sid": sid, "friendly_name": known[1], "status": "active", "type": "Full",
                     "date_created": "Thu, 04 Jun 2020 10:00:00 +0000", "uri": path}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = self.server.owner.answer(self.path.split("?")[0], self.headers.get("Authorization", ""))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
