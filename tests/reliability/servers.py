"""PRIVATE servers for the fault tests: a redis-server and a PostgreSQL the test starts, stops and
restarts on a free port of its own. The shared services on 6379/5432 are never touched."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.loopback import free_port, wait_for_port




class PrivateRedis:
    """redis-server without persistence: a restart comes back EMPTY (the worst case)."""

    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 30)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None


class PrivatePostgres:
    """A throwaway cluster (initdb in a temp dir) run as the `postgres` OS user when we are root
    (initdb refuses root), trusting local connections, on a port of its own."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="centralita-pg-"))
        self.data = self.dir / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/centralita"

    def _run(self, *args, **kwargs):
        return subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True, **kwargs)

    def init(self) -> "PrivatePostgres":
        self._run(str(self.BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        return self

    def start(self) -> None:
        self._run(str(self.BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.dir / "log"),
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        wait_for_port(self.port, 30)

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
