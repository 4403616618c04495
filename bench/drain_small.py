#!/usr/bin/env python
"""The fixed cost of one small drain: what a worker pays per batch when messages come one or two at a time.

    .venv/bin/python bench/drain_small.py [-n 300] [--messages 1]

At a few dozen messages a second each drain carries one or two messages, so the cost of a batch, not
of a message, sets the worker's CPU (bench/README.md, live_latency.py). This stages `--messages`
API-channel payloads from new senders and drains them in this process, N times, on PostgreSQL and
Redis (live events published to the Redis layer as the worker does), and prints CPU ms per round
(the stage included: a few tenths of a ms) and the SQL statements of one drain.
Recreates its own database (centralita_bench_drain; --database-url) and uses Redis db 15 (--redis-url).
"""
import argparse
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
    parser.add_argument("-n", type=int, default=300, help="drains to time (default 300)")
    parser.add_argument("--messages", type=int, default=1, help="messages staged before each drain (default 1)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/centralita_bench_drain"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    args = parser.parse_args()
    django_fresh(database_url=args.database_url, redis_url=args.redis_url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.connectors.drain import inbound_drain
    from apps.connectors.models import ChannelAccount
    from apps.connectors.services import payload_stage
    from config.celery import app

    account = ChannelAccount.objects.create(kind="api", name="bench small drains")
    counter = iter(range(10**9))

    def round_trip() -> None:
        for _ in range(args.messages):
            i = next(counter)
            raw = json.dumps({"external_id": f"small-{i}", "sent_at": "2026-12-06T09:00:00+00:00",
                              "sender": {"email": f"c{i}@bench.example", "name": "Cliente"},
                              "text": f"Hola, ¿dónde está mi pedido? #{i}"}).encode()
            payload_stage(account=account, kind="api", raw=raw, source="api")
        inbound_drain()

    for _ in range(20):  # warm up: imports, connections, the SLA book, the publisher loop
        round_trip()
    with CaptureQueriesContext(connection) as queries:
        round_trip()
    cpu = time.process_time()  # this process's threads: the publisher loop's included
    for _ in range(args.n):
        round_trip()
    cpu = time.process_time() - cpu
    app.control.purge()  # the drains the stages queued: nobody runs them
    print(f"{args.n} rounds of stage {args.messages} + drain: {1000 * cpu / args.n:.2f} ms CPU per round, "
          f"{len(queries)} SQL statements per round (the stage's included)")
    print(f"command .venv/bin/python bench/drain_small.py {' '.join(sys.argv[1:])}")
    print(f"load: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
