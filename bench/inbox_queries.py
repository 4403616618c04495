#!/usr/bin/env python
"""The inbox's queries at a million messages: each view, filters, search, a conversation with
its customer timeline; p50 / p99 and the EXPLAIN plans (a figure, not a test).

    createdb -h 127.0.0.1 -U postgres centralita_bench_inbox
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/centralita_bench_inbox \\
        .venv/bin/python bench/inbox_queries.py --seed        # once: migrate + fill (~2-4 min)
    DATABASE_URL=... .venv/bin/python bench/inbox_queries.py  # measure again

--seed migrates the database named by DATABASE_URL and fills it by SQL (generate_series, one
statement at a time, printing progress): 10 teams, 20 channel accounts, 100k customers with an
email identity, 250k conversations (open / pending / snoozed / resolved, priorities 0-3,
waiting clocks, some assigned, 10% tagged), 1M messages whose texts mix a dozen phrases in
Spanish and English with a reference token shared by ~20 messages (a selective search), and
read markers for the bench agent. Then every URL is called through Django's test client (view
+ serializer + SQL, no HTTP server) RUNS times as an agent of two teams and as a supervisor,
and the main list and search queries are EXPLAINed (ANALYZE) so the index use is visible.
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

CUSTOMERS, CONVERSATIONS, MESSAGES = 100_000, 250_000, 1_000_000

SEED_STEPS = [
    ("random seed", "SELECT setseed(0.42)"),  # the same rows on every --seed
    ("teams", "INSERT INTO accounts_team(name, created_at) SELECT 'Bench team '||g, now() FROM generate_series(1,10) g"),
    ("channel accounts", """
INSERT INTO connectors_channelaccount(kind,name,team_id,settings,secrets,cursor,inbound_token_hash,enabled,created_at,
                                      last_error,consecutive_failures,poll_interval,secrets_meta)
 SELECT (ARRAY['api','email','twitter','facebook','phone'])[1+g%5], 'bench '||g, (SELECT min(id) FROM accounts_team)+g%10,
        '{}','','{}','',true,now(),'',0,60,'{}' FROM generate_series(1,20) g"""),
    ("100k customers", f"""
INSERT INTO crm_customer(display_name, created_at, updated_at, tags)
 SELECT (ARRAY['Ana','Bea','Carlos','Diego','Elena','Fran','Gloria','Hugo','John','Mary'])[1+g%10]||' '||
        (ARRAY['García','López','Smith','Pérez','Ruiz','Brown'])[1+(g/10)%6]||' '||g, now()-(g||' minutes')::interval, now(), '[]'
 FROM generate_series(1,{CUSTOMERS}) g"""),
    ("100k identities", """
INSERT INTO crm_identity(customer_id, kind, value, handle, display_name, created_at)
 SELECT id, 'email', 'c'||id||'@example.com', 'c'||id||'@example.com', display_name, now() FROM crm_customer"""),
    ("bench users", """
INSERT INTO accounts_user(password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, role,
                          language, time_zone)
 SELECT '!', false, 'bench_'||r||g, '', '', '', false, true, now(), r, '', ''
 FROM (VALUES ('agent'), ('supervisor')) AS v(r), generate_series(1,10) g"""),
    ("agents' teams", """
INSERT INTO accounts_user_teams(user_id, team_id)
 SELECT u.id, t.id FROM accounts_user u JOIN accounts_team t ON t.id % 5 = u.id % 5 WHERE u.role = 'agent'"""),
    ("250k conversations", f"""
INSERT INTO inbox_conversation(customer_id, channel_account_id, status, priority, subject, team_id, is_public, created_at,
                               last_activity_at, last_message_preview, message_count, waiting_since, last_inbound_at,
                               first_inbound_at, snoozed_until, assignee_id, sla_clock)
 SELECT c.min + (g % {CUSTOMERS}), a.min + (g % 20), s.status,
        (ARRAY[0,1,1,1,1,1,2,2,3,3])[1 + floor(random() * 10)::int], 'subject '||g,
        (SELECT min(id) FROM accounts_team) + (g%20)%10, false, now() - (g||' seconds')::interval,
        now() - (g||' seconds')::interval, 'preview '||g, 4,
        CASE WHEN s.status IN ('open','pending') AND random() < 0.7 THEN now() - (floor(random() * 3000)||' minutes')::interval END,
        now() - (g||' seconds')::interval, now() - (g||' seconds')::interval - interval '1 hour',
        CASE WHEN s.status = 'snoozed' THEN now() + ((g % 100)||' hours')::interval END,
        CASE WHEN random() < 0.25 THEN u.min + floor(random() * 10)::int END, ''
 FROM generate_series(1,{CONVERSATIONS}) g
 CROSS JOIN LATERAL (SELECT (ARRAY['open','pending','resolved','resolved','open','snoozed','resolved','resolved'])
                     [1 + floor(random() * 8 + g * 0)::int] AS status) s,
      (SELECT min(id) FROM crm_customer) c, (SELECT min(id) FROM connectors_channelaccount) a,
      (SELECT min(id) FROM accounts_user WHERE role='agent') u"""),
    ("1M messages", f"""
INSERT INTO inbox_message(conversation_id, customer_id, channel_account_id, direction, kind, subject, text, html, is_public,
                          sent_at, created_at, delivery_status, delivery_error, external_id, metadata)
 SELECT v.id, v.customer_id, v.channel_account_id, CASE WHEN g % 4 = 0 THEN 'out' ELSE 'in' END, 'message', '',
        (ARRAY['Hola, mi pedido no ha llegado todavía','Where is my refund? It has been two weeks',
               'La factura tiene un importe incorrecto','I cannot log in to my account',
               'Quiero cambiar la dirección de entrega','The package arrived damaged',
               'Gracias por la ayuda, todo resuelto','Can you send me the invoice again?',
               '¿Tenéis la mesa en color roble?','My order number is wrong on the receipt',
               'El repartidor no encontró mi casa','Please cancel my subscription'])[1 + floor(random() * 12)::int]
          ||' ref'||floor(random() * 50000)::int, '', false,
        now() - ((g*7)||' seconds')::interval, now(), 'received', '', 'm'||g, '{{}}'
 FROM generate_series(1,{MESSAGES}) g
 JOIN inbox_conversation v ON v.id = (SELECT min(id) FROM inbox_conversation) + (g % {CONVERSATIONS})"""),
    ("tags", """
INSERT INTO inbox_tag(name, created_at) SELECT n, now() FROM unnest(ARRAY['vip','billing','refund','delivery','bug']) n"""),
    ("25k tagged conversations", """
INSERT INTO inbox_tag_conversations(tag_id, conversation_id)
 SELECT t.min + (c.id % 5), c.id FROM inbox_conversation c, (SELECT min(id) FROM inbox_tag) t WHERE c.id % 10 = 0"""),
    ("read markers", """
INSERT INTO inbox_conversationread(user_id, conversation_id, last_read_at)
 SELECT u.id, c.id, now() FROM inbox_conversation c, (SELECT min(id) AS id FROM accounts_user WHERE role='agent') u
 WHERE c.id % 3 = 0"""),
    ("ANALYZE", "ANALYZE"),
]


def seed():
    import django
    from django.db import connection

    django.setup()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for label, sql in SEED_STEPS:
            t = time.perf_counter()
            print(f"  {label:28}", end="", flush=True)
            cursor.execute(sql)
            print(f"{time.perf_counter() - t:6.1f} s", flush=True)
    print(f"seeded in {time.perf_counter() - started:.0f} s")


def measure(runs: int, explain: bool):
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.inbox.models import Conversation, Message
    from apps.inbox.selectors import ConversationFilters, conversation_list

    settings.ALLOWED_HOSTS = ["*"]
    agent = User.objects.filter(role="agent", username__startswith="bench_").order_by("id").first()
    supervisor = User.objects.filter(role="supervisor", username__startswith="bench_").order_by("id").first()
    team_ids = list(agent.teams.values_list("id", flat=True))
    conv = Conversation.objects.filter(team_id__in=team_ids, message_count__gt=0).order_by("-id")[1000:1001].get()
    print(f"rows: {Message.objects.count():,} messages, {Conversation.objects.count():,} conversations; "
          f"agent {agent.username} of {len(team_ids)} teams; {runs} runs each")

    def timed(client, url):
        client.get(url)  # warm
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        return f"p50 {statistics.median(times):6.1f} ms  p99 {p99:6.1f} ms  rows {len(response.json().get('results', []))}"

    lists = [
        "view=mine", "view=unassigned", "view=teams", "view=all",
        "view=all&channel=email", "view=all&priority=3", "view=all&tag=vip", "view=all&sla=breached",
        "view=all&sla=warning", "view=all&status=any", "view=all&status=snoozed",
        "view=all&q=refund", "view=all&q=ref12345", "view=all&q=pedido llegado", "view=all&q=garcía 999",
        "view=all&q=c5000@example.com",
    ]
    for user in (agent, supervisor):
        client = APIClient()
        client.force_login(user)
        print(f"\n{user.role}")
        for query in lists:
            print(f"  /api/conversations/?{query:36} {timed(client, '/api/conversations/?' + query)}")
        url = "/api/conversations/?view=all&page_size=50"
        for _ in range(50):
            url = client.get(url).json()["next"]
        print(f"  {'/api/conversations/ page 51 (keyset)':51} {timed(client, url)}")
        for path in (f"/api/conversations/{conv.id}/", f"/api/conversations/{conv.id}/messages/",
                     f"/api/customers/{conv.customer_id}/", f"/api/customers/{conv.customer_id}/timeline/"):
            print(f"  {path:51} {timed(client, path)}")

    if not explain:
        return
    plans = {
        "agent, view=all (open+pending), first page": ConversationFilters(view="all", statuses=("open", "pending")),
        "agent, view=all&sla=breached": ConversationFilters(view="all", statuses=("open", "pending"), sla="breached"),
        "agent, view=all&q=ref12345 (rare word)": ConversationFilters(view="all", statuses=("open", "pending"), q="ref12345"),
        "agent, view=all&q=refund (common word)": ConversationFilters(view="all", statuses=("open", "pending"), q="refund"),
    }
    for title, filters in plans.items():
        sql, params = conversation_list(user=agent, filters=filters)[:51].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
        print(f"\nEXPLAIN ANALYZE: {title}")
        print("\n".join("  " + line for line in plan))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="migrate and fill the database first")
    parser.add_argument("--runs", type=int, default=30, help="calls per URL (p99 of 30 is the slowest but one)")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (it is filled with bench rows)")
    if args.seed:
        seed()
    measure(args.runs, not args.no_explain)
