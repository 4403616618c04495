"""The admins' console at scale: the channels list, the accounts API and a health page with a
large staging table and many dead letters; and what recording a webhook's success costs.

    .venv/bin/python bench/channels_console.py                      # 300 accounts, 200k staged, 100k dead letters
    .venv/bin/python bench/channels_console.py --accounts 1000 --staged 500000 --dead 200000

Drops and recreates its own PostgreSQL database (--database-url / BENCH_DATABASE_URL, default
centralita_bench_console) and migrates it. No Redis: the embedded defaults (nothing is drained).
Prints figures; asserts nothing.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import recreate_database, timed  # noqa: E402

KINDS = ["email", "twitter", "facebook", "phone", "webform", "api"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/centralita_bench_console"))
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--staged", type=int, default=200_000)
    parser.add_argument("--dead", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    recreate_database(args.database_url)
    os.environ.pop("REDIS_URL", None)
    os.environ.update(DATABASE_URL=args.database_url, LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    call_command("migrate", verbosity=0)
    from apps.accounts.models import Role, User
    from apps.connectors.models import ChannelAccount, ChannelAccountError, InboundPayload
    from apps.connectors.services import payload_stage
    from apps.connectors.models import DeadLetter

    admin = User.objects.create_user(username="ana", password="x", role=Role.ADMIN)
    accounts = ChannelAccount.objects.bulk_create([
        ChannelAccount(kind=KINDS[i % len(KINDS)], name=f"account {i}", settings={}, secrets={"imap_password": "x"})
        for i in range(args.accounts)
    ])
    ids = [a.id for a in accounts]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO connectors_inboundpayload (channel_account_id, kind, source, raw, received_at) "
            "SELECT (%s::int[])[1 + (g %% %s)], 'api', 'webhook', '\\x7b7d'::bytea, now() FROM generate_series(1, %s) g",
            [ids, len(ids), args.staged])
        cursor.execute(
            "INSERT INTO inbox_deadletter (channel_account_id, kind, source, raw, error, created_at, resolved) "
            "SELECT (%s::int[])[1 + (g %% 7)], 'api', 'webhook', '\\x7b7d'::bytea, 'not JSON', now(), g %% 3 = 0 "
            "FROM generate_series(1, %s) g", [ids, args.dead])
        cursor.execute("ANALYZE")
    ChannelAccountError.objects.bulk_create([ChannelAccountError(channel_account_id=i, error="boom") for i in ids for _ in range(5)])
    print(f"seeded {args.accounts} accounts, {args.staged} staged payloads, {args.dead} dead letters "
          f"(on 7 accounts) in {time.perf_counter() - started:.1f} s")

    client = Client()
    client.force_login(admin)
    busiest = ids[0]
    for label, url in [
        ("GET /console/channels/", "/console/channels/"),
        ("GET /api/channel-accounts/?page_size=200", "/api/channel-accounts/?page_size=200"),
        (f"GET /console/channels/<busiest>/health/", f"/console/channels/{busiest}/health/"),
        (f"GET /api/channel-accounts/<busiest>/health/", f"/api/channel-accounts/{busiest}/health/"),
    ]:
        assert client.get(url).status_code == 200
        p50, p95 = timed(lambda: client.get(url), args.runs, share=0.95)
        print(f"{label:48s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")

    # A webhook's cost with and without recording its success (1000 stagings, rolled back).
    account = ChannelAccount.objects.get(pk=busiest)

    def stage(with_success: bool):
        class Rollback(Exception):
            pass

        try:
            with transaction.atomic():
                for _ in range(1000):
                    if with_success:
                        payload_stage(account=account, kind="api", raw=b"{}")
                    else:
                        InboundPayload.objects.create(channel_account=account, kind="api", raw=b"{}", source="webhook")
                raise Rollback
        except Rollback:
            pass

    plain, _ = timed(lambda: stage(False), 5)
    touched, _ = timed(lambda: stage(True), 5)
    print(f"1000 stagings: insert only {plain:.0f} ms, payload_stage (insert + success UPDATE) {touched:.0f} ms "
          f"({(touched - plain) / 1000 * 1000:.0f} µs per webhook)")
    print("command: .venv/bin/python bench/channels_console.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
