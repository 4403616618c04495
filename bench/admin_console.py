#!/usr/bin/env python
"""The admin's console at scale: the audit log at 1M entries, its CSV export, and a customer's
erasure (a figure, not a test).

    .venv/bin/python bench/admin_console.py \
        [--database-url postgres://postgres@127.0.0.1:5432/centralita_bench_admin]

It DROPS AND RECREATES the database it is given (default centralita_bench_admin), migrates it and
fills it by SQL: 1,000,000 audit entries (sign-ins, user and team changes by 50 admins over a year),
and one customer with 25,000 messages in 500 conversations (20,000 more conversations of 40 others). Then, through
Django's test client as an admin (view + template or serializer + SQL, no HTTP server), each case
runs 20 times and the median / p90 are printed:
- the audit page: first page, filtered by an action group, by one admin, a date range, and 100
  pages deep (keyset);
- the API's JSON page;
- the CSV export of every sign-in failure (rows/s);
- erasing the customer (one call of the service: redaction, identities, audit; embedded channel
  layer, so the live-event part is the in-process log).
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import recreate_database, timed  # noqa: E402

SEED_SQL = """
INSERT INTO accounts_user(password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, role)
 SELECT '!', false, 'admin'||g, '', '', 'admin'||g||'@example.com', false, true, now(), 'admin' FROM generate_series(1,50) g;
INSERT INTO audit_auditentry(actor_id, actor_label, action, target_type, target_id, target_label, before, after, ip, created_at)
 SELECT u.min + g % 50, 'admin'||(1 + g % 50),
        (ARRAY['auth.login','auth.login','auth.login','auth.login_failed','user.role_changed','user.teams_changed','team.created','webhook.updated'])[1+g%8],
        'user', (g % 5000)::text, 'user'||(g % 5000),
        CASE WHEN g%8=4 THEN '{"role": "agent"}'::jsonb ELSE '{}'::jsonb END,
        CASE WHEN g%8=4 THEN '{"role": "supervisor"}'::jsonb ELSE '{}'::jsonb END,
        ('10.0.'||(g%250)||'.'||(g%200))::inet, now() - ((g * 31.5)||' seconds')::interval
 FROM generate_series(1,1000000) g, (SELECT min(id) FROM accounts_user) u;
INSERT INTO connectors_channelaccount(kind,name,settings,secrets,cursor,inbound_token_hash,enabled,created_at,last_error,
                                      consecutive_failures,poll_interval,secrets_meta,csat_enabled)
 VALUES ('email','bench','{}','','{}','',true,now(),'',0,60,'{}',false);
INSERT INTO crm_customer(display_name, created_at, updated_at) SELECT 'Customer '||g, now(), now() FROM generate_series(1,41) g;
INSERT INTO crm_identity(customer_id, kind, value, handle, display_name, created_at)
 SELECT id, 'email', 'c'||id||'@example.com', '', '', now() FROM crm_customer;
INSERT INTO inbox_conversation(customer_id, channel_account_id, status, priority, subject, is_public, created_at,
                               last_activity_at, last_message_preview, message_count)
 SELECT c.min + (g / 500), a.id, 'resolved', 1, 'subject '||g, false, now(), now(), 'preview', 10
 FROM generate_series(0,20499) g, (SELECT min(id) FROM crm_customer) c, (SELECT id FROM connectors_channelaccount) a;
INSERT INTO inbox_message(conversation_id, customer_id, channel_account_id, direction, kind, subject, text, html, is_public,
                          sent_at, created_at, delivery_status, delivery_error, external_id, metadata)
 SELECT v.id, v.customer_id, v.channel_account_id, 'in', 'message', '', 'hola pedido '||g, '', false,
        now() - (g||' seconds')::interval, now(), 'received', '', 'm'||g, '{"call": {"from": "+34600000000"}}'
 FROM generate_series(0,24999) g JOIN inbox_conversation v ON v.id = (SELECT min(id) FROM inbox_conversation) + (g % 500) + (g / 5000) * 0;
ANALYZE;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgres://postgres@127.0.0.1:5432/centralita_bench_admin"))
    args = parser.parse_args()
    recreate_database(args.database_url)
    os.environ.update(DATABASE_URL=args.database_url, LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in filter(str.strip, SEED_SQL.split(";\n")):
            cursor.execute(statement)
    print(f"seeded 1,000,000 audit entries and 25,000 messages in {time.perf_counter() - started:.0f} s")

    from apps.accounts.models import User
    from apps.audit.models import AuditEntry
    from apps.crm.data_protection import customer_erase
    from apps.crm.models import Customer

    admin = User.objects.get(username="admin1")
    client = Client()
    client.force_login(admin)
    oldest_page = AuditEntry.objects.order_by("-created_at", "-id").values_list("created_at", "id")[100 * 100]

    def deep():
        import base64
        import json

        token = json.dumps({"b": 0, "v": oldest_page[0].isoformat(), "i": oldest_page[1]}, separators=(",", ":"))
        return client.get("/audit/", {"cursor": base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")})

    cases = [
        ("audit page, newest 100", lambda: client.get("/audit/")),
        ("audit page, action group user.", lambda: client.get("/audit/", {"action": "user."})),
        ("audit page, one admin", lambda: client.get("/audit/", {"actor": "admin7"})),
        ("audit page, one day a month ago", lambda: client.get("/audit/", {"since": _day(30), "until": _day(30)})),
        ("audit page, 100 pages deep (keyset)", deep),
        ("API /api/audit/?action=auth.login_failed", lambda: client.get("/api/audit/", {"action": "auth.login_failed"})),
    ]
    print(f"{'case':45} {'p50 ms':>8} {'p90 ms':>8}")
    for name, fn in cases:
        assert fn().status_code == 200, name
        p50, p90 = timed(fn, runs=20)
        print(f"{name:45} {p50:8.1f} {p90:8.1f}")

    started = time.perf_counter()
    response = client.get("/audit/export.csv", {"action": "auth.login_failed"})
    size = sum(len(chunk) for chunk in response.streaming_content)
    seconds = time.perf_counter() - started
    rows = AuditEntry.objects.filter(action="auth.login_failed").count()
    print(f"CSV export of {rows:,} rows ({size / 1e6:.1f} MB): {seconds:.1f} s, {rows / seconds:,.0f} rows/s")

    customer = Customer.objects.order_by("id").first()
    n = customer.messages.count()
    started = time.perf_counter()
    counts = customer_erase(customer=customer, actor=admin, confirm=customer.pk)
    print(f"erasing a customer with {n:,} messages in {counts['conversations']} conversations: "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    print(f"command: .venv/bin/python bench/admin_console.py --database-url {args.database_url}")


def _day(days_ago: int) -> str:
    from datetime import date, timedelta

    return (date.today() - timedelta(days=days_ago)).isoformat()


if __name__ == "__main__":
    main()
