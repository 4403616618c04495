"""gunicorn settings for the desk's HTTP side (run_desk, docker-compose.yml: `--config python:config.gunicorn`).

Workers and threads come from the command line or WEB_WORKERS / WEB_THREADS. Each thread keeps one
PostgreSQL session (CONN_MAX_AGE below), so workers x threads is the most this side ever holds: a burst
of webhooks queues in nginx and the listen backlog instead of opening sessions until PostgreSQL refuses.
"""
import os

# Set before the workers import Django (they inherit it): persistent, health-checked connections,
# one per thread. Under uvicorn each request ran in a thread of its own and this would leak sessions.
os.environ.setdefault("CONN_MAX_AGE", "600")

wsgi_app = "config.wsgi:application"
workers = int(os.environ.get("WEB_WORKERS", "4"))
threads = int(os.environ.get("WEB_THREADS", "1"))
# Sync workers behind nginx (which buffers slow clients); gthread when threads > 1.
worker_class = "gthread" if threads > 1 else "sync"
backlog = 2048
timeout = 60
# Longer than nginx keeps an idle upstream connection (keepalive_timeout 2s): nginx, not gunicorn, ends it.
keepalive = 5
graceful_timeout = 10
accesslog = None
# HTTPS is Django's decision (TRUST_X_FORWARDED_PROTO), and the client's address apps/core/net.py's:
# gunicorn must not turn X-Forwarded-Proto into wsgi.url_scheme on its own.
secure_scheme_headers = {}
forwarded_allow_ips = ""
# gunicorn 24+ opens a control socket in ~/.gunicorn by default: two desks (or a test and a bench) on one
# machine would fight over it, and nothing here uses it.
control_socket_disable = True


def post_worker_init(worker):
    """Each worker pays its one-off costs (imports, catalogs, templates) before it serves:
    otherwise its first requests do (0.4-0.7 s each), the tail of every restart (apps/core/warmup.py)."""
    import time

    from apps.core.warmup import application_warm

    start = time.monotonic()
    application_warm(worker.wsgi)
    worker.log.info("worker %s warmed in %d ms", worker.pid, (time.monotonic() - start) * 1000)
