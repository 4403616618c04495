#!/usr/bin/env python
"""The inbox's queries at a million messages: each view, filters, search, a conversation with
its customer timeline, a heavy customer; p50 / p95 / p99, the CPU per request and the EXPLAIN plans
(a figure, not a test).

    createdb -h 127.0.0.1 -U postgres centralita_bench_inbox
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/centralita_bench_inbox \\
        .venv/bin/python bench/inbox_queries.py --seed        # once: migrate + fill (~2-4 min)
    DATABASE_URL=... .venv/bin/python bench/inbox_queries.py  # measure again (Django's test client)
    DATABASE_URL=... REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/inbox_queries.py --http

--seed migrates the database named by DATABASE_URL and fills it by SQL (generate_series, one
statement at a time, printing progress): 10 teams, 20 channel accounts, 100k customers with an
email identity, 250k conversations (open / pending / snoozed / resolved, priorities 0-3,
waiting clocks, some assigned, 10% tagged), 1M messages whose texts mix a dozen phrases in
Spanish and English with a reference token shared by ~20 messages (a selective search), and
read markers for the bench agent; then a heavy customer (5 identities, 250 conversations over two
years on every channel kind, 5,000 messages: calls on the phone accounts); then VACUUM ANALYZE.

Then every URL is called RUNS times as an agent of two teams and as a supervisor: by default
through Django's test client (view + serializer + SQL, no HTTP server); with --http over HTTP
through the servers production runs (run_desk with REDIS_URL: nginx -> gunicorn, started by
bench/common.start_split), logged in through the real /login/ form, one keep-alive connection.
Each line gives the client's p50 / p95 / p99 and, per request, the CPU of the serving processes
and of PostgreSQL, with the time they waited, runnable, for a core (the machine's other load).
The main list and search queries are EXPLAINed (ANALYZE) so the index use is visible.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.common import pct, sched, start_split, stop, uptime, wait_serving  # noqa: E402

CUSTOMERS, CONVERSATIONS, MESSAGES = 100_000, 250_000, 1_000_000
HEAVY_CONVERSATIONS, HEAVY_PER_CONVERSATION = 250, 20  # the heavy customer: 5,000 messages over ~2 years
HEAVY_MESSAGES, HEAVY_EMAIL = HEAVY_CONVERSATIONS * HEAVY_PER_CONVERSATION, "heavy@example.com"

SEED_STEPS = [
    ("random seed", "SELECT setseed(0.42)"),  # the same rows on every --seed
    ("teams", "INSERT INTO accounts_team(name, created_at) SELECT 'Bench team '||g, now() FROM generate_series(1,10) g"),
    ("channel accounts", """
INSERT INTO connectors_channelaccount(kind,name,team_id,settings,secrets,cursor,inbound_token_hash,enabled,created_at,
                                      last_error,consecutive_failures,poll_interval,secrets_meta,csat_enabled)
 SELECT (ARRAY['api','email','twitter','facebook','phone'])[1+g%5], 'bench '||g, (SELECT min(id) FROM accounts_team)+g%10,
        '{}','','{}','',true,now(),'',0,60,'{}',true FROM generate_series(1,20) g"""),
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
    # A heavy customer: years of email, calls, API events and social messages in one history.
    ("heavy customer", """
INSERT INTO crm_customer(display_name, created_at, updated_at, tags)
 VALUES ('Heavy Customer (bench)', now() - interval '3 years', now(), '["vip"]')"""),
    ("heavy customer's identities", f"""
INSERT INTO crm_identity(customer_id, kind, value, handle, display_name, created_at)
 SELECT (SELECT max(id) FROM crm_customer), kind, value, value, 'Heavy Customer', now()
 FROM (VALUES ('email', '{HEAVY_EMAIL}'), ('phone', '+34600000042'), ('twitter', '424242'), ('facebook', 'psid-4242'),
              ('external', 'crm-4242')) AS v(kind, value)"""),
    (f"{HEAVY_CONVERSATIONS} heavy conversations", f"""
INSERT INTO inbox_conversation(customer_id, channel_account_id, status, priority, subject, team_id, is_public, created_at,
                               last_activity_at, last_message_preview, message_count, thread_key, sla_clock)
 SELECT (SELECT max(id) FROM crm_customer), a.id, CASE WHEN k <= 4 THEN 'open' WHEN k <= 8 THEN 'pending' ELSE 'resolved' END,
        1, 'heavy '||k, a.team_id, false, now() - ((k*3)||' days')::interval, now(), '', 0, 'heavy-'||k, ''
 FROM generate_series(1,{HEAVY_CONVERSATIONS}) k
 JOIN connectors_channelaccount a ON a.id = (SELECT min(id) FROM connectors_channelaccount) + k % 20"""),
    (f"{HEAVY_MESSAGES // 1000}k heavy messages", f"""
INSERT INTO inbox_message(conversation_id, customer_id, channel_account_id, direction, kind, subject, text, html, is_public,
                          sent_at, created_at, delivery_status, delivery_error, external_id, metadata)
 SELECT v.id, v.customer_id, v.channel_account_id, CASE WHEN g % 2 = 0 THEN 'out' ELSE 'in' END,
        CASE WHEN a.kind = 'phone' THEN 'call' ELSE 'message' END, '',
        (ARRAY['Hola, mi pedido no ha llegado todavía','Where is my refund? It has been two weeks',
               'La factura tiene un importe incorrecto','I cannot log in to my account',
               'The package arrived damaged','Can you send me the invoice again?'])[1 + g % 6]||' heavy'||g, '', false,
        v.created_at + ((g % {HEAVY_PER_CONVERSATION}) * 30||' minutes')::interval, now(),
        CASE WHEN g % 2 = 0 THEN 'sent' ELSE 'received' END, '', 'heavy-m'||g, '{{}}'
 FROM generate_series(0,{HEAVY_MESSAGES - 1}) g
 JOIN inbox_conversation v ON v.thread_key = 'heavy-'||(1 + g / {HEAVY_PER_CONVERSATION})
                           AND v.customer_id = (SELECT max(id) FROM crm_customer)
 JOIN connectors_channelaccount a ON a.id = v.channel_account_id"""),
    ("heavy conversations' totals", """
UPDATE inbox_conversation c SET message_count = m.n, last_activity_at = m.last, first_inbound_at = m.first_in,
       last_inbound_at = m.last_in, last_message_preview = left(m.preview, 200)
 FROM (SELECT conversation_id, count(*) n, max(sent_at) last, min(sent_at) FILTER (WHERE direction = 'in') first_in,
              max(sent_at) FILTER (WHERE direction = 'in') last_in, (array_agg(text ORDER BY sent_at DESC))[1] preview
       FROM inbox_message WHERE customer_id = (SELECT max(id) FROM crm_customer) GROUP BY conversation_id) m
 WHERE c.id = m.conversation_id"""),
    # As autovacuum leaves a live table: statistics, and the visibility map index-only scans need.
    ("VACUUM ANALYZE", "VACUUM ANALYZE"),
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


LISTS = [
    "view=mine", "view=unassigned", "view=teams", "view=all",
    "view=all&channel=email", "view=all&priority=3", "view=all&tag=vip", "view=all&sla=breached",
    "view=all&sla=warning", "view=all&status=any", "view=all&status=snoozed",
    "view=all&q=refund", "view=all&q=ref12345", "view=all&q=pedido llegado", "view=all&q=garcía 999",
    "view=all&q=c5000@example.com",
]
BENCH_PASSWORD = "inbox-queries-bench-password"  # set on the two bench users for --http's real log-in
DEEP_PAGES = 60  # how far the heavy customer's timeline is followed (or to its last page)


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def follow_next(get, path: str, pages: int) -> tuple[str, int]:
    """The path of the page `pages` `next` links after `path` (or of the last one) and its number."""
    number = 1
    while number <= pages:
        following = get(path)[1].json()["next"]
        if following is None:
            break
        path, number = local_path(following), number + 1
    return path, number


def paths_to_measure(get, conv, heavy) -> list[tuple[str, str]]:
    """(label, path): the inbox lists, a deep keyset page, a conversation and its customer, the heavy customer."""
    paths = [(f"/api/conversations/?{query}", f"/api/conversations/?{query}") for query in LISTS]
    page51, _ = follow_next(get, "/api/conversations/?view=all&page_size=50", 50)
    paths.append(("/api/conversations/ page 51 (keyset)", page51))
    paths += [(path, path) for path in (f"/api/conversations/{conv.id}/", f"/api/conversations/{conv.id}/messages/",
                                        f"/api/customers/{conv.customer_id}/", f"/api/customers/{conv.customer_id}/timeline/")]
    timeline = f"/api/customers/{heavy}/timeline/"
    deep, number = follow_next(get, timeline, DEEP_PAGES - 1)
    paths += [("heavy: customer", f"/api/customers/{heavy}/"), ("heavy: timeline", timeline),
              (f"heavy: timeline page {number} (keyset)", deep),
              ("heavy: conversations (status=any)", f"/api/conversations/?customer={heavy}&status=any")]
    return paths


def measure_paths(get, paths, runs: int, cpu) -> None:
    """Each path `runs` times: the client's wall-clock percentiles, and per request the CPU of each
    server process group and the time it waited, runnable, for a core (cpu() -> {name: (cpu s, wait s)})."""
    for label, path in paths:
        get(path)  # warm
        samples, before = [], cpu()
        for _ in range(runs):
            status, response, elapsed = get(path)
            samples.append(elapsed)
        used = {name: [(b - a) * 1000 / runs for a, b in zip(before[name], after)] for name, after in cpu().items()}
        assert status == 200, (path, status, response.content[:300])
        body = response.json()
        rows = len(body["results"]) if "results" in body else 1
        print(f"  {label:51} p50 {pct(samples, .5):5.1f}  p95 {pct(samples, .95):5.1f}  p99 {pct(samples, .99):5.1f} ms"
              f"  rows {rows:2}  CPU " + " · ".join(f"{name} {run:4.1f} (+{wait:4.1f})" for name, (run, wait) in used.items()),
              flush=True)


def postgres_backends() -> list[int]:
    """The PostgreSQL processes serving the bench database, but this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [pid for (pid,) in cursor.fetchall()]


def test_client_getter(user):
    """GET through Django's test client (view + serializers + SQL, no HTTP server)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)

    def get(path):
        started = time.perf_counter()
        response = client.get(path)
        return response.status_code, response, (time.perf_counter() - started) * 1000
    return get


def http_getter(base: str, username: str):
    """GET over HTTP with one persistent connection, logged in through the real /login/ form."""
    import requests

    session = requests.Session()
    session.get(f"{base}/login/").raise_for_status()
    answer = session.post(f"{base}/login/", data={"username": username, "password": BENCH_PASSWORD,
                                                  "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                          allow_redirects=False)
    if answer.status_code != 302:
        sys.exit(f"log-in of {username} over HTTP answered {answer.status_code}")

    def get(path):
        started = time.perf_counter()
        response = session.get(base + path)
        return response.status_code, response, (time.perf_counter() - started) * 1000
    return get


def measure(runs: int, explain: bool, http: argparse.Namespace | None):
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from apps.accounts.models import User
    from apps.crm.models import Identity
    from apps.inbox.models import Conversation, Message
    from apps.inbox.selectors import ConversationFilters, conversation_list

    settings.ALLOWED_HOSTS = ["*"]
    agent = User.objects.filter(role="agent", username__startswith="bench_").order_by("id").first()
    supervisor = User.objects.filter(role="supervisor", username__startswith="bench_").order_by("id").first()
    team_ids = list(agent.teams.values_list("id", flat=True))
    conv = Conversation.objects.filter(team_id__in=team_ids, message_count__gt=0).order_by("-id")[1000:1001].get()
    heavy = Identity.objects.get(kind="email", value=HEAVY_EMAIL).customer_id
    print(f"rows: {Message.objects.count():,} messages, {Conversation.objects.count():,} conversations; "
          f"agent {agent.username} of {len(team_ids)} teams; heavy customer {heavy}: "
          f"{Message.objects.filter(customer_id=heavy).count():,} messages in "
          f"{Conversation.objects.filter(customer_id=heavy).count()} conversations, "
          f"{Message.objects.filter(customer_id=heavy, conversation__team_id__in=team_ids).count():,} visible to the agent; "
          f"{runs} runs each")
    uptime("load at start")
    if http is None:
        print("through Django's test client (no HTTP server); CPU ms per request: this process (view, serializers "
              "and the test client), PostgreSQL (its session), (+ ms runnable, waiting for a core)")
        connection.ensure_connection()
        backend = connection.connection.get_backend_pid()  # the test client queries through this same session
        for user in (agent, supervisor):
            get = test_client_getter(user)
            print(f"\n{user.role}")
            measure_paths(get, paths_to_measure(get, conv, heavy), runs,
                          lambda: {"bench": sched([os.getpid()]), "PostgreSQL": sched([backend])})
    else:
        measure_http(http, (agent, supervisor), conv, heavy, runs)
    uptime("load at end")

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


def measure_http(args: argparse.Namespace, users, conv, heavy: int, runs: int) -> None:
    """The same URLs over HTTP through the servers production runs: nginx -> gunicorn (bench/common.py)."""
    from django.db import connection

    for user in users:
        user.set_password(BENCH_PASSWORD)
        user.save(update_fields=["password"])
    connection.close()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": args.redis_url,
           "CELERY_BROKER_URL": args.redis_url, "LOG_LEVEL": "WARNING",
           "CHANNEL_LAYER_PREFIX": f"asgi-bench-inbox-{urlsplit(args.redis_url).path.strip('/') or '0'}"}
    logs = Path(tempfile.mkdtemp(prefix="centralita-bench-inbox-"))
    procs, base, _ = start_split(env, logs, http_workers=args.http_workers)
    try:
        wait_serving([base], procs, logs)
        print(f"over HTTP: nginx {base} -> gunicorn {args.http_workers} workers x 1 thread (sync), "
              f"one keep-alive client (requests.Session); logs in {logs}")
        print("CPU ms per request: gunicorn (master + workers), nginx, PostgreSQL (the workers' sessions), "
              "(+ ms runnable, waiting for a core)")
        gunicorn, nginx = procs[0], procs[-1]
        for user in users:
            get = http_getter(base, user.username)
            for _ in range(4 * args.http_workers):  # every worker's PostgreSQL session opened
                get("/api/me/")
            backends = postgres_backends()
            print(f"\n{user.role}")
            measure_paths(get, paths_to_measure(get, conv, heavy), runs,
                          lambda: {"gunicorn": sched([gunicorn.pid], children=True), "nginx": sched([nginx.pid], children=True),
                                   "PostgreSQL": sched(backends)})
    finally:
        for proc in procs:
            stop(proc)
    errors = sum(f.read_text(errors="replace").count("Traceback") for f in logs.glob("*.log"))
    if errors:
        print(f"  {errors} tracebacks in the server logs ({logs})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="migrate and fill the database first")
    parser.add_argument("--runs", type=int, default=30, help="calls per URL (p99 of 30 is the slowest but one)")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--http", action="store_true",
                        help="call the URLs over HTTP: nginx -> gunicorn as run_desk serves them with REDIS_URL")
    parser.add_argument("--http-workers", type=int, default=None, help="--http: gunicorn workers (default: run_desk's)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
                        help="--http: the servers' Redis (cache, channel layer; nothing is flushed)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (it is filled with bench rows)")
    if args.seed:
        seed()
    if args.http and args.http_workers is None:
        from apps.demo.serving import default_http_workers

        args.http_workers = default_http_workers()
    measure(args.runs, not args.no_explain, args if args.http else None)
    print("command " + " ".join([".venv/bin/python", "bench/inbox_queries.py", *sys.argv[1:]]))
