"""The SLA sweep at a million conversations: database time of one minute's sweep, and its plan.

    .venv/bin/python bench/sla_sweep.py                     # 1,000,000 conversations, 200 due this minute
    .venv/bin/python bench/sla_sweep.py -n 200000 --due 1000

DROPS AND RECREATES its own database (centralita_bench_sla; --database-url / BENCH_DATABASE_URL)
and migrates it; live events go to Redis (--redis-url, default db 14). Your data is not touched.

What it does:
1. writes N conversations with SQL (generate_series): 45% open or pending with running or paused
   clocks (first response, resolution) whose warning/due times spread over the next 30 days,
   the rest resolved with stopped clocks; `--due` clocks crossed their warning or target during
   the last minute (what one beat finds);
2. prints EXPLAIN (ANALYZE, BUFFERS) of the sweep's selection and of the desk's SLA counts;
3. runs `clocks_sweep()` once, timing every SQL statement it sends (database time) and the whole
   call (wall time: events, notifications, escalation included), then once more (nothing left:
   the steady-state cost of a beat).
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import recreate_database  # noqa: E402


def setup_django(database_url: str, redis_url: str) -> None:
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, LOG_LEVEL="WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(n: int, due: int) -> None:
    from django.db import connection

    from apps.accounts.models import Role, Team, User
    from apps.connectors.models import ChannelAccount
    from apps.sla.models import SlaPolicy

    team = Team.objects.create(name="Bench")
    User.objects.create_user(username="boss", password="x", role=Role.SUPERVISOR).teams.set([team])
    account = ChannelAccount.objects.create(kind="email", name="bench", team=team)
    policy = SlaPolicy.objects.order_by("position").first()
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute("INSERT INTO crm_customer (display_name, created_at, updated_at) "
                  "SELECT 'Customer ' || g, now(), now() FROM generate_series(1, %s) g", [max(1, n // 10)])
        c.execute("SELECT min(id) FROM crm_customer")
        first_customer = c.fetchone()[0]
        # 45% live (open 35%, pending 10%), the rest resolved; the due ones are the first `due` ids.
        c.execute(
            """
            INSERT INTO inbox_conversation (customer_id, channel_account_id, team_id, status, priority, subject, is_public,
                created_at, last_activity_at, last_message_preview, message_count, waiting_since, sla_policy_id,
                sla_clock, sla_due_at, sla_warn_at, sla_paused_seconds)
            SELECT %(c0)s + g %% %(customers)s, %(account)s, %(team)s,
                   CASE WHEN g <= %(due)s OR g %% 20 < 7 THEN 'open' WHEN g %% 20 < 9 THEN 'pending' ELSE 'resolved' END,
                   1, 'Pedido ' || g, false, now() - interval '40 days' + g * interval '3 seconds', now() - (g %% 100000) * interval '1 minute',
                   'Hola', 2,
                   CASE WHEN g <= %(due)s OR g %% 20 < 9 THEN now() - interval '1 hour' END,
                   %(policy)s,
                   CASE WHEN g <= %(due)s OR g %% 20 < 9 THEN 'first_response' ELSE '' END,
                   CASE WHEN g <= %(due)s THEN now() + CASE WHEN g %% 2 = 0 THEN interval '-30 seconds' ELSE interval '10 minutes' END
                        WHEN g %% 20 < 7 THEN now() + (20 + g %% 43200) * interval '1 minute' END,
                   CASE WHEN g <= %(due)s THEN now() - interval '40 seconds'
                        WHEN g %% 20 < 7 THEN now() + (20 + g %% 43200) * interval '1 minute' - interval '15 minutes' END,
                   CASE WHEN g > %(due)s AND g %% 20 BETWEEN 7 AND 8 THEN 1800 END
            FROM generate_series(1, %(n)s) g
            """,
            {"c0": first_customer, "customers": max(1, n // 10), "account": account.id, "team": team.id, "due": due,
             "policy": policy.id, "n": n},
        )
        # One clock per conversation: running / paused / stopped as the conversation is.
        c.execute(
            """
            INSERT INTO sla_clock (conversation_id, policy_id, kind, status, target_seconds, warning_percent, started_at,
                elapsed_seconds, segment_start, due_at, warn_at, stopped_at, warned_at, breached_at, next_check_at)
            SELECT id, %(policy)s, 'first_response',
                   CASE WHEN status = 'open' THEN 'running' WHEN status = 'pending' THEN 'paused' ELSE 'stopped' END,
                   3600, 75, coalesce(waiting_since, created_at), 0,
                   CASE WHEN status = 'open' THEN waiting_since END, sla_due_at, sla_warn_at,
                   CASE WHEN status = 'resolved' THEN last_activity_at END,
                   CASE WHEN status = 'open' AND sla_warn_at < now() - interval '1 minute' THEN sla_warn_at END, NULL,
                   CASE WHEN status = 'open' THEN sla_warn_at END
            FROM inbox_conversation
            """,
            {"policy": policy.id},
        )
        c.execute("ANALYZE")
    print(f"populated {n:,} conversations ({due} due this minute) in {time.perf_counter() - started:.0f} s")


def explain(sql: str, params) -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        for (line,) in c.fetchall():
            print("   ", line)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/centralita_bench_sla"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    print("command:", " ".join([".venv/bin/python", *sys.argv]))
    recreate_database(args.database_url)
    setup_django(args.database_url, args.redis_url)
    populate(args.n, args.due)

    from django.db import connection
    from django.utils import timezone

    from apps.inbox.models import Conversation
    from apps.sla.models import Clock
    from apps.sla.services import SWEEP_BATCH, clocks_sweep

    now = timezone.now()
    selection = Clock.objects.filter(next_check_at__lte=now).order_by("next_check_at").values_list("id", "conversation_id")[:SWEEP_BATCH]
    sql, params = selection.query.sql_with_params()
    print("\nEXPLAIN the sweep's selection:")
    explain(sql, params)
    print("\nEXPLAIN the desk's SLA counts (breached, due soon):")
    for q in (Conversation.objects.filter(sla_due_at__lte=now), Conversation.objects.filter(sla_warn_at__lte=now, sla_due_at__gt=now)):
        sql, params = q.values("id").query.sql_with_params()
        explain(f"SELECT count(*) FROM ({sql}) t", params)

    for label in ("the minute's sweep", "the next sweep (nothing due)"):
        spent = []

        slowest = {}

        def timed(execute, sql, params, many, context):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent.append(time.perf_counter() - t)
                key = sql[:90]
                slowest[key] = slowest.get(key, 0) + spent[-1]

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            fired = clocks_sweep()
        wall = time.perf_counter() - started
        print(f"\n{label}: fired {fired}; {len(spent)} statements, database time {sum(spent) * 1000:.0f} ms, "
              f"wall {wall * 1000:.0f} ms")
        for key, seconds in sorted(slowest.items(), key=lambda kv: -kv[1])[:6]:
            print(f"    {seconds * 1000:7.0f} ms  {key}")


if __name__ == "__main__":
    main()
