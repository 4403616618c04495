"""What the benches share: their own throwaway database, median / p90 of a timed call, percentiles,
the machine's load, and the desk's real servers as production runs them (nginx -> gunicorn + uvicorn)."""
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def django_fresh(*, database_url: str, redis_url: str) -> None:
    """Django set up as a production process of the split layout (PostgreSQL with persistent
    connections, Redis for the cache, the layer and the broker, tasks queued, not run inline) on a
    freshly created and migrated database of the bench's own."""
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=database_url, REDIS_URL=redis_url,
                      CELERY_BROKER_URL=redis_url, CELERY_TASK_ALWAYS_EAGER="false", CONN_MAX_AGE="600", LOG_LEVEL="WARNING")
    recreate_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn, runs: int = 10, share: float = 0.9) -> tuple[float, float]:
    """Milliseconds: the median and the `share` percentile of `runs` calls of fn."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * share) - 1]


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(q * len(values) + 0.999999) - 1))] if values else float("nan")


def uptime(label: str) -> None:
    print(f"{label}: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


def start_split(env: dict, logs: Path, *, http_workers: int, http_threads: int = 1,
                ws_workers: int = 1) -> tuple[list[subprocess.Popen], str, dict]:
    """nginx on a free port -> gunicorn (HTTP) and uvicorn (/ws/ only), as run_desk starts them with REDIS_URL.
    Returns the processes (nginx last), the proxy's URL and the process groups to account CPU to."""
    from apps.demo import serving

    nginx = serving.nginx_binary()
    if nginx is None:
        sys.exit("the split layout needs nginx (apt-get install nginx-light)")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nginx binds it again at once (a tiny race on a quiet machine; the bench just fails if lost)
    layout = serving.SplitLayout(listen_host="127.0.0.1", listen_port=port, run_dir=logs / "run",
                                 http_workers=http_workers, http_threads=http_threads, ws_workers=ws_workers)
    serving.prepare(layout)
    env = {**env, **serving.app_environment(trusted_proxies=0)}
    procs = {}
    for name, argv in (("http", serving.gunicorn_argv(sys.executable, layout)), ("ws", serving.uvicorn_ws_argv(sys.executable, layout)),
                       ("proxy", serving.nginx_argv(nginx, layout))):
        argv = argv + (["--log-level", "warning"] if name in ("http", "ws") else [])
        procs[name] = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                       stdout=open(logs / f"{name}.log", "wb"), stderr=subprocess.STDOUT)
    return list(procs.values()), f"http://127.0.0.1:{port}", {name: ([p.pid], True) for name, p in procs.items()}


def wait_serving(urls, procs, logs: Path, timeout: float = 90, also_ready=lambda: True) -> None:
    """Until every URL answers /login/ with 200 (and also_ready() is true); exits if a server dies or time runs out."""
    deadline = time.monotonic() + timeout
    pending = set(urls)
    while pending or not also_ready():
        for proc in procs:
            if proc.poll() is not None:
                sys.exit(f"a server exited with {proc.returncode}: see the logs in {logs}")
        for url in list(pending):
            try:
                with urllib.request.urlopen(f"{url}/login/", timeout=5) as response:
                    if response.status == 200:
                        pending.discard(url)
            except OSError:
                time.sleep(0.2)
        if time.monotonic() > deadline:
            sys.exit(f"servers not ready after {timeout:.0f} s: see the logs in {logs}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def sched(pids: list[int], children: bool = False) -> tuple[float, float]:
    """(CPU seconds, seconds runnable but waiting for a core) of these processes, and with children=True
    of their children too (the prefork pool). CPU from /proc/<pid>/stat counts finished threads (a
    sync view runs in a thread of its own per request); the wait, from schedstat, only live ones."""
    def stat(pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0, ""
        return (int(fields[11]) + int(fields[12])) / TICK, fields[1]

    if children:
        ppids = {str(p) for p in pids}
        pids = pids + [int(e) for e in os.listdir("/proc") if e.isdigit() and stat(e)[1] in ppids]
    wait = 0
    for pid in pids:
        for path in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                wait += int(path.read_text().split()[1])
            except OSError:
                pass
    return sum(stat(pid)[0] for pid in pids), wait / 1e9
