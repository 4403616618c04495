#!/usr/bin/env python
"""Twitter / X poll speed: tweepy against a loopback X API, then parse + ingest (a figure, not a test).

    DATABASE_URL=postgres://... .venv/bin/python bench/twitter_poll.py [-n 800] [--dms 300]

Creates a throwaway test database (test_<name>, as pytest does), loads the loopback X API of the
tests (tests/connectors/twitter/x_server.py) with N mentions (X serves at most the ~800 newest)
from N/3 authors in threads, and DMs, then times: parse alone of a 100-tweet page, a first poll
(8 pages of mentions + DM pages over HTTP, parse, ingest, cursors) and a second poll that finds
nothing new (the steady state every minute).
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=800)
    parser.add_argument("--dms", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    from tests.connectors.twitter.x_server import OWN_ID, LoopbackAdapter, XServer

    server = XServer().start()
    try:
        from apps.connectors.models import ChannelAccount, ChannelKind
        from apps.connectors.twitter import client, services
        from apps.connectors.twitter.parse import parse
        from apps.inbox.models import Message

        client.SESSION_HOOKS.append(lambda session: session.mount("https://api.twitter.com", LoopbackAdapter(server.url)))
        authors = max(1, args.n // 3)
        for a in range(authors):
            server.user(f"15{a:017d}", f"Cliente {a}", f"cliente{a}")
        for i in range(args.n):
            author = f"15{i % authors:017d}"
            root = f"18{(i % authors) * 10:017d}"
            server.mention(f"18{(i % authors) * 10 + 1 + i // authors:017d}", author, f"@TiendaSoporte queja número {i} "
                           "con un texto de longitud normal para un tuit de cliente enfadado", conversation_id=root)
        for i in range(args.dms):
            server.dm(f"19{i + 1:017d}", f"15{i % authors:017d}", f"DM {i}: os paso el pedido por privado")
        account = ChannelAccount.objects.create(
            kind=ChannelKind.TWITTER, name="bench @TiendaSoporte", settings={"user_id": OWN_ID, "username": "TiendaSoporte"},
            secrets={"consumer_key": "k", "consumer_secret": "s", "access_token": "t", "access_token_secret": "ts"},
        )
        print(f"{connection.vendor} ({db_name}): {args.n} mentions from {authors} authors, {args.dms} DMs")

        page = server._mentions({"max_results": "100", "tweet.fields": "created_at,conversation_id,author_id",
                                 "expansions": "author_id"})
        import json

        raw = json.dumps({"for_user_id": OWN_ID, **page}).encode()
        began = time.perf_counter()
        rounds = 50
        for _ in range(rounds):
            parse(raw, account_id=account.id)
        seconds = time.perf_counter() - began
        print(f"parse alone: {rounds * len(page['data']) / seconds:,.0f} tweets/s ({len(raw) / 1024:.0f} KiB page)")

        for label in ("first poll", "second poll (nothing new)"):
            began = time.perf_counter()
            result = services.twitter_account_poll(account_id=account.id)
            seconds = time.perf_counter() - began
            items = result.ingested + result.duplicates
            rate = f"{items / seconds:,.0f} items/s" if items else "—"
            print(f"{label}: {result.summary()} in {seconds:.2f} s ({rate}; {len(server.calls)} API calls so far)")
        assert Message.objects.count() == args.n + args.dms, Message.objects.count()
    finally:
        server.stop()
        connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
