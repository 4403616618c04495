#!/usr/bin/env python
"""`manage.py ingest email` speed over a folder of .eml files: parse on every core or in one.

    DATABASE_URL=postgres://... .venv/bin/python bench/email_import.py [-n 2000] [--workers 1 2]

A figure, not a test. Creates a throwaway test database (test_<name>, as pytest does), writes
N mails to a temporary folder (the two email test corpora, tests/connectors/email/fixtures and
real_world, repeated with a Message-ID of their own: charsets, HTML, attachments, forwards,
bounces, an mbox is left out), and imports the folder once per worker count into a fresh
account, as `manage.py ingest email DIR --workers W` does; prints mails/s for each, and the CPU
time per mail of this process and its parse workers (PostgreSQL's own is not counted): on a shared
machine that figure moves much less than mails/s.
"""
import argparse
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
CORPORA = [ROOT / "tests/connectors/email/fixtures", ROOT / "tests/connectors/email/real_world"]


def corpus(n: int, folder: Path) -> None:
    sources = [p.read_bytes() for c in CORPORA for p in sorted(c.glob("*.eml")) if p.name != "not_a_mail.eml"]
    for i in range(n):
        raw = sources[i % len(sources)]
        own_id = b"Message-ID: <bench-%d@example.com>" % i
        raw, found = re.subn(rb"(?im)^Message-ID:[^\r\n]*", own_id, raw, count=1)
        (folder / f"{i:05d}.eml").write_bytes(raw if found else own_id + b"\r\n" + raw)


def _cpu_seconds() -> float:
    """User + system time of this process and of its children that have ended (the parse pool)."""
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from apps.connectors.models import ChannelAccount, ChannelKind

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            corpus(args.n, folder)
            print(f"{connection.vendor} ({db_name}): {args.n} mails, {sum(p.stat().st_size for p in folder.iterdir()) / 1e6:.1f} MB, "
                  f"{os.cpu_count()} cores")
            for workers in args.workers:
                account = ChannelAccount.objects.create(kind=ChannelKind.EMAIL, name=f"bench mailbox {workers}",
                                                        settings={"address": "soporte@tienda.example"})
                cpu_before = _cpu_seconds()
                began = time.perf_counter()
                try:
                    call_command("ingest", "email", str(folder), "--account", str(account.id), "--no-progress",
                                 "--workers", str(workers), stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
                except SystemExit:
                    pass  # some corpus mails are meant to fail (dead letters); the figure counts them too
                seconds = time.perf_counter() - began
                cpu_ms = (_cpu_seconds() - cpu_before) / args.n * 1000
                print(f"--workers {workers}: {args.n} mails in {seconds:.1f} s ({args.n / seconds:,.0f} mails/s), "
                      f"CPU {cpu_ms:.2f} ms/mail")
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
