#!/usr/bin/env python
"""Suggested answers (docs/suggestions.md): hit rates on the labelled set, and the API's latency
at a million messages (figures, not a test).

    .venv/bin/python bench/suggestions.py                 # labelled set on PostgreSQL: hit rates
    .venv/bin/python bench/suggestions.py --scale         # + 1M other messages: hit rates again, latency, EXPLAIN
    .venv/bin/python bench/suggestions.py --sqlite        # the embedded fallback's hit rates

It DROPS and recreates its own database (centralita_sug_bench; --database-url), migrates it and
loads tests/fixtures/suggestions/corpus.json through the real services: 34 help-center articles
(17 topics, Spanish and English), 34 resolved past cases with the reply that resolved them, and
distractors (resolved cases on nearby subjects, open and pending ones on the same subjects).
Then each of the 34 labelled questions (labelled.json) is asked as a supervisor, the way
suggestions_for asks for a conversation's latest message, and the ranks of the expected
article and past case are counted: top-1 and top-3.

--scale then adds by SQL, AFTER the corpus (so newer: the candidate bound keeps the newest
matches), 100k customers, 250k conversations on 20 channel accounts of 10 teams (half resolved)
and 1M messages, each two of 24 short support phrases in Spanish and English ("mi pedido no ha
llegado todavía", "where is my refund?", ...) plus a reference token; then asks the labelled questions again (hit rates with
that noise), calls GET /api/conversations/<id>/suggestions/ for 34 conversations RUNS times as
an agent of two teams and as a supervisor (p50 / p95, view + serializers + SQL through Django's
test client, no HTTP server) and EXPLAINs (ANALYZE) the past-case query.
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
PHRASES = [
    "Hola, mi pedido no ha llegado todavía", "Where is my refund? It has been two weeks", "La factura tiene un importe incorrecto",
    "I cannot log in to my account", "Quiero cambiar la dirección de entrega", "The package arrived damaged",
    "Gracias por la ayuda, todo resuelto", "Can you send me the invoice again?", "¿Tenéis la mesa en color roble?",
    "My order number is wrong on the receipt", "El repartidor no encontró mi casa", "Please cancel my subscription",
    "No puedo pagar con la tarjeta", "When will my order ship?", "¿Cuánto tarda el envío a Canarias?", "The app keeps crashing",
    "He recibido un producto que no pedí", "Do you have this in size M?", "Quiero devolver el pedido", "Thanks, that worked!",
    "Me han cobrado de más", "Is there a discount for students?", "Mi contraseña no funciona", "My tracking link is broken",
]
_PHRASES_SQL = "(ARRAY[" + ",".join("'" + p.replace("'", "''") + "'" for p in PHRASES) + "])"
SEED_STEPS = [
    ("random seed", "SELECT setseed(0.42)"),
    ("100k customers", f"""
INSERT INTO crm_customer(display_name, created_at, updated_at, tags)
 SELECT 'Bench customer '||g, now(), now(), '[]' FROM generate_series(1,{CUSTOMERS}) g"""),
    ("250k conversations", f"""
INSERT INTO inbox_conversation(customer_id, channel_account_id, status, priority, subject, team_id, is_public, created_at,
                               last_activity_at, last_message_preview, message_count, sla_clock)
 SELECT c.min + (g % {CUSTOMERS}), a.id, (ARRAY['open','pending','resolved','resolved'])[1 + g % 4], 1, '', a.team_id, false,
        now(), now(), 'preview '||g, 4, ''
 FROM generate_series(1,{CONVERSATIONS}) g
 JOIN (SELECT id, team_id, row_number() OVER (ORDER BY id) - 1 AS n FROM connectors_channelaccount WHERE name LIKE 'bench %') a
   ON a.n = g % 20
 CROSS JOIN (SELECT min(id) FROM crm_customer) c"""),
    ("1M messages", f"""
INSERT INTO inbox_message(conversation_id, customer_id, channel_account_id, direction, kind, subject, text, html, is_public,
                          sent_at, created_at, delivery_status, delivery_error, metadata)
 SELECT v.id, v.customer_id, v.channel_account_id, CASE WHEN (g / {CONVERSATIONS}) % 4 = 3 THEN 'out' ELSE 'in' END, 'message', '',
        {_PHRASES_SQL}[1 + floor(random() * {len(PHRASES)})::int] || '. ' ||
        {_PHRASES_SQL}[1 + floor(random() * {len(PHRASES)} + g * 0)::int] || ' ref' || floor(random() * 50000)::int,
        '', false, now() - ((g * 7)||' seconds')::interval, now(), 'received', '', '{{}}'
 FROM generate_series(1,{MESSAGES}) g
 JOIN inbox_conversation v ON v.id = (SELECT max(id) FROM inbox_conversation) - {CONVERSATIONS} + 1 + (g % {CONVERSATIONS})"""),
    ("ANALYZE", "ANALYZE"),
]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/centralita_sug_bench"
SQLITE_PATH = Path("/tmp/centralita_sug_bench.sqlite3")


def recreate(url: str) -> None:
    if url.startswith("sqlite"):
        SQLITE_PATH.unlink(missing_ok=True)
        return
    base, name = url.rsplit("/", 1)
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", f"{base}/postgres", "-q", "-c", sql], check=True)


def print_rates(title: str, rates) -> None:
    print(f"\n{title}")
    print("  " + rates.line("articles", rates.article_top1, rates.article_top3))
    print("  " + rates.line("past cases", rates.case_top1, rates.case_top3))
    for miss in rates.misses:
        print(f"  miss: {miss}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sqlite", action="store_true", help="the embedded mode (SQLite, word matching)")
    parser.add_argument("--scale", action="store_true", help="add 1M messages, measure latency (PostgreSQL)")
    parser.add_argument("--runs", type=int, default=5, help="calls per conversation at --scale")
    parser.add_argument("--reuse", action="store_true", help="with --scale: measure the database a previous --scale filled")
    args = parser.parse_args()
    url = f"sqlite:///{SQLITE_PATH}" if args.sqlite else args.database_url
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # in-memory channel layer, tasks in-process: no worker needed
    print("command: " + " ".join([".venv/bin/python", "bench/suggestions.py", *sys.argv[1:]]))
    if not args.reuse:
        recreate(url)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from apps.accounts.models import Role, Team, User
    from apps.connectors.models import ChannelAccount, ChannelKind
    from tests.assist.labelled import evaluate, labelled, load_articles, load_cases

    settings.ALLOWED_HOSTS = ["*"]
    if args.reuse:
        from apps.helpcenter.models import Article
        from apps.inbox.models import Conversation
        from tests.assist.labelled import corpus

        data = corpus()
        keys = [c["key"] for c in data["cases"] + data["distractors"]]
        cases = {c.thread_key: c for c in Conversation.objects.filter(thread_key__in=keys)}
        titles = {(a["language"], a["title"]): a["key"] for a in data["articles"]}
        articles = {titles[(a.language, a.title)]: a for a in Article.objects.all() if (a.language, a.title) in titles}
        supervisor = User.objects.get(username="bench_sup")
        scale(supervisor=supervisor, cases=cases, articles=articles, runs=args.runs, seed=False)
        return
    team = Team.objects.create(name="Soporte")
    supervisor = User.objects.create_user(username="bench_sup", password="x", role=Role.SUPERVISOR)
    account = ChannelAccount.objects.create(kind=ChannelKind.PUSH, name="Tienda", team=team)
    t = time.perf_counter()
    cases = load_cases(account)
    articles = load_articles(author=supervisor)
    print(f"database: {connection.vendor}; corpus loaded in {time.perf_counter() - t:.1f} s: {len(articles)} articles, "
          f"{len(cases)} conversations ({len(labelled())} labelled questions)")
    print_rates("hit rates on the labelled set:", evaluate(user=supervisor, cases=cases, articles=articles))
    if args.scale and connection.vendor == "postgresql":
        scale(supervisor=supervisor, cases=cases, articles=articles, runs=args.runs)


def add_rows():
    from django.db import connection

    from apps.accounts.models import Role, Team, User
    from apps.connectors.models import ChannelAccount, ChannelKind

    teams = [Team.objects.create(name=f"Bench team {n}") for n in range(10)]
    for n in range(20):
        ChannelAccount.objects.create(kind=ChannelKind.PUSH, name=f"bench {n}", team=teams[n % 10])
    bench_agent = User.objects.create_user(username="bench_agent", password="x", role=Role.AGENT)
    bench_agent.teams.set(teams[:2])
    print("\nadding rows:")
    with connection.cursor() as cursor:
        for label, sql in SEED_STEPS:
            t = time.perf_counter()
            print(f"  {label:28}", end="", flush=True)
            cursor.execute(sql)
            print(f"{time.perf_counter() - t:6.1f} s", flush=True)


def scale(*, supervisor, cases, articles, runs, seed=True):
    from django.db import connection
    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.assist import selectors
    from apps.inbox.models import Conversation, Message
    from tests.assist.labelled import evaluate, labelled
    from tests.assist.test_suggestions import ask

    if seed:
        add_rows()
    print(f"rows: {Message.objects.count():,} messages, {Conversation.objects.count():,} conversations, "
          f"{Conversation.objects.filter(status='resolved').count():,} resolved")
    print_rates("hit rates on the labelled set among 1M other messages:", evaluate(user=supervisor, cases=cases, articles=articles))

    account = cases["refund-es"].channel_account
    asked = [ask(account, item["question"], key=f"bench-{n}-{time.time_ns()}") for n, item in enumerate(labelled())]
    agent = User.objects.filter(role="agent", username__startswith="bench_").order_by("id").first()
    agent.teams.add(account.team)  # sees the corpus's team and two of the bench's teams
    for who in (agent, supervisor):
        client = APIClient()
        client.force_login(who)
        client.get(f"/api/conversations/{asked[0].id}/suggestions/")  # warm
        times = []
        for _ in range(runs):
            for conversation in asked:
                t = time.perf_counter()
                response = client.get(f"/api/conversations/{conversation.id}/suggestions/")
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.content
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"\nGET /api/conversations/<id>/suggestions/ as {who.role} ({who.team_ids and len(who.team_ids) or 'all'} teams): "
              f"{len(times)} calls, p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms")

    # The past-case query itself, for the first labelled question, as the agent.
    question = labelled()[0]["question"]
    qs_sql = []
    original = selectors._one_per_conversation

    def capture(rows, limit):
        qs_sql.append(rows.query.sql_with_params())
        return original(rows, limit)

    selectors._one_per_conversation = capture
    try:
        selectors.past_cases(user=agent, text=question, language="es")
    finally:
        selectors._one_per_conversation = original
    sql, params = qs_sql[0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql, params)
        print(f"\nEXPLAIN ANALYZE: past cases for {question!r} (agent)")
        for (line,) in cursor.fetchall():
            print("  " + line)


if __name__ == "__main__":
    main()
