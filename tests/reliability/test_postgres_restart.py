"""PostgreSQL restarted while messages pour in: once it is back, every message the provider got a
202 for is in the desk exactly once (nothing lost, nothing doubled, no dead letter made of a
database outage).

Everything runs on PRIVATE servers this test starts (tests/reliability/servers.py): a PostgreSQL
cluster made with initdb in a temp dir, a redis-server, a desk server (uvicorn) and a Celery
worker with its beat (the beat drains staged payloads every 5 s, so payloads whose drain died with
the database are picked up again). The "provider" posts to the inbound API and, as providers do,
retries what was not acknowledged.
"""
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import requests

from tests.live_server import BASE_DIR, _stop

from .servers import PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
MESSAGES = 60
RESTART_AFTER = 20  # acknowledged messages before the database goes away
TOKEN = "ct_pg_restart_token_0123456789abcdef"
BOUND = 240  # seconds: a bound on waiting on a loaded machine, not a speed check


@pytest.fixture
def stack():
    pg, redis_server, procs = PrivatePostgres(), PrivateRedis(), []
    try:
        pg.init().start()
        pg._run(str(pg.BIN / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "centralita")
        redis_server.start()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": pg.url, "REDIS_URL": redis_server.url,
               "SECRET_KEY": "pg-restart-test-" + "x" * 40, "CELERY_TASK_ALWAYS_EAGER": "false",
               "CELERY_TASK_DEFAULT_QUEUE": "celery"}
        for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "CENTRALITA_TEST_SETTINGS", "CHANNEL_LAYER_PREFIX", "CACHE_KEY_PREFIX"):
            env.pop(name, None)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput"], cwd=BASE_DIR, env=env, check=True, capture_output=True, timeout=600)
        made = subprocess.run([*manage, "shell", "-c", (
            "from apps.connectors.models import ChannelAccount as A; "
            f"a = A.objects.create(kind='api', name='PG restart', inbound_token_hash=A.hash_token('{TOKEN}')); print(a.id)")],
            cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True, timeout=300)
        account_id = int(made.stdout.strip().splitlines()[-1])
        server = subprocess.Popen([sys.executable, "-m", "tests.live_server"], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True)
        procs.append(server)
        port = server.stdout.readline().strip()
        assert port.isascii() and port.isdigit(), "desk server did not start"
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-P", "solo", "--without-heartbeat",
             "--without-gossip", "--without-mingle", "-Q", "celery", "-l", "WARNING", "-s", str(pg.dir / "beat-schedule")],
            cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(worker)
        yield pg, f"http://127.0.0.1:{port}", account_id
    finally:
        for proc in reversed(procs):
            _stop(proc)
        redis_server.stop()
        pg.destroy()


def _count(pg, sql: str) -> int:
    with psycopg2.connect(pg.url.replace("postgres://", "postgresql://")) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_nothing_is_lost_or_doubled_when_postgres_restarts_during_ingestion(stack):
    pg, desk, account_id = stack
    acknowledged, refused = [], []
    restarted = threading.Event()

    def deliver(n: int) -> None:
        """The provider: POST until acknowledged (it retries on errors and timeouts)."""
        body = json.dumps({"external_id": f"pg-{n}", "sender": {"email": f"c{n}@example.com"}, "text": f"mensaje {n}"})
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            try:
                status = requests.post(f"{desk}/api/inbound/{account_id}/", data=body, timeout=10,
                                       headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}).status_code
            except requests.RequestException:
                status = None
            if status == 202:
                acknowledged.append(n)
                return
            refused.append(status)
            time.sleep(0.2)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(deliver, n) for n in range(MESSAGES)]
        # when the database restarts part-way through the stream
        while len(acknowledged) < RESTART_AFTER:
            time.sleep(0.05)
        pg.stop("fast")  # every session is cut, mid-request and mid-drain alike
        time.sleep(1)
        pg.start()
        restarted.set()
        for future in futures:
            future.result()

    # then every message was acknowledged in the end (some only after retries) ...
    assert sorted(acknowledged) == list(range(MESSAGES))
    # ... and, drained, each is one message: none lost, none doubled, none a dead letter
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and (
            _count(pg, "select count(*) from connectors_inboundpayload")
            or _count(pg, "select count(*) from inbox_message") < MESSAGES):
        time.sleep(0.5)
    assert _count(pg, "select count(*) from connectors_inboundpayload") == 0
    assert _count(pg, "select count(*) from inbox_message") == MESSAGES
    assert _count(pg, "select count(distinct external_id) from inbox_message") == MESSAGES
    assert _count(pg, "select count(*) from inbox_deadletter") == 0
    assert refused, "the restart was not felt: no delivery had to be retried"
