#!/usr/bin/env python
"""Asterisk Master.csv import speed: split + parse + messages_ingest, first run and re-run.

    DATABASE_URL=postgres://... .venv/bin/python bench/phone_import.py [-n 20000]

A figure, not a test. Creates a throwaway test database (test_<name>, as pytest does),
writes an N-row 21-column Master.csv (3,000 callers, mixed dispositions, 10% internal
calls, some Latin-1 names), imports it as `manage.py ingest asterisk` does, then imports it
again (all duplicates), and prints rows/s for both.
"""
import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

DISPOSITIONS = ["ANSWERED"] * 6 + ["NO ANSWER"] * 2 + ["BUSY", "FAILED", "CONGESTION"]
NAMES = ["Ana García", "José Muñoz", "Pérez, Juan", "Marta Ruiz", "Lucía Díaz", "John Smith"]


def master_csv(n: int) -> bytes:
    rng = random.Random(7)
    start = datetime(2026, 11, 1, 9, 0, 0)
    lines = []
    for i in range(n):
        when = start + timedelta(seconds=37 * i)
        caller = f"6{rng.randrange(3000):08d}"
        name = rng.choice(NAMES)
        disposition = rng.choice(DISPOSITIONS)
        billsec = rng.randrange(20, 900) if disposition == "ANSWERED" else 0
        answer = (when + timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S") if billsec else ""
        end = (when + timedelta(seconds=5 + billsec)).strftime("%Y-%m-%d %H:%M:%S")
        kind = rng.random()
        if kind < 0.1:  # internal
            src, dst, context, clid = "100", "101", "from-internal", '"""Recepción"" <100>"'
        elif kind < 0.3:  # outbound
            src, dst, context, clid = "101", "0" + caller, "from-internal", '"""Soporte"" <101>"'
        else:
            src, dst, context, clid = caller, "100", "from-pstn", f'"""{name}"" <{caller}>"'
        uniqueid = f"{1761987600 + 37 * i}.{i}"
        line = (f'"",{src!r},{dst!r},"{context}",{clid},"PJSIP/trunk-{i:08x}","PJSIP/100-{i:08x}","Dial","PJSIP/100,30",'
                f'"{when:%Y-%m-%d %H:%M:%S}","{answer}","{end}",{billsec + 5},{billsec},"{disposition}","DOCUMENTATION",'
                f'"{uniqueid}","","","{uniqueid}",{i}').replace("'", '"')
        lines.append(line.encode("latin-1" if i % 10 == 0 else "utf-8"))
    return b"\n".join(lines) + b"\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ASTERISK_TIMEZONE = "Europe/Madrid"
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from apps.connectors.models import ChannelAccount, ChannelKind
        from apps.connectors.phone.parse import split_asterisk
        from apps.connectors.drain import payloads_import
        from apps.inbox.models import Message

        account = ChannelAccount.objects.create(kind=ChannelKind.PHONE, name="bench PBX")
        raw = master_csv(args.n)
        print(f"{connection.vendor} ({db_name}): Master.csv of {args.n} rows, {len(raw) / 1e6:.1f} MB")
        for label in ("first import", "re-import (all duplicates)"):
            began = time.perf_counter()
            rows = list(split_asterisk("Master.csv", raw))
            split_s = time.perf_counter() - began
            counts = payloads_import(kind="asterisk", account=account, payloads=rows)
            seconds = time.perf_counter() - began
            print(f"{label}: {counts.summary()} in {seconds:.1f} s "
                  f"({args.n / seconds:,.0f} rows/s; split {split_s:.2f} s)")
        assert Message.objects.count() == len(rows)
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
