#!/usr/bin/env python
"""Live inbox latency, end to end: webhook POST -> stage -> Celery drain -> ingest -> publish -> desk sockets.

    .venv/bin/python bench/live_latency.py [--agents 200] [--rate 10] [--duration 20] [--web 1] [--worker-procs 2]

What it does (a figure, not a test; see bench/README.md for results):
1. recreates and migrates its own database (centralita_bench_live) and flushes its own Redis
   database (14: channel layer, cache, Celery broker);
2. creates 4 teams, K agents spread over them, a logged-in session per agent and one API
   channel account per team (so each message is routed to one team);
3. starts the real servers with that environment: W uvicorn processes (config.asgi, one port
   each) and `celery -A config worker -c N --pool prefork`; no beat, so only the webhooks'
   own nudges start drains;
4. opens K /ws/desk/ sockets (session cookie + same-origin Origin) from one or more client
   processes, each agent on a server in turn, and waits for every `hello`;
5. POSTs R messages/s for D seconds to /api/inbound/<account>/ from an open-loop schedule
   (message i leaves at t0 + i/R whatever the earlier answers), round-robin over the teams'
   accounts and the servers, each text carrying a marker `#i`;
6. records every `message.created` frame at every agent, waits until every expected frame
   arrived (each agent of the message's team: apps/inbox/visibility.py), nothing came for 15 s, or --settle s;
7. prints POST and frame latency, the share delivered and the CPU each process used, then
   stops everything (also on Ctrl-C or an error).
"""
import argparse
import asyncio
import collections
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import TICK, pct, recreate_database, sched, start_split, stop, uptime, wait_serving  # noqa: E402
BIN = Path(sys.executable).parent


# --- the websocket clients (a process of their own; stdlib + websockets only) ------------------------


def client_process(agents, results, stop, counter) -> None:
    """agents: [(index, server url, cookie)]. Puts ("ready", connected indexes), then
    ("done", frames [(index, marker, wall time)], {"other": frames, "closed": sockets dropped})."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    asyncio.run(_clients(agents, results, stop, counter))


async def _clients(agents, results, stop, counter) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    frames, stats, gate, sockets = [], {"other": 0, "closed": 0}, asyncio.Semaphore(20), {}

    async def open_one(index, server, cookie):
        async with gate:  # handshakes in small waves: each one is a session lookup + group joins
            try:
                ws = await connect(server.replace("http", "ws", 1) + "/ws/desk/", origin=server,
                                   additional_headers={"Cookie": cookie}, open_timeout=60, close_timeout=2)
                hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
                assert hello["type"] == "hello", hello
                sockets[index] = ws
            except Exception as exc:
                print(f"  agent {index}: no socket ({exc!r})", file=sys.stderr)

    async def read(index, ws):
        try:
            async for data in ws:
                now = time.time()
                if '"message.created"' not in data:  # parse only the frames we time
                    stats["other"] += 1
                    continue
                parsed = json.loads(data)  # one event, or an array of those published together
                for event in parsed if isinstance(parsed, list) else [parsed]:
                    if event.get("type") == "message.created":
                        frames.append((index, int(event["message"]["text"].rsplit("#", 1)[1]), now))
                        counter.value += 1
                    else:
                        stats["other"] += 1
        except ConnectionClosed:
            pass
        if not stop.is_set():
            stats["closed"] += 1

    await asyncio.gather(*(open_one(*agent) for agent in agents))
    results.put(("ready", sorted(sockets)))
    readers = [asyncio.create_task(read(i, ws)) for i, ws in sockets.items()]
    while not stop.is_set():
        await asyncio.sleep(0.05)
    await asyncio.gather(*(ws.close() for ws in sockets.values()), return_exceptions=True)
    await asyncio.gather(*readers, return_exceptions=True)
    results.put(("done", frames, stats))


# --- database, desk, servers ----------------------------------------------------------------------


def create_desk(agents: int, teams: int) -> tuple[list[str], list[int], list[tuple[int, str]]]:
    """Cookies and team index per agent; (account id, inbound token) per team."""
    from django.conf import settings
    from django.test import Client

    from apps.accounts.models import Role, Team, User
    from apps.connectors.models import ChannelAccount
    from apps.connectors.services import channel_account_rotate_token

    team_rows = [Team.objects.create(name=f"Bench team {t}") for t in range(teams)]
    accounts = []
    for t, team in enumerate(team_rows):
        account = ChannelAccount.objects.create(kind="api", name=f"bench api {t}", team=team)
        accounts.append((account.id, channel_account_rotate_token(account=account)))
    users = User.objects.bulk_create([User(username=f"agent{j}", first_name=f"Agent {j}", role=Role.AGENT,
                                           password="!unusable") for j in range(agents)])
    User.teams.through.objects.bulk_create(
        [User.teams.through(user_id=u.id, team_id=team_rows[j % teams].id) for j, u in enumerate(users)])
    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)  # a real session row, signed with the servers' SECRET_KEY
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    return cookies, [j % teams for j in range(agents)], accounts


def start_web(env: dict, logs: Path, n: int) -> tuple[subprocess.Popen, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port and uvicorn inherits the socket: no race
    sock.listen(1024)
    command = [str(BIN / "uvicorn"), "config.asgi:application", "--fd", str(sock.fileno()), "--lifespan", "off",
               "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, pass_fds=[sock.fileno()],
                            stdout=open(logs / f"web{n}.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    return proc, url


def start_worker(env: dict, logs: Path, procs: int) -> subprocess.Popen:
    command = [str(BIN / "celery"), "-A", "config", "worker", "-c", str(procs), "--pool", "prefork",
               "--loglevel", "WARNING", "-n", f"bench-live-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=open(logs / "worker.log", "wb"), stderr=subprocess.STDOUT)


def wait_ready(webs, worker, logs: Path, timeout: float = 90, extra=()) -> None:
    from config.celery import app

    wait_serving([url for _, url in webs], [p for p, _ in webs] + [worker, *extra], logs, timeout,
                 also_ready=lambda: app.control.ping(timeout=0.5))


# --- the inbound load -----------------------------------------------------------------------------


async def post_all(args, servers, accounts, counter_total) -> list[tuple[float, int, float]]:
    """Open loop: POST i leaves at t0 + i/rate. Returns (start wall time, HTTP status, seconds) per i."""
    import aiohttp

    n = int(args.rate * args.duration)
    results: list = [None] * n

    async def post_one(session, i):
        account_id, token = accounts[i % len(accounts)]
        body = json.dumps({"external_id": f"live-{i}", "sender": {"email": f"customer{i % args.customers}@bench.example",
                           "name": f"Customer {i % args.customers}"}, "text": f"Hola, ¿dónde está mi pedido? #{i}"})
        started, status = time.time(), 0
        try:
            async with session.post(f"{servers[i % len(servers)]}/api/inbound/{account_id}/", data=body,
                                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}) as r:
                await r.read()
                status = r.status
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        results[i] = (started, status, time.time() - started)

    async def progress():
        while True:
            done = sum(r is not None for r in results)
            print(f"\r  POSTs answered {done:>5}/{n}  frames {counter_total():>7}", end="", flush=True)
            await asyncio.sleep(1)

    timeout = aiohttp.ClientTimeout(total=120)  # then it counts as not accepted
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.post_connections), timeout=timeout) as session:
        reporter, tasks, t0 = asyncio.create_task(progress()), [], time.monotonic() + 0.1
        for i in range(n):
            await asyncio.sleep(max(0.0, t0 + i / args.rate - time.monotonic()))
            tasks.append(asyncio.create_task(post_one(session, i)))
        await asyncio.gather(*tasks)
        reporter.cancel()
    return results


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / TICK


async def pg_connections(database_url: str, peak: list[int], backends: dict | None = None) -> None:
    """Peak PostgreSQL sessions, [this bench's database, the whole server], sampled every 0.25 s; and the
    CPU of the bench database's backends ({pid: [first seen, last seen]}: a session's CPU before its first
    sample is missed, so short-lived sessions are undercounted)."""
    import psycopg2

    parts = urlsplit(database_url)
    conn = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    conn.autocommit = True  # a fresh pg_stat_activity snapshot per query, not one per transaction

    def sample():
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FILTER (WHERE datname = %s), count(*) FROM pg_stat_activity", [parts.path[1:]])
            counts = cursor.fetchone()
            if backends is not None:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [parts.path[1:]])
                for (pid,) in cursor.fetchall():
                    cpu = proc_cpu(pid)
                    if cpu >= 0:
                        backends.setdefault(pid, [cpu, cpu])[1] = cpu
            return counts

    try:
        while True:
            peak[:] = [max(a, b) for a, b in zip(peak, await asyncio.to_thread(sample))]
            await asyncio.sleep(0.25)
    finally:
        conn.close()


def ms(values: list[float]) -> str:
    return " / ".join(f"{pct(values, q) * 1000:,.0f}" for q in (0.5, 0.95, 0.99, 1.0)) + " ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=200, help="agents, each with one desk socket (default 200)")
    parser.add_argument("--teams", type=int, default=4, help="teams (one API account each; default 4)")
    parser.add_argument("--rate", type=float, default=10, help="inbound POSTs per second (default 10)")
    parser.add_argument("--duration", type=float, default=20, help="seconds of POSTing (default 20)")
    parser.add_argument("--layout", choices=("single", "split"), default="single",
                        help="single: uvicorn serves HTTP and sockets; split: nginx -> gunicorn + uvicorn for /ws/ (run_desk with REDIS_URL)")
    parser.add_argument("--web", type=int, default=1, help="uvicorn processes (single: one port each; split: socket workers) (default 1)")
    parser.add_argument("--http-workers", type=int, default=4, help="split: gunicorn workers (default 4)")
    parser.add_argument("--http-threads", type=int, default=1, help="split: threads per gunicorn worker (default 1)")
    parser.add_argument("--worker-procs", type=int, default=2, help="celery prefork processes (default 2)")
    parser.add_argument("--client-procs", type=int, default=1, help="processes holding the sockets (default 1)")
    parser.add_argument("--post-connections", type=int, default=200,
                        help="at most this many POSTs in flight; later ones wait in the client, their clock running (default 200)")
    parser.add_argument("--customers", type=int, default=100, help="distinct senders, in turn (default 100)")
    parser.add_argument("--settle", type=float, default=180, help="max seconds to wait for frames after the POSTs")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/centralita_bench_live"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
                        help="channel layer, cache and broker: a Redis database of its own (flushed)")
    args = parser.parse_args()
    command_line = " ".join([".venv/bin/python", "bench/live_latency.py", *sys.argv[1:]])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below on kill too

    uptime("load at start")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": args.database_url,
           "REDIS_URL": args.redis_url, "CELERY_BROKER_URL": args.redis_url, "CELERY_TASK_ALWAYS_EAGER": "false",
           "CELERY_TASK_DEFAULT_QUEUE": "celery", "SECRET_KEY": "live-latency-bench-not-secret", "LOG_LEVEL": "WARNING",
           "CHANNEL_LAYER_PREFIX": f"asgi-bench-live-{urlsplit(args.redis_url).path.strip('/') or '0'}"}
    os.environ.update(env)
    print(f"database {args.database_url} (recreated) · redis {args.redis_url} (flushed)")
    recreate_database(args.database_url)
    import django
    import redis

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(args.redis_url).flushdb()
    cookies, agent_team, accounts = create_desk(args.agents, args.teams)
    connection.close()

    logs = Path(tempfile.mkdtemp(prefix="centralita-bench-live-"))
    servers, clients, ctx = [], [], mp.get_context("spawn")
    results, stop_clients = ctx.Queue(), ctx.Event()
    try:
        if args.layout == "split":
            split_procs, proxy_url, web_groups = start_split(env, logs, http_workers=args.http_workers,
                                                                 http_threads=args.http_threads, ws_workers=args.web)
            webs = [(split_procs[-1], proxy_url)]
        else:
            split_procs, webs = [], [start_web(env, logs, n) for n in range(args.web)]
            web_groups = {"web": ([p.pid for p, _ in webs], False)}
        worker = start_worker(env, logs, args.worker_procs)
        servers = [p for p, _ in webs] + split_procs + [worker]
        wait_ready(webs, worker, logs, extra=split_procs)
        urls = [url for _, url in webs]
        if args.layout == "split":
            print(f"servers: nginx {proxy_url} -> gunicorn {args.http_workers} x {args.http_threads} threads, "
                  f"uvicorn /ws/ × {args.web}; celery worker -c {args.worker_procs}; logs in {logs}")
        else:
            print(f"servers: {args.web} uvicorn ({', '.join(urls)}), celery worker -c {args.worker_procs}; logs in {logs}")

        counters = [ctx.Value("q", 0, lock=False) for _ in range(args.client_procs)]
        # Each team's agents spread over the servers; agents dealt to client processes in turn.
        agents = [(j, urls[(j // args.teams) % len(urls)], cookies[j]) for j in range(args.agents)]
        for c in range(args.client_procs):
            clients.append(ctx.Process(target=client_process, args=(agents[c::args.client_procs], results, stop_clients, counters[c])))
            clients[-1].start()
        connected = [j for _ in clients for j in results.get(timeout=300)[1]]
        members = [sum(1 for j in connected if agent_team[j] == t) for t in range(args.teams)]
        print(f"sockets: {len(connected)}/{args.agents} connected, per team {members}")

        groups = {**web_groups, "worker": ([worker.pid], True), "POSTer": ([os.getpid()], False),
                  **{f"socket client {c}": ([client.pid], False) for c, client in enumerate(clients)}}
        cpu0 = {name: sched(*group) for name, group in groups.items()}
        wall0 = time.monotonic()
        posts, pg_peak, pg_backends = None, [0, 0], {}

        async def drive():
            nonlocal posts
            sampler = asyncio.create_task(pg_connections(args.database_url, pg_peak, pg_backends))
            posts = await post_all(args, urls, accounts, lambda: sum(c.value for c in counters))
            expected = sum(members[i % args.teams] for i, (_, status, _) in enumerate(posts) if 200 <= status < 300)
            deadline, last, last_change = time.monotonic() + args.settle, -1, time.monotonic()
            # Until every frame came, --settle passed, or nothing arrived for 15 s (then it is lost, not late).
            while (got := sum(c.value for c in counters)) < expected and time.monotonic() < min(deadline, last_change + 15):
                if got != last:
                    last, last_change = got, time.monotonic()
                print(f"\r  POSTs answered {len(posts):>5}/{len(posts)}  frames {got:>7}/{expected}", end="", flush=True)
                await asyncio.sleep(0.2)
            print()
            sampler.cancel()

        asyncio.run(drive())
        wall = time.monotonic() - wall0
        cpu = {name: [b - a for a, b in zip(cpu0[name], sched(*group))] for name, group in groups.items()}
        stop_clients.set()
        done = [results.get(timeout=60) for _ in clients]
        frames = [f for d in done for f in d[1]]
        other, closed = sum(d[2]["other"] for d in done), sum(d[2]["closed"] for d in done)

        from apps.connectors.models import InboundPayload
        from apps.inbox.models import Message

        left = InboundPayload.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_connections")
            max_connections = cursor.fetchone()[0]
        built = {int(e.split("-")[1]): c.timestamp() for e, c in
                 Message.objects.filter(external_id__startswith="live-").values_list("external_id", "created_at")}
        connection.close()
    finally:
        stop_clients.set()
        for client in clients:
            client.join(timeout=10)
            if client.is_alive():
                client.terminate()
        for proc in servers:
            stop(proc)
        errors = sum(line.count("Traceback") + line.count("ERROR") for f in logs.glob("*.log") for line in f.read_text(errors="replace").splitlines())
        if errors:
            print(f"  {errors} error lines in the server logs ({logs})")

    accepted = [i for i, (_, status, _) in enumerate(posts) if 200 <= status < 300]
    accepted_set, start = set(accepted), [p[0] for p in posts]
    last_answer = max(p[0] + p[2] for p in posts)
    expected = sum(members[i % args.teams] for i in accepted)
    seen, latencies, after_row, wrong = set(), [], [], 0
    for j, i, t in frames:
        if agent_team[j] != i % args.teams or i not in accepted_set:
            wrong += 1
        elif (j, i) not in seen:
            seen.add((j, i))
            latencies.append(t - start[i])
            if i in built:
                after_row.append(t - built[i])
    to_row = [built[i] - start[i] for i in accepted if i in built]

    print(f"agents {args.agents} in {args.teams} teams · {args.rate:g} msg/s for {args.duration:g} s · "
          + (f"nginx + gunicorn {args.http_workers}×{args.http_threads} + {args.web} uvicorn /ws/, " if args.layout == "split" else f"{args.web} web, ")
          + f"{args.worker_procs} worker processes, {args.client_procs} socket client process(es), "
          f"≤ {args.post_connections} POSTs in flight")
    failed = collections.Counter(status or "no answer" for _, status, _ in posts if not 200 <= status < 300)
    print(f"POSTs   sent {len(posts)} · accepted (2xx) {len(accepted)} · {len(accepted) / (last_answer - start[0]):.1f} accepted/s "
          f"· response p50 / p95 / p99 / max {ms([p[2] for p in posts])}")
    if failed:
        print("        not accepted: " + ", ".join(f"{status} × {n}" for status, n in failed.most_common()))
    print(f"frames  POST -> message.created p50 / p95 / p99 / max {ms(latencies)}")
    print(f"        delivered {len(latencies)}/{expected} ({100 * len(latencies) / max(expected, 1):.1f}%) · "
          f"unexpected (other team, or POST not accepted) {wrong} · duplicates {len(frames) - wrong - len(latencies)} · other frames {other} · sockets dropped {closed}")
    per_second = collections.Counter(int(t) for _, _, t in frames)
    span = max(max(per_second) - min(per_second) + 1, 1) if frames else 1
    print(f"        message.created frames/s at the sockets: peak {max(per_second.values(), default=0):,} (1-s buckets), "
          f"mean {len(frames) / span:,.0f} over {span} s (the other frames come on top)")
    print(f"split   POST -> message row built (worker) {ms(to_row)}; row -> frame {ms(after_row)}")
    print(f"        messages ingested {len(built)}/{len(accepted)} · payloads still staged at stop {left}")
    print(f"        PostgreSQL sessions at peak: {pg_peak[0]} on the bench database, {pg_peak[1]} on the server "
          f"(max_connections {max_connections})")
    print(f"CPU     over {wall:.1f} s, % of one core used (and % spent runnable, waiting for a core): "
          + " · ".join(f"{name} {100 * run / wall:.0f} ({100 * wait / wall:.0f})" for name, (run, wait) in cpu.items()))
    cpu["PostgreSQL (sessions of the bench db)"] = [sum(b - a for a, b in pg_backends.values()), 0.0]
    per_post = {name: 1000 * run / max(len(accepted), 1) for name, (run, _) in cpu.items()}
    print("        CPU ms per accepted POST: " + " · ".join(f"{name} {v:.2f}" for name, v in per_post.items())
          + f" · total {sum(per_post.values()):.2f} ms: at most {2000 / max(sum(per_post.values()), 1e-9):,.0f} POSTs/s "
          "on 2 cores with nothing else running (every process here included)")
    print(f"command {command_line}")
    uptime("load at end")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: servers and clients stopped")
