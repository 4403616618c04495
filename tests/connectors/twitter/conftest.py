import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from apps.connectors.models import ChannelKind
from apps.connectors.twitter import client

from .x_server import OWN, OWN_ID, LoopbackAdapter, XServer

FIXTURES = Path(__file__).parent / "fixtures"
CONSUMER_SECRET = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu"  # PROVIDERS.md's test vector
SECRETS = {
    "consumer_key": "xvz1evFS4wEEPTGEFPHBog",
    "consumer_secret": CONSUMER_SECRET,
    "access_token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "access_token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
}


@pytest.fixture(scope="session")
def _x_process_server():
    server = XServer().start()
    yield server
    server.stop()


@pytest.fixture
def x_api(_x_process_server, monkeypatch):
    """The loopback X API, emptied for each test; every tweepy.Client the connector builds is routed to it."""
    _x_process_server.reset()
    hooks = [*client.SESSION_HOOKS, lambda session: session.mount("https://api.twitter.com", LoopbackAdapter(_x_process_server.url))]
    monkeypatch.setattr(client, "SESSION_HOOKS", hooks)
    return _x_process_server


@pytest.fixture
def x_account(make_account, team):
    return make_account(
        kind=ChannelKind.TWITTER, name="@TiendaSoporte", team=team,
        settings={"user_id": OWN_ID, "username": OWN["username"]}, secrets=dict(SECRETS),
    )


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(raw: bytes, secret: str = CONSUMER_SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
