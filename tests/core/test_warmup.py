"""A server process pays its one-off costs before its first request (apps/core/warmup.py)."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live_server import START_TIMEOUT, _stop, desk_server_env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

WARM_AND_REPORT = """
import json, sys
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from config.wsgi import application
from apps.core.warmup import application_warm
lazy = ["config.urls", "drf_spectacular.views", "apps.reports.views", "django.contrib.messages.storage.fallback"]
from config.celery import app as celery_app
before = [m for m in lazy if m in sys.modules]
finalized = celery_app.finalized
with CaptureQueriesContext(connection) as queries:
    application_warm(application)
print(json.dumps({"before": before, "after": [m for m in lazy if m in sys.modules],
                  "celery": [finalized, celery_app.finalized],
                  "queries": len(queries.captured_queries), "open": connection.connection is not None}))
"""


@pytest.mark.django_db
def test_the_warm_up_loads_what_a_first_request_would_without_touching_the_database():
    # given a fresh process that has loaded the WSGI application, as a gunicorn worker has
    result = subprocess.run([sys.executable, "-c", WARM_AND_REPORT], cwd=BASE_DIR, env=desk_server_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # then the modules a first request imports were not loaded by the application itself ...
    assert report["before"] == []
    # ... and are once warmed: the URLconf and the views it names, the message storage
    assert report["after"] == ["config.urls", "drf_spectacular.views", "apps.reports.views",
                               "django.contrib.messages.storage.fallback"]
    # and the Celery app a webhook's first nudge would have finalized (every tasks module) is ready
    assert report["celery"] == [False, True]
    # and the warm-up read no table and left no connection for the request threads to inherit
    assert report["queries"] == 0 and report["open"] is False
    assert "warm-up GET" not in result.stderr  # its page answered 200


@pytest.mark.django_db
def test_a_gunicorn_worker_warms_before_it_serves(tmp_path):
    # given gunicorn started with the desk's configuration, and no request sent to it
    log = tmp_path / "gunicorn.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "python:config.gunicorn",
                                 "--bind", f"unix:{tmp_path / 'http.sock'}", "--workers", "1"],
                                cwd=BASE_DIR, env=desk_server_env(), stdin=subprocess.DEVNULL, stderr=err)
    try:
        # then its worker reports having warmed up by itself
        deadline = time.monotonic() + START_TIMEOUT
        while "warmed in" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        _stop(proc)
