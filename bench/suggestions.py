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

--scale then adds, AFTER the corpus (so newer: the candidate bound keeps the newest matches),
bench/inbox_queries.py's 250k conversations and 1M messages (short support phrases in Spanish
and English, half the conversations resolved), asks the labelled questions again (hit rates with
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
    args = parser.parse_args()
    url = f"sqlite:///{SQLITE_PATH}" if args.sqlite else args.database_url
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # in-memory channel layer, tasks in-process: no worker needed
    print("command: " + " ".join([".venv/bin/python", "bench/suggestions.py", *sys.argv[1:]]))
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


def scale(*, supervisor, cases, articles, runs):
    from django.db import connection
    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.assist import selectors
    from apps.inbox.models import Conversation, Message
    from bench.inbox_queries import SEED_STEPS
    from tests.assist.labelled import evaluate, labelled
    from tests.assist.test_suggestions import ask

    print("\nadding bench/inbox_queries.py's rows:")
    with connection.cursor() as cursor:
        for label, sql in SEED_STEPS:
            t = time.perf_counter()
            print(f"  {label:28}", end="", flush=True)
            cursor.execute(sql)
            print(f"{time.perf_counter() - t:6.1f} s", flush=True)
    print(f"rows: {Message.objects.count():,} messages, {Conversation.objects.count():,} conversations, "
          f"{Conversation.objects.filter(status='resolved').count():,} resolved")
    print_rates("hit rates on the labelled set among 1M other messages:", evaluate(user=supervisor, cases=cases, articles=articles))

    account = cases["refund-es"].channel_account
    asked = [ask(account, item["question"], key=f"bench-{n}") for n, item in enumerate(labelled())]
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
