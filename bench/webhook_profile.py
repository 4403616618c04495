#!/usr/bin/env python
"""CPU of one inbound webhook in the web process, and where it goes.

    .venv/bin/python bench/webhook_profile.py [-n 2000] [--profile]

Calls the WSGI application (what a gunicorn worker runs, without the HTTP parsing) in this process
with N POSTs to /api/inbound/<account>/, on PostgreSQL and Redis like the split layout's web process
(persistent connection, CONN_MAX_AGE=600): prints CPU ms and wall ms per POST, and with --profile a
pyinstrument tree of where the time goes. CPU time is the figure to read on a shared machine: the wall
time waits for the commit and for the cores other processes hold.
Recreates its own database (centralita_bench_webhook; --database-url) and uses Redis db 15 (--redis-url;
only the drain-nudge key is written, and drains queued there are purged at the end).
"""
import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_fresh  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="POSTs to time (default 2000)")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument tree (timings then include its overhead)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/centralita_bench_webhook"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    args = parser.parse_args()
    django_fresh(database_url=args.database_url, redis_url=args.redis_url)
    from apps.connectors.models import ChannelAccount
    from apps.connectors.services import channel_account_rotate_token
    from config.celery import app
    from config.wsgi import application

    account = ChannelAccount.objects.create(kind="api", name="bench webhook", secrets={"reply_token": "s3cret"})
    token = channel_account_rotate_token(account=account)

    def post(i: int) -> None:
        body = json.dumps({"external_id": f"w-{i}", "sender": {"email": f"c{i % 100}@bench.example", "name": "Cliente"},
                           "text": f"Hola, ¿dónde está mi pedido? #{i}"}).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": f"/api/inbound/{account.id}/", "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1",
                   "HTTP_HOST": "127.0.0.1", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
                   "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr}
        status = []
        response = application(environ, lambda s, headers, exc_info=None: status.append(s))
        b"".join(response)
        response.close()
        if not status[0].startswith("202"):
            sys.exit(f"POST {i} answered {status[0]}")

    for i in range(100):  # warm up: imports, the connection, the URL resolver
        post(-1 - i)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(args.n):
        post(i)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False))
    app.control.purge()
    print(f"{args.n} webhook POSTs in-process: {1000 * cpu / args.n:.2f} ms CPU and {1000 * wall / args.n:.2f} ms wall per POST "
          f"({args.n / cpu:,.0f} POSTs/s per busy core for this part of the path)")
    print(f"command .venv/bin/python bench/webhook_profile.py {' '.join(sys.argv[1:])}")
    print(f"load: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
