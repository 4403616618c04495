#!/usr/bin/env python
"""API page latency at scale: inbox, timeline, customer search, deep pages (a figure, not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/centralita_bench_api \
        .venv/bin/python bench/api_pages.py [--seed]

--seed migrates the database named by DATABASE_URL and fills it with generated rows
(10 teams, 20 channel accounts, 100k customers, 250k conversations, 1M messages) by
SQL, in about a minute. Then each endpoint is called through Django's test client (no
HTTP server: the figure is view + serializer + SQL) 30 times as an agent of two teams
and as an admin, and the median / p90 are printed, with the page 101 levels deep.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SEED_SQL = """
INSERT INTO accounts_team(name, created_at) SELECT 'Bench team '||g, now() FROM generate_series(1,10) g;
INSERT INTO connectors_channelaccount(kind,name,team_id,settings,secrets,cursor,inbound_token_hash,enabled,created_at,
                                      last_error,consecutive_failures,poll_interval,secrets_meta,csat_enabled)
 SELECT (ARRAY['api','email','twitter','facebook','phone'])[1+g%5], 'bench '||g, (SELECT min(id) FROM accounts_team)+g%10,
        '{}','','{}','',true,now(),'',0,60,'{}',false FROM generate_series(1,20) g;
INSERT INTO crm_customer(display_name, created_at, updated_at)
 SELECT (ARRAY['Ana','Bea','Carlos','Diego','Elena','Fran','Gloria','Hugo','John','Mary'])[1+g%10]||' '||
        (ARRAY['García','López','Smith','Pérez','Ruiz','Brown'])[1+(g/10)%6]||' '||g, now()-(g||' minutes')::interval, now()
 FROM generate_series(1,100000) g;
INSERT INTO crm_identity(customer_id, kind, value, handle, display_name, created_at)
 SELECT id, 'email', 'c'||id||'@example.com', 'c'||id||'@example.com', display_name, now() FROM crm_customer;
INSERT INTO inbox_conversation(customer_id, channel_account_id, status, priority, subject, team_id, is_public, created_at,
                               last_activity_at, last_message_preview, message_count)
 SELECT c.min + (g % 100000), a.min + (g % 20), (ARRAY['open','pending','resolved','resolved'])[1+g%4], 1, 'subject '||g,
        (SELECT min(id) FROM accounts_team) + (g%20)%10, false, now(), now() - (g||' seconds')::interval, 'preview', 4
 FROM generate_series(1,250000) g, (SELECT min(id) FROM crm_customer) c, (SELECT min(id) FROM connectors_channelaccount) a;
INSERT INTO inbox_message(conversation_id, customer_id, channel_account_id, direction, kind, subject, text, html, is_public,
                          sent_at, created_at, delivery_status, delivery_error, external_id, metadata)
 SELECT v.id, v.customer_id, v.channel_account_id, 'in', 'message', '', 'hola '||g, '', false,
        now() - ((g*7)||' seconds')::interval, now(), 'received', '', 'm'||g, '{}'
 FROM generate_series(1,1000000) g JOIN inbox_conversation v ON v.id = (SELECT min(id) FROM inbox_conversation) + (g % 250000);
ANALYZE;
"""


def seed():
    import django
    from django.db import connection

    django.setup()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in filter(str.strip, SEED_SQL.split(";\n")):
            cursor.execute(statement)
    print(f"seeded in {time.perf_counter() - started:.0f} s")


def measure():
    import django

    django.setup()
    from django.conf import settings
    from rest_framework.test import APIClient

    from apps.accounts.models import Role, Team, User
    from apps.inbox.models import Conversation

    settings.ALLOWED_HOSTS = ["*"]
    teams = list(Team.objects.order_by("id")[:2])
    agent, _ = User.objects.get_or_create(username="bench_agent", defaults={"role": Role.AGENT})
    agent.teams.set(teams)
    admin, _ = User.objects.get_or_create(username="bench_admin", defaults={"role": Role.ADMIN})
    customer_id = Conversation.objects.filter(team=teams[0]).order_by("-id").values_list("customer_id", flat=True)[500]

    def timed(client, url, n=30):
        client.get(url)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        times.sort()
        return f"p50 {statistics.median(times):6.1f} ms  p90 {times[int(n * 0.9) - 1]:6.1f} ms"

    urls = [
        "/api/conversations/",
        "/api/conversations/?status=open&channel=email",
        f"/api/conversations/?assignee=none&team={teams[0].id}",
        f"/api/customers/{customer_id}/timeline/",
        "/api/customers/",
        "/api/customers/?q=garc",
        "/api/customers/?q=99991",
        "/api/customers/?q=c5000@example.com",
    ]
    for user in (agent, admin):
        client = APIClient()
        client.force_login(user)
        for url in urls:
            print(f"{user.role:6} {url:50} {timed(client, url)}")
        url = "/api/conversations/?page_size=50"
        for _ in range(100):
            url = client.get(url).json()["next"]
        print(f"{user.role:6} {'/api/conversations/ page 101':50} {timed(client, url)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="migrate and fill the database first")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (it is filled with bench rows)")
    if args.seed:
        seed()
    measure()
