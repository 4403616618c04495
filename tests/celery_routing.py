import os
import subprocess
import sys
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from config.celery import app as celery_app


@contextmanager
def tasks_routed_to(queue: str, *task_names: str):
    """Route these tasks to `queue` in this process. Celery caches its router on first use, so it
    is rebuilt: changing conf.task_routes alone is ignored once any task was sent."""
    amqp, before = celery_app.amqp, celery_app.conf.task_routes
    celery_app.conf.task_routes = {name: {"queue": queue} for name in task_names}
    amqp._rtable = None  # the route table and the router are both built lazily, then cached
    amqp.__dict__.pop("router", None)
    try:
        yield
    finally:
        celery_app.conf.task_routes = before
        amqp._rtable = None
        amqp.__dict__.pop("router", None)


def start_test_worker(queue: str) -> subprocess.Popen:
    """A real Celery worker on the test database and Redis, consuming only `queue`."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    # Its cache keys are this test process's (per-xdist-worker prefix): the drain clears the nudge key it set.
    env["CACHE_KEY_PREFIX"] = settings.CACHES["default"].get("KEY_PREFIX", "")
    layer = settings.CHANNEL_LAYERS["default"].get("CONFIG", {})
    if "prefix" in layer:
        # Its live events go to this test process's channel layer (per-xdist-worker prefix).
        env["CHANNEL_LAYER_PREFIX"] = layer["prefix"]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "--without-heartbeat",
         "--without-gossip", "--without-mingle", "-Q", queue, "-l", "WARNING"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def wait_until(condition, seconds: float = 60, interval: float = 0.1) -> bool:
    """A bound on waiting for a worker process, not an assertion on speed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
