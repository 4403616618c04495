#!/usr/bin/env python
"""Ingest throughput through the real worker: staged payloads -> Celery drain -> messages.

    .venv/bin/python bench/ingest_throughput.py [-n 20000] [--workers 2]

What it does (a figure, not a test; see bench/README.md for results):
1. recreates and migrates its own database (centralita_bench on the local PostgreSQL);
2. generates N API-channel payloads: new and repeat customers (email and/or phone),
   replies by thread key and by references, some HTML, 5% re-deliveries (duplicates);
3. stages them as InboundPayload rows in bulk, as the webhook view does one by one;
4. starts a real `celery -A config worker -c 2 --pool prefork` on PostgreSQL + Redis,
   enqueues one drain per worker process and waits until the staging table is empty;
5. checks the result (one message per external id, no dead letters) and prints
   messages/s, then rows/s of a plain in-process messages_ingest for comparison.

--profile runs the drain in this process under cProfile instead of the worker.
--webhook POSTs every payload to /api/inbound/<account>/ through the split layout (nginx -> gunicorn,
as run_desk starts it with REDIS_URL) while the worker drains, instead of staging them in bulk;
--agents K keeps K desk sockets open meanwhile (they hear every event: the account has no team).
Every run ends with the COPY ceiling: the same message rows COPYed into a copy of the table, and
the drain's share of it.
"""
import asyncio
import argparse
import cProfile
import io
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import recreate_database, sched  # noqa: E402  (also imported from here by older benches)

FIRST = ["Ana", "Lucía", "Carmen", "Javier", "Pablo", "Marta", "John", "Emily", "Oliver", "Sophie", "Diego", "Laura"]
LAST = ["García", "Martínez", "López", "Sánchez", "Pérez", "Smith", "Johnson", "Brown", "Taylor", "Ruiz", "Díaz"]
TEXTS = [
    "Hola, mi pedido {order} no ha llegado todavía. ¿Podéis revisarlo?",
    "Buenos días, quiero cambiar la dirección de entrega del pedido {order}.",
    "La factura del pedido {order} tiene un importe incorrecto, me habéis cobrado dos veces.",
    "Hi, my order {order} arrived damaged. Can I get a replacement?",
    "Hello, I was charged twice for order {order}. Please refund one of the payments.",
    "Thanks for the quick answer! Everything is fine now with {order}.",
    "¿Cuál es el horario de atención telefónica? Llevo media hora esperando.",
    "Can you tell me when {order} will ship? The tracking page shows nothing.",
]
HTML = "<p>{text}</p><p>Un saludo,<br><b>{name}</b></p><img src=x onerror=alert(1)><script>steal()</script>"


# --- payloads --------------------------------------------------------------------------------


def generate_payloads(n: int, seed: int = 7) -> tuple[list[bytes], int]:
    """N payloads (JSON bytes, one message each) and how many distinct external ids they hold."""
    rng = random.Random(seed)
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    unique = n - n // 20  # 5% are re-deliveries of a payload already sent
    people: list[dict] = []
    payloads: list[bytes] = []
    for i in range(unique):
        if people and rng.random() < 0.6:
            person = rng.choice(people)  # a repeat customer
        else:
            person = _new_person(rng, len(people))
            people.append(person)
        order = f"PO-{person['id']}-{rng.randint(1, 3)}"
        text = rng.choice(TEXTS).format(order=order)
        message = {
            "external_id": f"bench-{i}",
            "sent_at": (t0 + timedelta(milliseconds=50 * i)).isoformat(),
            "sender": _sender(rng, person),
            "subject": f"Pedido {order}",
            "text": text,
        }
        threading = rng.random()
        if threading < 0.3:
            message["thread_key"] = order
        elif threading < 0.45 and person["last"]:
            message["references"] = [person["last"]]  # a reply to their previous message
        if rng.random() < 0.1:
            message["html"] = HTML.format(text=text, name=person["name"])
        person["last"] = message["external_id"]
        payloads.append(json.dumps(message).encode())
    for _ in range(n - unique):
        payloads.insert(rng.randrange(len(payloads) + 1), rng.choice(payloads))
    return payloads, unique


def _new_person(rng, index: int) -> dict:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    has_email, has_phone = rng.random() < 0.85, rng.random() < 0.45
    return {
        "id": index,
        "name": name,
        "email": f"{_ascii(name.split()[0])}.{index}@example.com" if has_email or not has_phone else None,
        "phone": f"+3461{index:07d}" if has_phone else None,
        "last": None,
    }


def _ascii(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


def _sender(rng, person: dict) -> dict:
    sender = {"name": person["name"]}
    # Repeat customers use one or both of their addresses, like a web form vs. a phone call.
    if person["email"] and (not person["phone"] or rng.random() < 0.7):
        sender["email"] = person["email"]
    if person["phone"] and ("email" not in sender or rng.random() < 0.5):
        sender["phone"] = person["phone"]
    return sender


# --- database -------------------------------------------------------------------------------


def setup_django(database_url: str, redis_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, LOG_LEVEL="WARNING"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def stage(account, payloads: list[bytes]) -> float:
    """Stage like the webhook view (InboundPayload rows), in bulk; return rows/s."""
    from apps.connectors.models import InboundPayload

    started = time.perf_counter()
    InboundPayload.objects.bulk_create(
        [InboundPayload(channel_account=account, kind="api", raw=raw, source="api") for raw in payloads],
        batch_size=1000,
    )
    return len(payloads) / (time.perf_counter() - started)


# --- the worker -------------------------------------------------------------------------------


def start_worker(workers: int, log_path: Path) -> subprocess.Popen:
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "config", "worker", "-c", str(workers), "--pool", "prefork",
               "--loglevel", "WARNING", "-n", f"bench-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    log = open(log_path, "wb")
    return subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)


def wait_until_ready(app, worker: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            sys.exit(f"the worker exited with {worker.returncode}:\n{log_path.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return
    sys.exit(f"the worker did not answer within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def _backends_cpu() -> dict[int, float]:
    """CPU seconds so far of the other PostgreSQL sessions on this database (the worker's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        pids = [row[0] for row in cursor.fetchall()]
    return {pid: sched([pid])[0] for pid in pids}


def drain_through_worker(total: int, workers: int) -> float:
    """Enqueue one drain per worker process; return seconds until the staging table is empty."""
    from apps.connectors.models import InboundPayload
    from config.celery import app

    app.control.purge()  # leftovers from an interrupted run would drain someone else's database
    log_path = Path(tempfile.gettempdir()) / f"centralita-bench-worker-{os.getpid()}.log"
    worker = start_worker(workers, log_path)
    try:
        wait_until_ready(app, worker, log_path)
        started = time.perf_counter()
        for _ in range(workers):
            app.send_task("apps.connectors.tasks.inbound_drain")
        left, backends = total, {}
        worker_cpu_before = sched([worker.pid], children=True)[0]
        while left:
            time.sleep(0.25)
            if worker.poll() is not None:
                sys.exit(f"the worker exited with {worker.returncode}:\n{log_path.read_text()[-3000:]}")
            left = InboundPayload.objects.count()
            backends.update(_backends_cpu())
            elapsed = time.perf_counter() - started
            done = total - left
            print(f"\r  drained {done:>7}/{total}  {done / elapsed:8.0f} payloads/s  {elapsed:6.1f} s", end="", flush=True)
        print()
        seconds = time.perf_counter() - started
        worker_cpu = sched([worker.pid], children=True)[0] - worker_cpu_before
        # CPU per message holds on a shared machine where msg/s does not (other load takes the cores).
        print(f"  CPU per message: worker {worker_cpu / total * 1000:.3f} ms + its PostgreSQL sessions "
              f"{sum(backends.values()) / total * 1000:.3f} ms")
        return seconds
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        errors = [line for line in log_path.read_text().splitlines() if "ERROR" in line or "Traceback" in line]
        if errors:
            print(f"  worker log has {len(errors)} error lines, see {log_path}")


def drain_in_process_profiled() -> float:
    from apps.connectors.drain import inbound_drain

    from django.db import connection

    profiler = cProfile.Profile()
    statements = {}  # statement's opening words -> [count, seconds]

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = statements.setdefault(" ".join(sql.split()[:6])[:90], [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - began

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        profiler.runcall(inbound_drain)
    elapsed = time.perf_counter() - started
    print("SQL statements by time (count, seconds incl. the driver's encoding):")
    for sql, (count, seconds) in sorted(statements.items(), key=lambda kv: -kv[1][1])[:25]:
        print(f"  {seconds:7.2f} s {count:6d}  {sql}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(os.environ.get("BENCH_PROFILE_FILTER", ""), 45)
    print(out.getvalue())
    return elapsed


# --- the webhook path: real POSTs through nginx -> gunicorn while the worker drains ----------------


async def post_closed_loop(url: str, account_id: int, token: str, payloads: list[bytes], connections: int) -> list[int]:
    """Every payload POSTed, `connections` at a time, each as soon as a connection is free. Statuses."""
    import aiohttp

    statuses: list[int] = [0] * len(payloads)
    pending = iter(range(len(payloads)))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def lane(session):
        for i in pending:
            try:
                async with session.post(f"{url}/api/inbound/{account_id}/", data=payloads[i], headers=headers) as r:
                    await r.read()
                    statuses[i] = r.status
            except (aiohttp.ClientError, asyncio.TimeoutError):
                statuses[i] = 0

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections), timeout=timeout) as session:
        await asyncio.gather(*(lane(session) for _ in range(connections)))
    return statuses


def webhook_through_servers(account, token: str, payloads: list[bytes], args) -> tuple[float, float, dict]:
    """(seconds until every payload was POSTed, seconds until the staging table was empty too, figures)."""
    import collections
    import multiprocessing as mp
    from types import SimpleNamespace

    from bench import live_latency as live
    from apps.connectors.models import InboundPayload
    from config.celery import app
    from django.db import connection

    app.control.purge()
    logs = Path(tempfile.mkdtemp(prefix="centralita-bench-ingest-"))
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false"}
    cookies = live.create_desk(args.agents, 4)[0] if args.agents else []
    connection.close()
    procs, url, _ = live.start_split(env, logs, SimpleNamespace(http_workers=args.http_workers, http_threads=args.http_threads, web=1))
    worker = live.start_worker(env, logs, args.workers)
    ctx = mp.get_context("spawn")
    results, stop_clients, counter, client = ctx.Queue(), ctx.Event(), ctx.Value("q", 0, lock=False), None
    figures: dict = {}
    try:
        live.wait_ready([(procs[-1], url)], worker, logs, extra=procs)
        if cookies:
            client = ctx.Process(target=live.client_process,
                                 args=([(j, url, c) for j, c in enumerate(cookies)], results, stop_clients, counter))
            client.start()
            figures["sockets"] = len(results.get(timeout=300)[1])
        print(f"  nginx {url} -> gunicorn {args.http_workers} x {args.http_threads}; worker -c {args.workers}; "
              f"{len(cookies)} agents on sockets; logs in {logs}")
        started = time.perf_counter()
        statuses = asyncio.run(post_closed_loop(url, account.id, token, payloads, args.post_connections))
        posted = time.perf_counter() - started
        left = 1
        while left:
            time.sleep(0.25)
            if worker.poll() is not None:
                sys.exit(f"the worker exited with {worker.returncode}: see {logs}")
            left = InboundPayload.objects.count()
            print(f"\r  posted {len(payloads)} in {posted:.1f} s; staged left {left:>7}", end="", flush=True)
        print()
        total = time.perf_counter() - started
        figures["statuses"] = dict(collections.Counter(statuses))
        figures["frames heard"] = counter.value
    finally:
        stop_clients.set()
        if client is not None:
            client.join(timeout=30)
            if client.is_alive():
                client.terminate()
        for proc in procs + [worker]:
            live.stop(proc)
    return posted, total, figures


# --- the COPY ceiling ---------------------------------------------------------------------------------


def copy_ceiling(account) -> tuple[int, float]:
    """(rows, rows/s): the account's message rows COPYed into an empty copy of the table (its indexes and
    constraints but the foreign keys): what PostgreSQL takes at most for the same rows."""
    from django.db import connection

    from apps.inbox.models import Message

    table = Message._meta.db_table
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY (SELECT * FROM {table} WHERE channel_account_id = {int(account.id)}) TO STDOUT", buffer)
        rows = buffer.getvalue().count("\n")
        cursor.execute(f"DROP TABLE IF EXISTS bench_copy_ceiling; CREATE TABLE bench_copy_ceiling (LIKE {table} INCLUDING ALL)")
        buffer.seek(0)
        started = time.perf_counter()
        cursor.copy_expert("COPY bench_copy_ceiling FROM STDIN", buffer)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_ceiling")
    return rows, rows / seconds


# --- checks and the in-process comparison --------------------------------------------------------


def check(account, unique: int) -> dict:
    from apps.crm.models import Customer, Identity
    from apps.connectors.models import DeadLetter
    from apps.inbox.models import Conversation, ConversationEvent, Message

    figures = {
        "messages": Message.objects.filter(channel_account=account).count(),
        "distinct external ids": Message.objects.filter(channel_account=account).values("external_id").distinct().count(),
        "customers": Customer.objects.count(),
        "identities": Identity.objects.count(),
        "conversations": Conversation.objects.filter(channel_account=account).count(),
        "created events": ConversationEvent.objects.filter(kind="created").count(),
        "dead letters": DeadLetter.objects.count(),
    }
    problems = []
    if figures["messages"] != unique or figures["distinct external ids"] != unique:
        problems.append(f"expected {unique} messages, one per external id")
    if figures["dead letters"]:
        problems.append("payloads were dead-lettered")
    if figures["created events"] != figures["conversations"]:
        problems.append("a conversation has no 'created' event")
    figures["problems"] = problems
    return figures


def ingest_in_process(n: int, batch_size: int) -> float:
    """Plain messages_ingest on already-parsed messages (no staging, no worker): rows/s."""
    from apps.connectors.push.parse import parse
    from apps.connectors.models import ChannelAccount
    from apps.inbox.services.ingest import messages_ingest

    account = ChannelAccount.objects.create(kind="api", name="bench in-process")
    payloads, _ = generate_payloads(n, seed=11)
    messages = [m for raw in payloads for m in parse(raw, account_id=account.id)]
    started = time.perf_counter()
    for i in range(0, len(messages), batch_size):
        messages_ingest(messages=messages[i : i + batch_size])
    return len(messages) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20_000, help="payloads to generate (default 20000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (celery -c)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/centralita_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
                        help="broker; a Redis database of its own (it is purged)")
    parser.add_argument("--in-process", type=int, default=10_000, help="messages for the in-process comparison (0: skip)")
    parser.add_argument("--profile", action="store_true", help="drain in this process under cProfile instead of the worker")
    parser.add_argument("--webhook", action="store_true",
                        help="POST each payload through nginx -> gunicorn (the webhook path) while the worker drains")
    parser.add_argument("--post-connections", type=int, default=32, help="--webhook: POSTs in flight (default 32)")
    parser.add_argument("--http-workers", type=int, default=4, help="--webhook: gunicorn workers (default 4)")
    parser.add_argument("--http-threads", type=int, default=4, help="--webhook: threads per gunicorn worker (default 4)")
    parser.add_argument("--agents", type=int, default=0, help="--webhook: agents with a desk socket open meanwhile (default 0)")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("this bench measures PostgreSQL: --database-url must be postgres://…")

    print(f"database {args.database_url} (recreated) · broker {args.redis_url}")
    recreate_database(args.database_url)
    setup_django(args.database_url, args.redis_url)
    from django.conf import settings

    from apps.connectors.models import ChannelAccount

    payloads, unique = generate_payloads(args.n)
    account = ChannelAccount.objects.create(kind="api", name="bench")
    print(f"generated {len(payloads)} payloads ({unique} distinct, {len(payloads) - unique} duplicates)")
    batch = settings.INBOUND_BATCH_SIZE
    webhook = None
    if args.webhook:
        from apps.connectors.services import channel_account_rotate_token

        token = channel_account_rotate_token(account=account)
        posted, seconds, webhook = webhook_through_servers(account, token, payloads, args)
        how = f"POSTed through nginx -> gunicorn and drained by a celery worker, {args.workers} prefork processes"
        accepted = sum(n for status, n in webhook["statuses"].items() if 200 <= status < 300)
        print(f"webhook {accepted / posted:8.0f} POSTs/s accepted ({accepted} of {len(payloads)} in {posted:.1f} s, "
              f"{args.post_connections} in flight; statuses {webhook['statuses']})")
    else:
        print(f"stage   {stage(account, payloads):8.0f} payloads/s (bulk InboundPayload insert)")
    if webhook is not None:
        pass
    elif args.profile:
        seconds = drain_in_process_profiled()
        how = "in-process drain under cProfile"
    else:
        seconds = drain_through_worker(len(payloads), args.workers)
        how = f"celery worker, {args.workers} prefork processes"
    figures = check(account, unique)
    print(f"drain   {len(payloads) / seconds:8.0f} messages/s through parse + ingest + delete "
          f"({len(payloads)} payloads in {seconds:.1f} s; {how}; batch {batch})")
    print("        " + " · ".join(f"{k} {v}" for k, v in figures.items() if k != "problems"))
    if webhook and "sockets" in webhook:
        print(f"        {webhook['sockets']} desk sockets heard {webhook['frames heard']:,} message.created frames")
    rows, copy_rate = copy_ceiling(account)
    print(f"COPY    {copy_rate:8.0f} rows/s: the same {rows} message rows COPYed into a copy of the table; "
          f"the drain reached {len(payloads) / seconds / copy_rate:.3f} of it")
    if args.in_process:
        print(f"ingest  {ingest_in_process(args.in_process, batch):8.0f} rows/s plain messages_ingest in-process "
              f"({args.in_process} messages, batches of {batch})")
    if figures["problems"]:
        sys.exit("WRONG: " + "; ".join(figures["problems"]))


if __name__ == "__main__":
    main()
