#!/usr/bin/env python
"""The help center's search at scale: articles_search and the web form's suggest endpoint over a
few thousand articles (a figure, not a test).

    .venv/bin/python bench/helpcenter_search.py [--articles 5000] [--runs 30] [--reuse] \
        [--database-url postgres://postgres@127.0.0.1:5432/centralita_bench_hc]

It DROPS AND RECREATES the database it is given, migrates it and writes the articles through
services.article_create (sanitized and indexed as in production; half Spanish, half English, all
published; --reuse measures a database an earlier run filled), then runs each query --runs times and prints the median / p90 in milliseconds:
exact words, words without accents, a typo, a long subject; and GET /help/suggest/ through
Django's test client (view + JSON + SQL, no HTTP server).
"""
import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS_ES = ("pedido envío devolución reembolso contraseña factura pago tarjeta cuenta dirección paquete "
            "transportista garantía cupón descuento talla cambio tienda plazo entrega seguimiento").split()
WORDS_EN = ("order shipping return refund password invoice payment card account address parcel carrier "
            "warranty coupon discount size exchange store delivery tracking").split()
QUERIES = ["devolución reembolso", "devolucion", "contrasena olvidada", "refund", "pasword", "shiping tracking",
           "how do I return my order and get a refund for the damaged parcel"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/centralita_bench_hc")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its articles (same --articles)")
    args = parser.parse_args()
    url = urlsplit(args.database_url)
    admin_url = urlunsplit(url._replace(path="/postgres"))
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import psycopg2

    name = url.path.lstrip("/")
    if not args.reuse:
        conn = psycopg2.connect(admin_url)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from apps.accounts.models import User
    from apps.helpcenter import services
    from apps.helpcenter.models import Article
    from apps.helpcenter.selectors import CANDIDATES, articles_search

    call_command("migrate", verbosity=0)
    if args.reuse:
        print(f"reusing {name}: {Article.objects.count()} articles")
    else:
        author = User.objects.create(username="bench", role="supervisor")
        rng = random.Random(1)
        started = time.perf_counter()
        for i in range(args.articles):
            language, words = ("es", WORDS_ES) if i % 2 else ("en", WORDS_EN)
            title = " ".join(rng.sample(words, 4)).capitalize() + f" {i}"
            body = "".join(f"<p>{' '.join(rng.choices(words, k=30))}.</p>" for _ in range(6))
            services.article_create(author=author, language=language, title=title, body=body, status="published")
        print(f"{args.articles} articles written in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:  # the statistics autovacuum would gather after a bulk load
        cursor.execute("ANALYZE helpcenter_article")
    print(f"candidates ranked per query: at most {2 * CANDIDATES} (apps/helpcenter/selectors.CANDIDATES = {CANDIDATES})")

    def timed(fn, runs=args.runs):
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]

    for q in QUERIES:
        median, p90 = timed(lambda: articles_search(q, limit=5))
        print(f"articles_search({q!r}): median {median:.1f} ms, p90 {p90:.1f} ms, first: {articles_search(q, limit=1)[0].title!r}")
    client = Client()
    median, p90 = timed(lambda: client.get("/help/suggest/", {"q": "devolución del pedido", "lang": "es"}))
    print(f"GET /help/suggest/: median {median:.1f} ms, p90 {p90:.1f} ms")


if __name__ == "__main__":
    main()
