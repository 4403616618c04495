#!/usr/bin/env python
"""The supervisor's room at a million messages: every report for a 30-day period and the
wallboard snapshot, p50 / p95 (a figure, not a test; results in bench/README.md).

    .venv/bin/python bench/reports.py --seed          # recreate + migrate + fill (~3-5 min)
    .venv/bin/python bench/reports.py                 # measure again on the filled database
    .venv/bin/python bench/reports.py --runs 40 --explain
    .venv/bin/python bench/reports.py --backfill      # time manage.py reports_backfill, then measure

Database: BENCH_REPORTS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/centralita_bench_reports);
--seed DROPS and recreates it (bench/ingest_throughput.py recreate_database), migrates, and fills it
with bench/inbox_queries.py's SQL steps (10 teams, 20 channel accounts over 5 kinds, 100k customers,
250k conversations, 1M messages in Spanish and English), then reshapes it for reports:
- conversations spread over the last 90 days (created = first inbound), priorities 0-3, a first
  response for 85% of them (1 min - 10 h later), 45% resolved (a "status -> resolved" event by an agent);
- only open/pending conversations of the last 2 days wait (about 2.5k customers waiting, a big centre's
  queue), the rest were answered;
- messages keep their 81 days of sent_at; every outbound message gets a "replied" audit event by an
  agent with the wait it ended (first response or next), and every conversation a "created" event;
- a CSAT survey for every resolution (60% answered with a score 1-5, 20% sent, 20% skipped), so the
  CSAT tables and the agents' satisfaction columns read real rows.
The load runs with the reports' triggers dropped and ends with `manage.py reports_backfill` (facts and
inbound counts rebuilt from the inbox, apps/reports/rollups.py), as a restore would.
Then each /api/reports/<table>/ URL runs RUNS times for the last 30 days through Django's test client
(view + SQL + JSON, no HTTP server) as an unscoped supervisor, one team, and one channel; the
wallboard snapshot (selectors.wallboard_snapshot) and one publish (snapshot + layer send) too.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/centralita_bench_reports"

RESHAPE_STEPS = [
    ("random seed", "SELECT setseed(0.17)"),
    ("spread 250k conversations over 90 days", """
UPDATE inbox_conversation SET
  created_at = now() - (random() * interval '90 days'),
  priority = (ARRAY[0,1,1,1,1,1,2,2,3,1])[1 + floor(random() * 10)::int]"""),
    ("first inbound / first response / waiting", """
UPDATE inbox_conversation SET
  first_inbound_at = created_at,
  last_inbound_at = created_at,
  last_activity_at = created_at + interval '1 hour',
  first_response_at = CASE WHEN random() < 0.85 THEN created_at + (60 + random() * random() * 36000) * interval '1 second' END,
  status = CASE WHEN status IN ('open','pending') AND created_at < now() - interval '2 days' THEN 'resolved' ELSE status END"""),
    ("waiting: open and pending of the last 2 days", """
UPDATE inbox_conversation SET
  waiting_since = CASE WHEN status IN ('open','pending') AND created_at >= now() - interval '2 days' THEN created_at END,
  first_response_at = CASE WHEN status IN ('open','pending') AND created_at >= now() - interval '2 days' THEN NULL ELSE first_response_at END"""),
    ("created events (250k)", """
INSERT INTO inbox_conversationevent(conversation_id, kind, actor_id, data, created_at)
 SELECT id, 'created', NULL, '{"status": "open"}', created_at FROM inbox_conversation"""),
    ("resolved events", """
INSERT INTO inbox_conversationevent(conversation_id, kind, actor_id, data, created_at)
 SELECT c.id, 'status', u.min + (c.id % 10), '{"from": "open", "to": "resolved"}',
        least(now(), coalesce(c.first_response_at, c.created_at) + random() * interval '2 days')
 FROM inbox_conversation c, (SELECT min(id) FROM accounts_user WHERE role='agent') u WHERE c.status = 'resolved'"""),
    ("replied events for 250k outbound messages", """
INSERT INTO inbox_conversationevent(conversation_id, kind, actor_id, data, created_at)
 SELECT m.conversation_id, 'replied', u.min + (m.id % 10),
        json_build_object('message_id', m.id, 'public', false, 'first_response', m.id % 3 = 0,
                          'wait_seconds', round((60 + random() * random() * 20000)::numeric, 3))::jsonb,
        m.sent_at
 FROM inbox_message m, (SELECT min(id) FROM accounts_user WHERE role='agent') u WHERE m.direction = 'out'"""),
    ("outbound authors", """
UPDATE inbox_message m SET author_id = u.min + (m.id % 10)
 FROM (SELECT min(id) FROM accounts_user WHERE role='agent') u WHERE m.direction = 'out'"""),
    ("CSAT surveys for the resolutions (60% answered)", """
INSERT INTO csat_survey(resolution_id, conversation_id, customer_id, channel_kind, team_id, agent_id, status, skip_reason, skip_detail,
                        language, token, expires_at, message_id, carrier_id, score, comment, answered_at, created_at)
 SELECT e.id, e.conversation_id, c.customer_id, a.kind, c.team_id, e.actor_id,
        CASE WHEN e.id % 10 < 6 THEN 'answered' WHEN e.id % 10 < 8 THEN 'sent' ELSE 'skipped' END,
        CASE WHEN e.id % 10 >= 8 THEN 'recent' ELSE '' END, '', 'es',
        CASE WHEN e.id % 10 < 8 THEN md5(e.id::text) || md5((e.id * 7)::text) END, e.created_at + interval '14 days', NULL, NULL,
        CASE WHEN e.id % 10 < 6 THEN 1 + (e.id * 7) % 5 END, '', CASE WHEN e.id % 10 < 6 THEN e.created_at END, e.created_at
 FROM inbox_conversationevent e JOIN inbox_conversation c ON c.id = e.conversation_id
 JOIN connectors_channelaccount a ON a.id = c.channel_account_id
 WHERE e.kind = 'status' AND e.data->>'to' = 'resolved'"""),
    ("team routing capacity", """
INSERT INTO routing_teamrouting(team_id, mode, max_open_per_agent)
 SELECT id, 'least_loaded', 25 FROM accounts_team"""),
    ("VACUUM ANALYZE", "VACUUM ANALYZE"),
]


def seed(url: str) -> None:
    from common import recreate_database

    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    import inbox_queries
    from apps.reports import rollups

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    connection.ensure_connection()
    connection.connection.autocommit = True  # VACUUM cannot run in a transaction
    with connection.cursor() as cursor:
        # A bulk load by SQL: the reports' triggers off meanwhile, then one backfill (as docs/supervisors.md says).
        cursor.execute(rollups.DROP_TRIGGERS_SQL)
        for label, sql in [s for s in inbox_queries.SEED_STEPS if s[0] != "ANALYZE"] + RESHAPE_STEPS:
            t = time.perf_counter()
            print(f"  {label:44}", end="", flush=True)
            cursor.execute(sql)
            print(f"{time.perf_counter() - t:6.1f} s", flush=True)
        cursor.execute(rollups.TRIGGERS_SQL)
    backfill()
    print(f"seeded in {time.perf_counter() - started:.0f} s")


def backfill() -> None:
    """manage.py reports_backfill, timed: the reports' facts and inbound counts rebuilt from the inbox."""
    from django.core.management import call_command
    from django.db import connection

    t = time.perf_counter()
    print("  reports_backfill", flush=True)
    call_command("reports_backfill")
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE reports_fact")
        cursor.execute("VACUUM ANALYZE reports_inboundrollup")
    print(f"  backfill + VACUUM ANALYZE {time.perf_counter() - t:6.1f} s", flush=True)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(fn, runs: int) -> list[float]:
    fn()  # warm (plans, caches of this process)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def line(label: str, times: list[float]) -> str:
    return f"  {label:52} p50 {statistics.median(times):7.1f} ms  p95 {pct(times, 0.95):7.1f} ms"


def measure(runs: int, explain: bool) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.db import connection
    from django.utils import timezone
    from rest_framework.test import APIClient

    from apps.accounts.models import Team, User
    from apps.inbox.models import ConversationEvent, Message
    from apps.reports import selectors, services
    from apps.reports.tables import TABLES

    settings.ALLOWED_HOSTS = ["*"]
    supervisor = User.objects.filter(role="supervisor", username__startswith="bench_").order_by("id").first()
    team = Team.objects.order_by("id").first()
    end = timezone.now().astimezone(selectors.company_tz()).date()
    period = {"start": (end - timedelta(days=29)).isoformat(), "end": end.isoformat()}
    in_period = Message.objects.filter(sent_at__date__gte=period["start"]).count()
    print(f"rows: {Message.objects.count():,} messages ({in_period:,} in the 30 days), "
          f"{ConversationEvent.objects.count():,} events; period {period['start']} .. {period['end']}; {runs} runs each")
    client = APIClient()
    client.force_login(supervisor)

    def get(url, params):
        def call():
            response = client.get(url, params)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return call

    for label, extra in (("every team, every channel", {}), ("one team", {"team": team.id}), ("one channel (email)", {"channel": "email"})):
        print(f"\nreports, 30 days, {label}")
        for table in TABLES:
            print(line(f"/api/reports/{table.slug}/", timed(get(f"/api/reports/{table.slug}/", {**period, **extra}), runs)))
    print(line("/api/reports/volume/?format=csv", timed(get("/api/reports/volume/", {**period, "format": "csv"}), runs)))

    print("\nwallboard")
    print(line("selectors.wallboard_snapshot()", timed(selectors.wallboard_snapshot, runs)))
    print(line("services.wallboard_publish_now() (snapshot + 11 group sends)", timed(services.wallboard_publish_now, runs)))
    print(line("GET /api/reports/wallboard/", timed(get("/api/reports/wallboard/", {}), runs)))
    snap = selectors.wallboard_snapshot()
    print(f"  (waiting now: {sum(q['waiting'] for q in snap['queues']):,}; at risk listed: {len(snap['at_risk'])})")

    if explain:
        from datetime import date

        from django.test.utils import CaptureQueriesContext

        from apps.reports.selectors import ReportFilters

        f = ReportFilters(start=date.fromisoformat(period["start"]), end=date.fromisoformat(period["end"]))
        for table in [t for t in TABLES if t.slug in ("volume", "first-response-by-channel", "agents", "backlog")]:
            with CaptureQueriesContext(connection) as ctx:
                table.rows(f)
            for q in ctx.captured_queries:
                if "reports_" not in q["sql"]:
                    continue
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) " + q["sql"])
                    print(f"\nEXPLAIN ANALYZE: {table.slug}")
                    print("\n".join("  " + row[0] for row in cursor.fetchall()))


def latency(changes: int, rate: float) -> None:
    """Change -> wallboard frame: `changes` nudges at `rate` per second (as the desk's publishes
    do), a real Celery worker (2 processes) computing and sending snapshots, this process
    listening on the wallboard group. For each change: the first frame whose snapshot was taken
    after it (so it shows the change) minus the change's time."""
    import asyncio
    import tempfile
    import threading

    import django

    django.setup()
    from channels.layers import get_channel_layer

    from apps.inbox.visibility import WALLBOARD_GROUP
    from apps.reports import services
    from config.celery import app
    from ingest_throughput import start_worker, wait_until_ready

    app.control.purge()
    log_path = Path(tempfile.gettempdir()) / f"centralita-bench-reports-worker-{os.getpid()}.log"
    worker = start_worker(2, log_path)
    try:
        wait_until_ready(app, worker, log_path)
        fired: list[float] = []
        frames: list[tuple[float, float]] = []  # (arrived, snapshot taken)

        def fire():
            time.sleep(1.0)
            for _ in range(changes):
                fired.append(time.time())
                services.wallboard_changed(events=[{"type": "message.created"}])
                time.sleep(1 / rate)

        async def listen():
            from datetime import datetime

            layer = get_channel_layer()
            channel = await layer.new_channel()
            await layer.group_add(WALLBOARD_GROUP, channel)
            thread = threading.Thread(target=fire)
            thread.start()
            deadline = None
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), 5)
                except asyncio.TimeoutError:
                    break
                taken = datetime.fromisoformat(message["event"]["snapshot"]["generated_at"]).timestamp()
                frames.append((time.time(), taken))
                if not thread.is_alive():
                    deadline = deadline or time.time() + 3
                    if time.time() > deadline:
                        break
            thread.join()

        asyncio.run(listen())
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    waits = []
    for t in fired:
        after = [arrived for arrived, taken in frames if taken >= t]
        if after:
            waits.append((min(after) - t) * 1000)
    missing = len(fired) - len(waits)
    span = fired[-1] - fired[0] if len(fired) > 1 else 1
    print(f"\nwallboard latency: {len(fired)} changes at {rate:g}/s over {span:.1f} s -> {len(frames)} frames "
          f"({len(frames) / max(span, 1e-9):.1f} frames/s); change -> frame showing it: "
          f"p50 {statistics.median(waits):.0f} ms, p95 {pct(waits, 0.95):.0f} ms, max {max(waits):.0f} ms"
          + (f"; {missing} changes never shown" if missing else ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="DROP, recreate, migrate and fill the bench database first")
    parser.add_argument("--backfill", action="store_true", help="rebuild the reports' facts and counts first (timed)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--latency", type=float, metavar="RATE", help="measure change -> wallboard frame at RATE changes/s (starts a worker)")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_REPORTS_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"))
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, LOG_LEVEL="WARNING",
                      DJANGO_SETTINGS_MODULE="config.settings")
    if args.latency:
        # Its own queue and layer namespace: other workers on this Redis never take these tasks.
        os.environ.update(CELERY_TASK_DEFAULT_QUEUE="bench-reports", CHANNEL_LAYER_PREFIX="bench-reports",
                          CELERY_BROKER_URL=args.redis_url)
        latency(args.changes, args.latency)
        sys.exit(0)
    if args.seed:
        seed(args.database_url)
    elif args.backfill:
        import django

        django.setup()
        backfill()
    measure(args.runs, args.explain)
