"""The split layout (apps/demo/serving.py) on real servers: nginx -> gunicorn for HTTP, uvicorn for /ws/.

A webhook burst against real gunicorn workers must be answered (no 5xx) while the PostgreSQL
sessions of the HTTP side stay at workers x threads, however many POSTs are in flight.
"""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from apps.connectors.models import InboundPayload
from apps.connectors.services import channel_account_rotate_token
from apps.demo import serving
from apps.demo.management.commands.run_desk import desk_processes
from tests.live_server import START_TIMEOUT, _stop, desk_server_env, desk_socket
from tests.loopback import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
BASE_DIR = Path(__file__).resolve().parent.parent.parent



@pytest.fixture
def split_desk(transactional_db, tmp_path):
    """Starts the layout run_desk starts with REDIS_URL (without Celery): yields (url, layout)."""
    if not settings.IS_POSTGRES or not settings.REDIS_URL:
        pytest.skip("the split layout needs PostgreSQL and Redis")
    nginx = serving.nginx_binary()
    if nginx is None:
        if os.environ.get("CENTRALITA_REQUIRE_SERVICES") == "1":
            pytest.fail("nginx is not installed (.ci/run installs nginx-light)")
        pytest.skip("nginx is not installed")
    layout = serving.SplitLayout(listen_host="127.0.0.1", listen_port=free_port(), run_dir=tmp_path / "run",
                                 http_workers=2, http_threads=2)
    serving.prepare(layout)
    env = {**desk_server_env(), **serving.app_environment(trusted_proxies=0)}
    processes = desk_processes(python=sys.executable, host=layout.listen_host, port=layout.listen_port,
                               simulator=False, celery=False, split=layout, nginx=nginx)
    running = [subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdin=subprocess.DEVNULL) for _, argv in processes]
    url = f"http://127.0.0.1:{layout.listen_port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/login/", timeout=5) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.HTTPError):
                pass
            assert all(p.poll() is None for p in running), "a server of the split layout exited"
            assert time.monotonic() < deadline, "the split layout did not answer"
            time.sleep(0.2)
        yield url, layout
    finally:
        for proc in running:
            _stop(proc)


def test_split_layout_runs_the_processes_run_desk_names(tmp_path):
    layout = serving.SplitLayout(listen_host="0.0.0.0", listen_port=9000, run_dir=tmp_path, http_workers=3, http_threads=2)
    processes = dict(desk_processes(python="py", host="0.0.0.0", port=9000, simulator=False, celery=True,
                                    split=layout, nginx="/usr/sbin/nginx"))
    assert list(processes) == ["http", "ws", "proxy", "worker", "beat"]
    assert processes["http"][:6] == ["py", "-m", "gunicorn", "--config", "python:config.gunicorn", "--bind"]
    assert processes["http"][-4:] == ["--workers", "3", "--threads", "2"]
    assert "config.asgi:websocket_only" in processes["ws"] and "--no-proxy-headers" in processes["ws"]
    assert processes["proxy"][0] == "/usr/sbin/nginx"
    assert layout.db_connections == 6
    # behind the proxy the app trusts one X-Forwarded-For entry more than it was told
    assert serving.app_environment(trusted_proxies=1) == {"WEBFORM_TRUSTED_PROXIES": "2"}


def _locations(config: str) -> dict[str, str]:
    """location path -> the text of its block (the blocks hold no nested braces)."""
    return {m[1]: m[2] for m in re.finditer(r"^\s*location\s+(\S+)\s*\{([^}]*)\}", config, re.MULTILINE)}


def test_every_location_passes_the_client_host_and_address_and_http_reuses_connections(tmp_path):
    # given run_desk's proxy file and the compose one
    layout = serving.SplitLayout(listen_host="127.0.0.1", listen_port=9000, run_dir=tmp_path, http_workers=2)
    for config in (serving.nginx_config(layout), (BASE_DIR / "deploy" / "nginx.conf").read_text()):
        locations = _locations(config)
        # then each location sets Host and X-Forwarded-For itself: one proxy_set_header of its own
        # (Upgrade for /ws/, Connection for /) drops every one it would inherit from the server block
        assert set(locations) == {"/ws/", "/"}
        for block in locations.values():
            assert "proxy_set_header Host $http_host" in block and "X-Forwarded-For $proxy_add_x_forwarded_for" in block
        # and HTTP keeps its connections to gunicorn open, dropping idle ones before gunicorn does
        assert 'proxy_set_header Connection ""' in locations["/"] and "keepalive 32" in config
    from config import gunicorn

    assert gunicorn.keepalive > 2


def test_docker_compose_routes_like_run_desk():
    # the compose proxy's file says what run_desk's generated one says, for both locations
    text = (BASE_DIR / "deploy" / "nginx.conf").read_text()
    for directive in " ".join([serving.PROXY_COMMON, serving.PROXY_WS, serving.PROXY_HTTP, serving.UPSTREAM_HTTP]).split(";"):
        assert directive.strip() in text, directive
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    assert "python:config.gunicorn" in compose and "config.asgi:websocket_only" in compose
    assert "--ws-per-message-deflate" in compose


def test_proxy_sends_pages_to_gunicorn_and_sockets_to_uvicorn(split_desk, make_user):
    url, layout = split_desk
    agent = make_user()
    # a page through the proxy: gunicorn answers (the socket process refuses HTTP, see below)
    with urllib.request.urlopen(f"{url}/login/", timeout=10) as response:
        assert response.status == 200 and b"<form" in response.read()
    # a desk socket through the proxy: upgraded and answered by uvicorn
    with desk_socket(url, user=agent) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello" and hello["user_id"] == agent.id
    # the socket process serves no HTTP at all: no sync view can stall its event loop
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(str(layout.ws_socket))
    conn.sendall(b"GET /login/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    answer = b""
    while chunk := conn.recv(4096):
        answer += chunk
    conn.close()
    assert answer.startswith(b"HTTP/1.1 404")


def test_webhook_burst_is_answered_with_bounded_database_sessions(split_desk, make_account):
    # given an API account and gunicorn with 2 workers x 2 threads behind nginx
    url, layout = split_desk
    account = make_account(name="burst")
    token = channel_account_rotate_token(account=account)
    database = settings.DATABASES["default"]["NAME"]
    admin = psycopg2.connect(host=settings.DATABASES["default"]["HOST"] or "127.0.0.1",
                             port=settings.DATABASES["default"]["PORT"] or 5432,
                             user=settings.DATABASES["default"]["USER"], dbname="postgres")
    admin.autocommit = True
    # sessions on the test database not opened by the servers (this process's own)
    with admin.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
        own = cursor.fetchone()[0]
    peak, sampling = [0], threading.Event()

    def sample():
        while not sampling.is_set():
            with admin.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
                peak[0] = max(peak[0], cursor.fetchone()[0] - own)
            time.sleep(0.02)

    def post(i: int) -> int:
        body = json.dumps({"external_id": f"burst-{i}", "sender": {"email": f"c{i}@example.com"}, "text": f"hola {i}"})
        request = urllib.request.Request(f"{url}/api/inbound/{account.id}/", data=body.encode(), method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    sampler = threading.Thread(target=sample)
    sampler.start()
    # when 300 webhooks arrive with 150 in flight at once (PostgreSQL would give each its own session under ASGI)
    try:
        with ThreadPoolExecutor(max_workers=150) as pool:
            statuses = list(pool.map(post, range(300)))
    finally:
        sampling.set()
        sampler.join()
        admin.close()
    # then every one is accepted, none is refused for want of a connection
    assert sorted(set(statuses)) == [202], {s: statuses.count(s) for s in set(statuses)}
    assert InboundPayload.objects.filter(channel_account=account).count() == 300
    # and the HTTP side never held more sessions than its threads (the socket process opened none here)
    assert 1 <= peak[0] <= layout.db_connections
    connection.close()
