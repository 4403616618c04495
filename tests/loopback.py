"""A loopback HTTP server in a thread of its own: what the provider stand-ins (X API, Graph API,
a customer's system) are built on. The handler reaches its stand-in as `self.server.owner`."""
import socket
import threading
import time

from apps.demo.standins.loopback import LoopbackServer  # noqa: F401  (the stand-ins' base, imported from here by tests)


def free_port() -> int:
    """A port nothing listens on (the kernel picks it), for a test's own server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, seconds: float = 20) -> None:
    """A bound on waiting for a test's server to listen, not a speed check."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port} after {seconds} s")


def three_free_ports() -> int:
    """A base port with the two after it free too (the stand-ins listen on base, base+1, base+2)."""
    for _ in range(50):
        base = free_port()
        if base + 2 < 65536 and all(_free(base + i) for i in (1, 2)):
            return base
    raise RuntimeError("no three free ports in a row")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
