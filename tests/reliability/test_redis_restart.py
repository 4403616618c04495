"""Redis restarted (and back EMPTY: no persistence) while an agent's desk is open and messages keep
coming: the desk's socket reconnects by itself, and every conversation that arrived before,
during and after the outage is on the agent's screen. Nothing is lost from the desk's view.

A PRIVATE redis-server (tests/reliability/servers.py) carries this test's channel layer, event
counter, event log and cache, for a desk server process of its own (uvicorn, as in production)
and for this process's publishing; the shared Redis is never touched.
"""
import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from channels.layers import channel_layers
from django.conf import settings

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.inbox.inbound import InboundMessage, SenderIdentity
from apps.inbox.services.ingest import messages_ingest
from tests.browser.conftest import _playwright, browser, login, off_loop, page  # noqa: F401  (fixtures)
from tests.conftest import T0
from tests.live_server import BASE_DIR, START_TIMEOUT, _stop

from .servers import PrivateRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.browser]
WAIT_MS = 60_000  # a bound: the client's reconnect backs off 1 s, 2 s, 4 s... (static/desk/live.js)


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture
def on_private_redis(private_redis, settings, transactional_db):
    """This process publishes through the private Redis (layer, counter, log, cache)."""
    layer = json.loads(json.dumps(settings.CHANNEL_LAYERS))
    layer["default"]["CONFIG"]["hosts"] = [private_redis.url]
    settings.REDIS_URL = private_redis.url
    settings.CHANNEL_LAYERS = layer
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": private_redis.url}}
    channel_layers.backends.clear()
    yield private_redis
    channel_layers.backends.clear()


@pytest.fixture
def desk_on_private_redis(on_private_redis):
    """A desk server process (tests/live_server.py) on the test database and the private Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + settings.DATABASES["default"]["NAME"]).geturl(),
        "SECRET_KEY": settings.SECRET_KEY,
        "REDIS_URL": on_private_redis.url,
        # A 1 s heartbeat (30 s in production): the socket notices a dead Redis within the test's bounds.
        "CENTRALITA_TEST_SETTINGS": json.dumps({"CHANNEL_LAYERS": settings.CHANNEL_LAYERS, "CACHES": settings.CACHES,
                                                "PRESENCE_HEARTBEAT_SECONDS": 1}),
        "CELERY_TASK_DEFAULT_QUEUE": f"unused-{os.getpid()}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    proc = subprocess.Popen([sys.executable, "-m", "tests.live_server"], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True)
    try:
        port = proc.stdout.readline().strip()
        assert port.isascii() and port.isdigit(), f"desk server did not start (exit {proc.poll()})"
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
        proc.stdout.close()


def _arrive(account, n: int) -> None:
    messages_ingest(messages=[InboundMessage(
        account_id=account.id, external_id=f"outage-{n}", sent_at=T0, text=f"Mensaje {n}",
        senders=[SenderIdentity("email", f"cliente{n}@example.com", display_name=f"Cliente {n}")])])


def test_the_desk_reconnects_after_redis_restarts_empty_and_shows_everything(
        desk_on_private_redis, on_private_redis, page, make_user, make_account, team, eager_celery):
    # given an agent's desk, live, on a desk whose Redis is private to this test
    from playwright.sync_api import expect

    agent = make_user(role=Role.AGENT, teams=[team])
    account = make_account(kind=ChannelKind.PUSH, team=team)
    desk = desk_on_private_redis
    login(page, agent, desk)
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{desk}/")
    expect(page.locator("#live.online")).to_be_visible(timeout=WAIT_MS)
    # when a message arrives, it shows live
    off_loop(_arrive, account, 1)
    expect(page.get_by_text("Cliente 1")).to_be_visible(timeout=WAIT_MS)
    # when Redis goes away: the desk says so, and a message arrives meanwhile (its event cannot be sent)
    on_private_redis.stop()
    expect(page.locator("#live.offline")).to_be_visible(timeout=WAIT_MS)
    off_loop(_arrive, account, 2)
    # when Redis comes back EMPTY (no counter, no event log) and another message arrives
    on_private_redis.start()
    expect(page.locator("#live.online")).to_be_visible(timeout=WAIT_MS)
    off_loop(_arrive, account, 3)
    # then the desk shows all three, the one from the outage included, without a reload
    for n in (1, 2, 3):
        expect(page.get_by_text(f"Cliente {n}")).to_be_visible(timeout=WAIT_MS)
