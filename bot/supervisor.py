"""`python -m bot.supervisor`: starts the processes of `make run`, restarts any that dies, stops all on Ctrl+C.

    python -m bot.supervisor [--only NAME …] [--rasa-port 5005] [--actions-port 5055] [--webchat-port 5006]

One process dying (the Rasa server on a bad request, the action server on a database outage) no
longer stops the others: it is restarted after a pause that doubles while it keeps dying soon after
each start (1 s, 2 s, 4 s … at most 60 s) and goes back to 1 s once it has run for a minute. Each
process writes to var/<name>.log; the supervisor's own lines (starts, exits, restarts, stop) go to
var/supervisor.log (and to the terminal, when there is one). SIGINT (Ctrl+C) or SIGTERM stops every process (SIGTERM to its
process group, SIGKILL after 15 s) and then the supervisor.

The processes are the table in `programs()`: adding one is one line there. Before starting them,
the supervisor makes sure the action server's secret exists (bot.settings.action_server_token).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from bot import settings

LOG_DIR = settings.PROJECT_ROOT / "var"
MODEL = "models/consultation.tar.gz"

log = logging.getLogger("bot.supervisor")


@dataclass(frozen=True)
class Program:
    name: str  # also its log file: var/<name>.log
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)  # added to the supervisor's environment


@dataclass(frozen=True)
class Ports:
    rasa: int = 5005
    actions: int = 5055  # endpoints.yml points Rasa here
    webchat: int = 5006


def programs(ports: Ports, python: str = sys.executable) -> tuple[Program, ...]:
    """What `make run` starts."""
    rasa_url = f"http://127.0.0.1:{ports.rasa}"
    endpoints = str(settings.endpoints_file())  # ENDPOINTS_FILE: the desk's purge reads the same file
    return (
        Program("actions", (python, "-m", "bot.rasa.action_server", "--port", str(ports.actions))),
        Program("timers", (python, "-m", "bot.timer_service"), {"RASA_URL": rasa_url}),
        Program("webchat", (python, "-m", "bot.web", "--port", str(ports.webchat)), {"RASA_PORT": str(ports.rasa)}),
        Program("rasa", (python, "-m", "bot.rasa.server", "run", "--model", MODEL, "--endpoints", endpoints,
                         "--credentials", "credentials.yml", "--port", str(ports.rasa), "--interface", "127.0.0.1",
                         "--enable-api")),  # the server reads RASA_AUTH_TOKEN itself (kept out of `ps`)
        Program("desk", (python, "-m", "bot.desk")),  # DESK_HOST/DESK_PORT, 127.0.0.1:5007
    )


@dataclass(frozen=True)
class Backoff:
    initial: float = 1.0
    maximum: float = 60.0
    stable_after: float = 60.0  # a process that ran this long restarts after `initial` again

    def next_delay(self, previous: float | None, ran_for: float) -> float:
        if previous is None or ran_for >= self.stable_after:
            return self.initial
        return min(self.maximum, previous * 2)


@dataclass
class _Child:
    program: Program
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    delay: float | None = None
    restarts: int = 0


class Supervisor:
    """Runs `programs`, each in its own process group, from `cwd`, logging to `log_dir`/<name>.log."""

    def __init__(
        self,
        programs: Sequence[Program],
        log_dir: Path = LOG_DIR,
        cwd: Path = settings.PROJECT_ROOT,
        backoff: Backoff = Backoff(),
        stop_timeout: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [program.name for program in programs]
        if len(set(names)) != len(names):
            raise ValueError(f"program names must be unique: {names}")
        self.children = {program.name: _Child(program) for program in programs}
        self.log_dir = log_dir
        self.cwd = cwd
        self.backoff = backoff
        self.stop_timeout = stop_timeout
        self.clock = clock
        self._stopping = threading.Event()

    def pid(self, name: str) -> int | None:
        process = self.children[name].process
        return process.pid if process is not None and process.poll() is None else None

    def restarts(self, name: str) -> int:
        return self.children[name].restarts

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children.values():
            self._spawn(child)

    def _spawn(self, child: _Child) -> None:
        program = child.program
        child.started_at = self.clock()
        child.restart_at = None
        try:
            with open(self.log_dir / f"{program.name}.log", "ab") as out:
                child.process = subprocess.Popen(
                    program.command, cwd=self.cwd, env={**os.environ, **program.env},
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl+C reaches the supervisor only; it stops each group itself
                )
        except OSError as error:  # e.g. the program is missing: try again later, keep the others running
            child.process = None
            child.delay = self.backoff.next_delay(child.delay, 0.0)
            child.restart_at = self.clock() + child.delay
            log.error("cannot start %s: %s; trying again in %g s", program.name, error, child.delay)
            return
        log.info("started %s (pid %s): %s", program.name, child.process.pid, " ".join(program.command))

    def check(self) -> None:
        """Notice exited processes and restart those whose pause is over; call it regularly."""
        now = self.clock()
        for child in self.children.values():
            if child.restart_at is None and child.process is not None and child.process.poll() is not None:
                child.delay = self.backoff.next_delay(child.delay, now - child.started_at)
                child.restart_at = now + child.delay
                log.warning("%s exited with code %s after %.0f s; restarting in %g s (log: %s)",
                            child.program.name, child.process.returncode, now - child.started_at, child.delay,
                            self.log_dir / f"{child.program.name}.log")
            if child.restart_at is not None and now >= child.restart_at and not self._stopping.is_set():
                child.restarts += 1
                self._spawn(child)

    def run(self, interval: float = 0.2) -> None:
        """Start everything and supervise until `request_stop()` (or SIGINT/SIGTERM via `main`), then stop."""
        self.start()
        try:
            while not self._stopping.wait(interval):
                self.check()
        finally:
            self.stop()

    def request_stop(self, *_: object) -> None:
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        running = [c for c in self.children.values() if c.process is not None and c.process.poll() is None]
        for child in running:
            log.info("stopping %s (pid %s)", child.program.name, child.process.pid)
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in running:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %g s: killing it", child.program.name, self.stop_timeout)
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        log.info("all stopped")


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.supervisor", description=__doc__.split("\n")[0])
    defaults = Ports()
    parser.add_argument("--rasa-port", type=int, default=defaults.rasa)
    parser.add_argument("--actions-port", type=int, default=defaults.actions)
    parser.add_argument("--webchat-port", type=int, default=defaults.webchat)
    parser.add_argument("--only", action="append", metavar="NAME", help="start only these (repeatable)")
    args = parser.parse_args(argv)
    table = programs(Ports(args.rasa_port, args.actions_port, args.webchat_port))
    unknown = set(args.only or ()) - {program.name for program in table}
    if unknown:
        parser.error(f"unknown program(s): {', '.join(sorted(unknown))}; known: {', '.join(p.name for p in table)}")
    chosen = [program for program in table if not args.only or program.name in args.only]

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(LOG_DIR / "supervisor.log")]
    if sys.stderr.isatty():  # else stderr is usually that same log (scripts/run.sh)
        handlers.append(logging.StreamHandler())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s supervisor %(levelname)s %(message)s", handlers=handlers)
    settings.action_server_token()  # generated once, before the processes that share it start
    supervise(Supervisor(chosen))
    return 0


def supervise(supervisor: Supervisor) -> None:
    """Run `supervisor` in the foreground until SIGINT (Ctrl+C), SIGTERM or SIGHUP."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.request_stop)
    supervisor.run()


if __name__ == "__main__":
    raise SystemExit(main())
