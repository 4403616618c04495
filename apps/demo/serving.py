"""How the desk is served with REDIS_URL: a proxy in front, HTTP on gunicorn, websockets on uvicorn.

Sync Django views run 3-5x slower under an ASGI server, and there their threads starve the event
loop that fans live events out (bench/README.md, live_latency). So HTTP goes to gunicorn (WSGI,
workers x threads, each keeping one PostgreSQL session: the connection count is fixed by the
process layout, whatever the burst), /ws/ goes to uvicorn serving websockets only, and nginx
routes between them and buffers slow clients. docker-compose.yml runs the same layout from
deploy/nginx.conf; `run_desk` builds it here. The embedded desk (no REDIS_URL) stays one uvicorn.

One rule for a client's address stays apps/core/net.py: nginx appends the peer it received from
to X-Forwarded-For, so the app processes behind it trust one proxy more (WEBFORM_TRUSTED_PROXIES + 1).
"""
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx")


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None)


def default_http_workers() -> int:
    # gunicorn's advice (2 x cores + 1) would give 5 here; each is a PostgreSQL session, and on a small
    # box the worker, PostgreSQL and the websocket process need the same cores: 2 per core.
    return max(2, 2 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class SplitLayout:
    """Where each server listens. Sockets are Unix sockets in `run_dir` (nothing to collide with)."""

    listen_host: str
    listen_port: int
    run_dir: Path
    http_workers: int
    http_threads: int = 1
    ws_workers: int = 1
    client_max_body: str = "110m"

    @property
    def http_socket(self) -> Path:
        return self.run_dir / "http.sock"

    @property
    def ws_socket(self) -> Path:
        return self.run_dir / "ws.sock"

    @property
    def nginx_conf(self) -> Path:
        return self.run_dir / "nginx.conf"

    @property
    def db_connections(self) -> int:
        """PostgreSQL sessions the HTTP side may hold at most (one per gunicorn thread)."""
        return self.http_workers * self.http_threads


def gunicorn_argv(python: str, layout: SplitLayout) -> list[str]:
    return [python, "-m", "gunicorn", "--config", "python:config.gunicorn", "--bind", f"unix:{layout.http_socket}",
            "--workers", str(layout.http_workers), "--threads", str(layout.http_threads)]


def uvicorn_ws_argv(python: str, layout: SplitLayout) -> list[str]:
    # Behind nginx the peer is always nginx: REMOTE_ADDR is not read on the socket side.
    return [python, "-m", "uvicorn", "config.asgi:websocket_only", "--uds", str(layout.ws_socket),
            "--workers", str(layout.ws_workers), "--no-access-log", "--lifespan", "off", "--no-proxy-headers",
            *UVICORN_WS_OPTIONS]


# Frames are small JSON (≈0.3-2 kB) sent to every agent: compressing each copy cost the socket process
# more CPU than the bytes saved on a LAN (one deflate per frame and client).
UVICORN_WS_OPTIONS = ["--ws-per-message-deflate", "false"]


def nginx_argv(nginx: str, layout: SplitLayout) -> list[str]:
    return [nginx, "-p", str(layout.run_dir), "-c", str(layout.nginx_conf), "-e", "stderr", "-g", "daemon off;"]


def nginx_config(layout: SplitLayout) -> str:
    run = layout.run_dir
    temp = " ".join(f"{name}_temp_path {run / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Started as root, nginx would run its worker as `nobody`, who cannot reach sockets in a private
    # directory (pytest's, mkdtemp's): the worker runs as the user that runs the desk, like every other process.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    return f"""# Written by run_desk (apps/demo/serving.py) at every start; edits are lost.
{user}
worker_processes 1;
pid {run / "nginx.pid"};
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    {temp}
    client_max_body_size {layout.client_max_body};
    upstream desk_http {{ server unix:{layout.http_socket}; {UPSTREAM_HTTP} }}
    upstream desk_ws {{ server unix:{layout.ws_socket}; }}
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    server {{
        listen {layout.listen_host}:{layout.listen_port};
        location /ws/ {{
            proxy_pass http://desk_ws;
            {PROXY_COMMON}
            {PROXY_WS}
        }}
        location / {{
            proxy_pass http://desk_http;
            {PROXY_COMMON}
            {PROXY_HTTP}
        }}
    }}
}}
"""


# Shared with deploy/nginx.conf (tests/demo/test_serving.py checks both say the same). In every location:
# a location's own proxy_set_header drops every one it would inherit from the server block.
PROXY_COMMON = ("proxy_set_header Host $http_host; "
                "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; "
                "proxy_http_version 1.1;")
PROXY_WS = ("proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; "
            "proxy_read_timeout 1h; proxy_send_timeout 1h; proxy_buffering off;")
# Connections to gunicorn are kept open and reused (a new one per request cost gunicorn an accept, a
# poller registration and a close, in Python, for every webhook). nginx lets an idle one go after 2 s,
# before gunicorn does (config/gunicorn.py keepalive = 5): a POST sent on a connection gunicorn is
# closing would not be retried and would fail.
UPSTREAM_HTTP = "keepalive 32; keepalive_timeout 2s;"
PROXY_HTTP = 'proxy_set_header Connection "";'


def app_environment(*, trusted_proxies: int) -> dict[str, str]:
    """Environment of the app processes behind the proxy."""
    return {"WEBFORM_TRUSTED_PROXIES": str(trusted_proxies + 1)}


def prepare(layout: SplitLayout) -> None:
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    for stale in (layout.http_socket, layout.ws_socket):
        stale.unlink(missing_ok=True)  # left by a killed run: uvicorn would refuse to bind
    layout.nginx_conf.write_text(nginx_config(layout))
