import itertools
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from django.conf import settings

from apps.accounts.models import Role, Team, User
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.inbox.inbound import InboundMessage, SenderIdentity
from config.celery import app as celery_app
from tests.live_server import _desk_server_process, desk_server, desk_worker  # noqa: F401  (a real uvicorn and worker for socket/browser tests)

_ids = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """Tests that need a real server are skipped on the embedded defaults, never silently in CI."""
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL or start it on localhost)")
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL or start it on localhost)")
    # CI sets CENTRALITA_REQUIRE_SERVICES=1: a missing server then fails these tests instead of skipping them.
    require = os.environ.get("CENTRALITA_REQUIRE_SERVICES") == "1"
    for item in items:
        if "postgres" in item.keywords and not settings.IS_POSTGRES:
            if require:
                item.stash[_MISSING_SERVER] = skip_pg.kwargs["reason"]
            else:
                item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            if require:
                item.stash[_MISSING_SERVER] = skip_redis.kwargs["reason"]
            else:
                item.add_marker(skip_redis)


_MISSING_SERVER = pytest.StashKey[str]()


def pytest_configure(config):
    # Satisfaction surveys follow every resolution (apps/csat): off for the suite, so a test that
    # resolves a conversation sends no extra message; tests/csat turns them on (and live servers
    # started by a test, and their workers, inherit CSAT_ENABLED=0 from this environment).
    settings.CSAT_ENABLED = False
    os.environ["CSAT_ENABLED"] = "0"
    # xdist workers share one Redis: each gets its own channel-layer and cache namespace,
    # so one worker's live events or cache keys never reach another worker's test.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and settings.REDIS_URL:
        layer = settings.CHANNEL_LAYERS["default"]["CONFIG"]
        layer["prefix"] = f"{layer.get('prefix', 'asgi')}-{worker}"  # keeps the per-Redis-db part
        settings.CACHES["default"]["KEY_PREFIX"] = worker


def _flush_retrying_deadlocks():
    """A transactional test ends with `flush` (TRUNCATE of every table). The live desk server of
    the browser and socket tests outlives a test, and may still finish what its last sockets
    started (a disconnect hands an agent's work back under row locks): PostgreSQL then breaks the
    deadlock by failing the flush. Retry it, briefly, instead of failing the next test."""
    import time

    from django.core.management.commands import flush
    from django.db import OperationalError

    handle = flush.Command.handle

    def handle_retrying(self, **options):
        for attempt in range(4):
            try:
                return handle(self, **options)
            except Exception as exc:  # CommandError wrapping the OperationalError
                deadlock = isinstance(exc.__cause__ or exc, OperationalError) and "deadlock" in str(exc.__cause__ or exc)
                if not deadlock or attempt == 3:
                    raise
                time.sleep(0.5 * (attempt + 1))

    flush.Command.handle = handle_retrying


_flush_retrying_deadlocks()


def pytest_runtest_setup(item):
    if _MISSING_SERVER in item.stash:
        pytest.fail(f"CENTRALITA_REQUIRE_SERVICES=1 and this test {item.stash[_MISSING_SERVER]}", pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_sla_book():
    """SLA policies are cached per process (apps/sla/book.py); a rolled-back test's must not linger."""
    from apps.sla.book import book_reset

    book_reset()
    yield
    book_reset()


@pytest.fixture(autouse=True)
def _sla_default_policies(request):
    """The default SLA policies (a data migration's rows): a transactional test's flush deletes them
    for the tests after it, so every test that uses the database gets them back."""
    names = set(request.fixturenames)
    if names & {"transactional_db", "live_server", "desk_server"}:
        request.getfixturevalue("transactional_db")
    elif "db" in names or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
    else:
        return
    from apps.sla.defaults import default_policies_ensure

    default_policies_ensure()


@pytest.fixture
def eager_celery():
    """Run tasks in-process even when REDIS_URL points the broker at a real Redis."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def team(db):
    return Team.objects.create(name=f"Team {next(_ids)}")


@pytest.fixture
def make_user(db):
    def make(role=Role.AGENT, teams=(), **kwargs):
        n = next(_ids)
        user = User.objects.create_user(username=kwargs.pop("username", f"user{n}"), password="pw-secret-123", role=role, **kwargs)
        user.teams.set(teams)
        return user

    return make


@pytest.fixture
def make_account(db):
    def make(kind=ChannelKind.PUSH, team=None, **kwargs):
        return ChannelAccount.objects.create(kind=kind, name=kwargs.pop("name", f"{kind} {next(_ids)}"), team=team, **kwargs)

    return make


@pytest.fixture
def account(make_account):
    return make_account()


T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def inbound():
    """Builds InboundMessages with sensible defaults."""

    def build(account, external_id=None, *, email=None, phone=None, name="Ana García", minutes=0, **kwargs):
        senders = kwargs.pop("senders", None)
        if senders is None:
            senders = []
            if email:
                senders.append(SenderIdentity("email", email, display_name=name))
            if phone:
                senders.append(SenderIdentity("phone", phone, display_name=name))
        return InboundMessage(
            account_id=account.id,
            external_id=external_id or f"ext-{next(_ids)}",
            senders=senders,
            sent_at=kwargs.pop("sent_at", T0 + timedelta(minutes=minutes)),
            text=kwargs.pop("text", "Hola, mi pedido no ha llegado"),
            **kwargs,
        )

    return build


def public_rate_limits_clear(ip: str = "127.0.0.1") -> None:
    """Forget an address's counts on the public pages (web form submissions, help-center
    suggestions and deflection events): browsers and the test client post from 127.0.0.1, and
    the counters live in the shared cache (Redis) across tests and runs."""
    from apps.connectors.webform.services import rate_limit_reset, submission_rate_limit
    from apps.connectors.webform.views import rate_limit_subject
    from apps.helpcenter.views import suggest_rate_limit

    subject = rate_limit_subject(ip)
    rate_limit_reset(scope="submit", subject=subject, rate=submission_rate_limit())
    for scope in ("help-suggest", "help-events"):
        rate_limit_reset(scope=scope, subject=subject, rate=suggest_rate_limit())


def frame_events(frame) -> list[dict]:
    """The events of one desk-socket frame (text, or already parsed): one event, or an array of
    the events published together (apps/inbox/consumers.py sends a bundle in one frame)."""
    data = json.loads(frame) if isinstance(frame, (str, bytes)) else frame
    return data if isinstance(data, list) else [data]
