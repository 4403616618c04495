#!/usr/bin/env python
"""CSAT report figures at scale (a figure, not a test).

    .venv/bin/python bench/csat.py [--database-url postgres://postgres@127.0.0.1:5432/centralita_bench_csat]

It DROPS AND RECREATES the database it is given, migrates it and fills it by SQL: 6 channel
accounts, 5 teams, 50 agents, 100,000 customers, 100,000 resolved conversations and 500,000
surveys (one per resolution event) over the last year, ~60 % answered. Then each report query
(apps/reports/selectors.satisfaction by channel, team and agent; the agents' table) runs 10 times
over the last 30 days and over the whole year; median / p90 printed. Every figure is one GROUP BY
over csat_survey (created_at range; the agent and team names: one more query each).
"""
import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import recreate_database, timed  # noqa: E402

SEED_SQL = """
INSERT INTO accounts_team(name, created_at) SELECT 'Team '||g, now() FROM generate_series(1,5) g;
INSERT INTO accounts_user(password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, role, language, time_zone)
 SELECT '!', false, 'agent'||g, '', '', 'agent'||g||'@example.com', false, true, now(), 'agent', '', '' FROM generate_series(1,50) g;
INSERT INTO connectors_channelaccount(kind,name,settings,secrets,cursor,inbound_token_hash,enabled,created_at,last_error,consecutive_failures,poll_interval,secrets_meta,csat_enabled)
 SELECT k, 'bench '||k, '{}', '', '{}', '', true, now(), '', 0, 0, '{}', true FROM unnest(ARRAY['api','email','twitter','facebook','phone','webform']) k;
INSERT INTO crm_customer(display_name, created_at, updated_at, tags) SELECT 'Customer '||g, now(), now(), '[]' FROM generate_series(1,100000) g;
INSERT INTO inbox_conversation(customer_id, channel_account_id, status, priority, subject, is_public, created_at,
                               last_activity_at, last_message_preview, message_count, sla_clock)
 SELECT c.min + g, a.min + g % 6, 'resolved', 1, 'subject '||g, false, now(), now(), 'preview', 3, ''
 FROM generate_series(0,99999) g, (SELECT min(id) FROM crm_customer) c, (SELECT min(id) FROM connectors_channelaccount) a;
INSERT INTO inbox_conversationevent(conversation_id, kind, actor_id, data, created_at)
 SELECT v.min + g % 100000, 'status', u.min + g % 50, '{"from": "open", "to": "resolved"}', now() - ((g * 63)||' seconds')::interval
 FROM generate_series(0,499999) g, (SELECT min(id) FROM inbox_conversation) v, (SELECT min(id) FROM accounts_user) u;
INSERT INTO csat_survey(resolution_id, conversation_id, customer_id, channel_kind, team_id, agent_id, status, skip_reason, skip_detail,
                        language, token, expires_at, message_id, carrier_id, score, comment, answered_at, created_at)
 SELECT e.id, e.conversation_id, v.customer_id, a.kind, t.min + e.id % 5, e.actor_id,
        CASE WHEN e.id % 10 < 6 THEN 'answered' WHEN e.id % 10 < 8 THEN 'sent' ELSE 'skipped' END,
        CASE WHEN e.id % 10 >= 8 THEN 'recent' ELSE '' END, '', 'es',
        CASE WHEN e.id % 10 < 8 THEN md5(e.id::text) || md5((e.id * 7)::text) END, e.created_at + interval '14 days', NULL, NULL,
        CASE WHEN e.id % 10 < 6 THEN 1 + (e.id * 7) % 5 END, '', CASE WHEN e.id % 10 < 6 THEN e.created_at END, e.created_at
 FROM inbox_conversationevent e JOIN inbox_conversation v ON v.id = e.conversation_id
 JOIN connectors_channelaccount a ON a.id = v.channel_account_id, (SELECT min(id) FROM accounts_team) t;
ANALYZE;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgres://postgres@127.0.0.1:5432/centralita_bench_csat"))
    args = parser.parse_args()
    recreate_database(args.database_url)
    os.environ.update(DATABASE_URL=args.database_url, LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in filter(str.strip, SEED_SQL.split(";\n")):
            cursor.execute(statement)
    from apps.csat.models import Survey
    from apps.reports import selectors
    from apps.reports.selectors import ReportFilters

    print(f"seeded {Survey.objects.count():,} surveys in {time.perf_counter() - started:.0f} s")
    today = date.today()
    periods = {"30 days": ReportFilters(start=today - timedelta(days=29), end=today),
               "365 days": ReportFilters(start=today - timedelta(days=364), end=today)}
    print(f"{'case':40} {'rows':>5} {'p50 ms':>8} {'p90 ms':>8}")
    for label, f in periods.items():
        for by in ("channel", "team", "agent"):
            rows = selectors.satisfaction(f, by=by)
            p50, p90 = timed(lambda: selectors.satisfaction(f, by=by))
            print(f"{'csat by ' + by + ', ' + label:40} {len(rows):5} {p50:8.1f} {p90:8.1f}")
        p50, p90 = timed(lambda: selectors.agent_performance(f), runs=5)
        print(f"{'agents table (with CSAT), ' + label:40} {'':5} {p50:8.1f} {p90:8.1f}")
    print(f"command: .venv/bin/python bench/csat.py --database-url {args.database_url}")


if __name__ == "__main__":
    main()
