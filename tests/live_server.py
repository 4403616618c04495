"""A real ASGI server for tests: uvicorn serving config.asgi:application in a subprocess.

`desk_server` (a fixture, registered in tests/conftest.py) gives the base URL, e.g.
"http://127.0.0.1:41234". The server runs in its own process, as in production, against the
PostgreSQL test database pytest-django created and the same Redis channel layer (prefix
included) as the test process, so a service called in the test publishes to the server's
sockets through Redis. Data must be committed to be seen: the fixture pulls in
`transactional_db`. One server per test session (per xdist worker).

`desk_socket(server, user=...)` opens a real websocket (the `websockets` library) as a
logged-in browser would: session cookie plus an Origin header of the server's own host.

Run as a module it is the server process itself (see `_serve`).
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent
# The server process writes the mails it sends here (Django's file backend), one directory per
# xdist worker: a test reads them with `desk_mails()` as a person reads their inbox.
MAIL_DIR = Path(tempfile.gettempdir()) / f"centralita-desk-mail-{os.getpid()}"
START_TIMEOUT = 60  # a bound on waiting for a slow start on a loaded machine, not a speed check


@pytest.fixture(scope="session")
def _desk_server_process(django_db_setup, django_db_blocker):
    if not settings.IS_POSTGRES:
        pytest.skip("the live server needs PostgreSQL (an in-memory SQLite test DB cannot be shared)")
    env = desk_server_env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.live_server"], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()  # the server prints its port once it listens
        if not line.strip().isdigit():
            pytest.fail(f"live server did not start (exit code {proc.poll()}); see its stderr above")
        url = f"http://127.0.0.1:{int(line)}"
        with urllib.request.urlopen(f"{url}/login/", timeout=START_TIMEOUT) as response:
            assert response.status == 200
        yield url
    finally:
        _stop(proc)
        proc.stdout.close()


def desk_server_env() -> dict[str, str]:
    """The environment of a server process serving this test session's database, layer and cache."""
    layer = settings.CHANNEL_LAYERS["default"].get("CONFIG", {})
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # The test database pytest-django created, not the development one.
        "DATABASE_URL": urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + settings.DATABASES["default"]["NAME"]).geturl(),
        # Sessions and their auth hashes are signed with it.
        "SECRET_KEY": settings.SECRET_KEY,
        # Channel layer and cache exactly as this process has them (per-xdist-worker prefixes).
        "CENTRALITA_TEST_SETTINGS": json.dumps({"CHANNEL_LAYERS": settings.CHANNEL_LAYERS, "CACHES": settings.CACHES}),
        # Tasks the server sends (drain, delivery) wait in a queue of this xdist worker's own, for a
        # real worker a test starts on it (`desk_worker`); other workers' tests never take them.
        "CELERY_TASK_DEFAULT_QUEUE": desk_queue(),
        # Mails the server sends (invitations, password resets) land in files a test can read.
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(MAIL_DIR),
    }
    if "prefix" in layer:  # the same prefixes as settings would build from these (gunicorn: no _serve)
        env["CHANNEL_LAYER_PREFIX"] = layer["prefix"]
    env["CACHE_KEY_PREFIX"] = settings.CACHES["default"].get("KEY_PREFIX", "")
    return env


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def desk_queue() -> str:
    return f"desk-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture
def desk_worker(desk_server):
    """A real Celery worker (own process) consuming the desk server's task queue: it drains what
    the server staged and delivers the replies agents send, publishing on this test's layer."""
    import redis

    from tests.celery_routing import start_test_worker

    broker = redis.Redis.from_url(settings.REDIS_URL)
    for key in broker.scan_iter(match=f"{desk_queue()}*"):  # tasks left by earlier tests (and priority lists)
        broker.delete(key)
    worker = start_test_worker(desk_queue())
    yield worker
    _stop(worker)
    worker.stderr.close()


@pytest.fixture
def desk_server(transactional_db, _desk_server_process) -> str:
    """Base URL of a real uvicorn serving the desk (HTTP and websockets)."""
    return _desk_server_process


def desk_mails() -> list:
    """The mails the desk server sent so far (email.message.EmailMessage objects), oldest first."""
    import email
    from email import policy

    mails = []
    for path in sorted(MAIL_DIR.glob("*.log"), key=lambda p: p.stat().st_mtime):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                mails.append(email.message_from_bytes(chunk, policy=policy.default))
    return mails


def session_cookie(user) -> str:
    """A `Cookie` header value for a logged-in session of `user` (stored in the test DB)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def desk_socket(server: str, *, user=None, token: str | None = None, origin: str | None = "same"):
    """A connected sync websocket client on /ws/desk/ (use it as a context manager)."""
    from websockets.sync.client import connect

    url = server.replace("http://", "ws://", 1) + "/ws/desk/"
    if token is not None:
        url += f"?token={token}"
    headers = {"Cookie": session_cookie(user)} if user is not None else {}
    return connect(
        url,
        origin=server if origin == "same" else origin,
        additional_headers=headers,
        open_timeout=START_TIMEOUT,
        close_timeout=2,
    )


def _serve() -> None:
    """The server process: Django set up as the test process has it, uvicorn on a free port."""
    import django
    import uvicorn

    django.setup()
    for name, value in json.loads(os.environ.get("CENTRALITA_TEST_SETTINGS", "{}")).items():
        setattr(settings, name, value)  # before anything opened a layer or a cache
    from config.asgi import application

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port: no race with other workers
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    os.dup2(2, 1)  # nobody reads stdout any more: a full pipe must not block the server
    from apps.demo.management.commands.run_desk import uvicorn_proxy_options

    # Proxy headers as `run_desk` starts uvicorn (believed from no one unless FORWARDED_ALLOW_IPS says).
    config = uvicorn.Config(
        application, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2,
        **uvicorn_proxy_options(settings.FORWARDED_ALLOW_IPS),
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    _serve()
