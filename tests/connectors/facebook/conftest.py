import hashlib
import hmac
import json
from pathlib import Path

import facebook
import pytest

from apps.connectors.models import ChannelKind

from .graph_server import ACCESS_TOKEN, GraphServer

FIXTURES = Path(__file__).parent / "fixtures"
PAGE_ID = "104857600123456"
APP_SECRET = "3f5c0a9d8e7b6a5f4e3d2c1b0a998877"
VERIFY_TOKEN = "centralita-verify-7b1e"


@pytest.fixture(scope="session")
def _graph_process_server():
    server = GraphServer().start()
    yield server
    server.stop()


@pytest.fixture
def graph(_graph_process_server, monkeypatch):
    """The loopback Graph API, emptied for each test; facebook-sdk reads FACEBOOK_GRAPH_URL at call time."""
    _graph_process_server.reset()
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", _graph_process_server.url)
    return _graph_process_server


@pytest.fixture
def fb_account(make_account, team):
    return make_account(
        kind=ChannelKind.FACEBOOK,
        name="Aurora Home",
        team=team,
        settings={"page_id": PAGE_ID},
        secrets={"page_access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
    )


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def webhook_body(*events) -> bytes:
    """A Page webhook body holding Messenger events (dicts with sender/recipient/timestamp/message)."""
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1795000000000, "messaging": list(events)}]}).encode()


def messenger_event(psid: str, mid: str, text: str, *, at_ms: int, echo: bool = False) -> dict:
    message = {"mid": mid, "text": text, **({"is_echo": True, "app_id": 1517} if echo else {})}
    sender, recipient = (PAGE_ID, psid) if echo else (psid, PAGE_ID)
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": at_ms, "message": message}
