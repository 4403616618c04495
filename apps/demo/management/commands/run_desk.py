"""manage.py run_desk — the desk and everything around it, as one foreground process.

Embedded (no REDIS_URL): one uvicorn (config.asgi:application: HTTP and websockets) and the
traffic simulator. With REDIS_URL: nginx on --port routing /ws/ to uvicorn (websockets only) and
everything else to gunicorn (apps/demo/serving.py), a Celery worker and beat, and the simulator;
without an nginx on the machine, one uvicorn serves both as in the embedded layout (with a warning).
When any of them stops, or on Ctrl-C / SIGTERM, it stops the others, so nothing is left running.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.demo import serving
from apps.demo.apps import GRAPH_URL_ENV, MAIL_SECRET_ENV, X_URL_ENV

from .demo_seed import demo_api_credentials


def uvicorn_proxy_options(forwarded_allow_ips) -> dict:
    """uvicorn's proxy settings: X-Forwarded-For/-Proto believed only from the proxies named.

    uvicorn's own default believes them from 127.0.0.1, so anyone behind a same-host proxy (or on the
    host) could pick their address. Without FORWARDED_ALLOW_IPS, REMOTE_ADDR stays the socket's peer
    and apps/core/net.py (WEBFORM_TRUSTED_PROXIES) is the one rule for a client's address.
    """
    if not forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(forwarded_allow_ips)}


def uvicorn_proxy_args(forwarded_allow_ips) -> list[str]:
    options = uvicorn_proxy_options(forwarded_allow_ips)
    if not options["proxy_headers"]:
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", options["forwarded_allow_ips"]]


def desk_processes(
    *, python: str, host: str, port: int, simulator: bool, celery: bool, workers: int = 1, reply_port: int = 8001,
    forwarded_allow_ips=(), split: serving.SplitLayout | None = None, nginx: str = "nginx",
) -> list[tuple[str, list[str]]]:
    """(name, argv) of each process to run. With `split`: proxy, http (gunicorn), ws (uvicorn)."""
    if split is None:
        processes = [
            ("web", [python, "-m", "uvicorn", "config.asgi:application", "--host", host, "--port", str(port),
                     "--workers", str(workers), "--no-access-log", *uvicorn_proxy_args(forwarded_allow_ips)]),
        ]
    else:
        processes = [
            ("http", serving.gunicorn_argv(python, split)),
            ("ws", serving.uvicorn_ws_argv(python, split)),
            ("proxy", serving.nginx_argv(nginx, split)),
        ]
    if celery:
        processes += [
            ("worker", [python, "-m", "celery", "-A", "config", "worker", "--loglevel", "info", "--concurrency", "2"]),
            ("beat", [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "info",
                      "--schedule", str(settings.BASE_DIR / "var" / "celerybeat-schedule")]),
        ]
    if simulator:
        processes.append(("simulator", [python, "manage.py", "simulate_traffic", "--url", f"http://{host}:{port}",
                                        "--listen-host", host, "--listen-port", str(reply_port), "--standins"]))
    return processes


def standin_environment(saved: dict) -> dict[str, str]:
    """The desk's processes send to the stand-ins the simulator runs (apps/demo/apps.py reads these)."""
    ports = saved.get("standins")
    if not ports:
        return {}
    env = {GRAPH_URL_ENV: f"http://127.0.0.1:{ports['graph_port']}/", X_URL_ENV: f"http://127.0.0.1:{ports['x_port']}"}
    if ports.get("mail_secret"):  # the mail drop (apps/demo/views.py) opens for the simulator's signed mail
        env[MAIL_SECRET_ENV] = ports["mail_secret"]
    return env


class Command(BaseCommand):
    help = "Run the desk (uvicorn), the traffic simulator and, with REDIS_URL, a Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-simulator", action="store_true", help="no simulated inbound traffic")
        parser.add_argument("--reply-port", type=int, default=8001,
                            help="port the simulator receives the API channel's replies on (demo_seed --reply-url)")
        parser.add_argument("--workers", type=int, default=1,
                            help="uvicorn workers (more than 1 only with REDIS_URL: the embedded channel layer is per process); "
                                 "in the split layout, the websocket processes")
        parser.add_argument("--http-workers", type=int, default=serving.default_http_workers(),
                            help="split layout: gunicorn worker processes (default 2 per core)")
        parser.add_argument("--http-threads", type=int, default=1, help="split layout: threads per gunicorn worker")
        parser.add_argument("--single", action="store_true",
                            help="with REDIS_URL too: one uvicorn for HTTP and websockets, no proxy")

    def handle(self, *args, host, port, no_simulator, reply_port, workers, http_workers, http_threads, single, **options):
        celery = bool(settings.REDIS_URL) and not settings.CELERY_TASK_ALWAYS_EAGER
        if workers > 1 and not settings.REDIS_URL:
            self.stderr.write("Embedded mode runs one web worker: live events stay inside one process.")
            workers = 1
        split, nginx, env = None, serving.nginx_binary(), dict(os.environ)
        if settings.REDIS_URL and not single:
            if nginx is None:
                self.stderr.write("No nginx found: one uvicorn serves HTTP and websockets (slower under load; "
                                  "install nginx for the split layout, docs/deployment.md).")
            else:
                split = serving.SplitLayout(
                    listen_host=host, listen_port=port, run_dir=Path(settings.BASE_DIR) / "var" / "run",
                    http_workers=http_workers, http_threads=http_threads, ws_workers=workers,
                )
                serving.prepare(split)
                env.update(serving.app_environment(trusted_proxies=settings.WEBFORM_TRUSTED_PROXIES))
        database = "PostgreSQL" if settings.IS_POSTGRES else f"SQLite ({settings.DATABASES['default']['NAME']})"
        self.stdout.write(self.style.SUCCESS(f"Centralita desk on http://{host}:{port}/  (Ctrl-C stops everything)"))
        self.stdout.write(
            f"  database: {database} · live events: {'Redis' if settings.REDIS_URL else 'in-process'} · "
            f"Celery: {'worker + beat' if celery else 'tasks run in-process'}"
        )
        if split:
            self.stdout.write(f"  nginx -> gunicorn ({split.http_workers} x {split.http_threads} threads: at most "
                              f"{split.db_connections} database sessions) and /ws/ -> uvicorn ({split.ws_workers})")
        # WhiteNoise warns about a missing STATIC_ROOT; the embedded desk serves from the finders.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        if not no_simulator:
            env.update(standin_environment(demo_api_credentials() or {}))
        processes = desk_processes(
            python=sys.executable, host=host, port=port, simulator=not no_simulator, celery=celery, workers=workers,
            reply_port=reply_port, forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS, split=split, nginx=nginx or "nginx",
        )
        sys.exit(self._supervise(processes, env))

    def _supervise(self, processes, env: dict) -> int:
        running: dict[str, subprocess.Popen] = {}

        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        code = 0
        try:
            for name, argv in processes:
                running[name] = subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env)
            while True:
                for name, process in running.items():
                    if process.poll() is not None:
                        code = process.returncode
                        if name != "simulator" or code != 0:
                            self.stderr.write(f"{name} exited with code {code}; stopping the desk")
                            return code
                        # A simulator run with --count ends normally; the desk keeps serving.
                        del running[name]
                        break
                time.sleep(0.5)
        except KeyboardInterrupt:
            return code
        finally:
            self._stop_all(running)

    def _stop_all(self, running: dict[str, subprocess.Popen]) -> None:
        for process in running.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for name, process in running.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                process.kill()
                process.wait()
