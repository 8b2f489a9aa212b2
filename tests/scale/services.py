"""Private PostgreSQL and Redis servers for tests/scale: the cluster's own, so that the fault tests
can restart them without touching the machine's shared services.

Each runs as a child process on a free loopback port, with its files in a directory of its own
(removed at stop). PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the
`postgres` OS user (runuser). `unavailable()` says why one cannot be started here, if it cannot.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import redis

from bench.processes import free_port, start_process, stop_process

PG_USER = "postgres"  # the OS user PostgreSQL runs as when the tests run as root
START_TIMEOUT_S = 60


def _postgres_bin() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """initdb in a fresh directory, pg_ctl start/stop/restart; `admin_url` is its superuser's."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.home: Optional[Path] = None

    @staticmethod
    def unavailable() -> Optional[str]:
        if _postgres_bin() is None:
            return "no PostgreSQL server binaries (initdb) on this machine"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(PG_USER)
            except KeyError:
                return f"running as root and there is no '{PG_USER}' OS user to run PostgreSQL as"
            if shutil.which("runuser") is None:
                return "running as root and there is no runuser to start PostgreSQL as another user"
        return None

    @property
    def admin_url(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        assert self.home is not None
        return self.home / "data"

    def _run(self, *args: str, timeout: float = START_TIMEOUT_S) -> None:
        command: List[str] = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout}{done.stderr}{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.home / "postgres.log").read_text(errors="replace").splitlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def start(self) -> None:
        if self.home is None:
            # not under pytest's tmp_path: that is private to root, and the server runs as postgres
            self.home = Path(tempfile.mkdtemp(prefix="kasuhara-pg-"))
            if os.geteuid() == 0:
                shutil.chown(self.home, PG_USER)
            self._run("initdb", "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._run("pg_ctl", "start", "-D", str(self.data), "-w", "-t", str(START_TIMEOUT_S), "-l",
                  str(self.home / "postgres.log"), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: "fast" (clients disconnected, clean shut-down) or "immediate" (like a crash:
        WAL recovery at the next start)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-w", "-m", mode)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        if self.home is None:
            return
        try:
            self.stop("immediate")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass  # not running
        shutil.rmtree(self.home, ignore_errors=True)
        self.home = None


class PrivateRedis:
    """redis-server on a free port, nothing persisted: a restart starts it empty, as a crashed
    Redis without persistence comes back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="kasuhara-redis-"))
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0

    @staticmethod
    def unavailable() -> Optional[str]:
        return None if shutil.which("redis-server") else "no redis-server on this machine"

    def start(self) -> None:
        self.starts += 1
        self.proc = start_process(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.home)],
            self.home / f"redis-{self.starts}.log", dict(os.environ),
        )
        client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.1)
        finally:
            client.close()
        raise RuntimeError(f"redis-server did not start: {(self.home / f'redis-{self.starts}.log').read_text()}")

    def kill_9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def remove(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        shutil.rmtree(self.home, ignore_errors=True)
