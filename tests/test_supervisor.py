"""bot.supervisor with small stand-in processes: one dying is restarted, the others are untouched,
SIGTERM (or Ctrl+C) stops them all; and the table `make run` starts."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot import supervisor as supervisor_module
from bot.settings import PROJECT_ROOT
from bot.supervisor import Backoff, Ports, Program, Supervisor, programs

# A stand-in service: says it started (with its pid) and waits; `ignore_term` makes it ignore SIGTERM.
SERVICE = textwrap.dedent("""
    import os, signal, sys, time
    if sys.argv[2] == "ignore_term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(sys.argv[1], "a") as f:
        f.write(f"{os.getpid()}\\n")
    print("started", flush=True)
    while True:
        time.sleep(0.1)
""")


def service(tmp_path: Path, name: str, mode: str = "normal") -> Program:
    return Program(name, (sys.executable, "-c", SERVICE, str(tmp_path / f"{name}.pids"), mode))


def pids(tmp_path: Path, name: str) -> list[int]:
    file = tmp_path / f"{name}.pids"
    return [int(line) for line in file.read_text().split()] if file.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[-1][0] != "Z"


def wait_for(condition, timeout: float = 10.0, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out: {message}")


def test_a_process_that_dies_is_restarted_and_the_others_are_untouched(tmp_path):
    sup = Supervisor([service(tmp_path, "a"), service(tmp_path, "b")], log_dir=tmp_path / "logs",
                     backoff=Backoff(initial=0.2, maximum=1.0, stable_after=30))
    sup.start()
    try:
        wait_for(lambda: len(pids(tmp_path, "a")) == 1 and len(pids(tmp_path, "b")) == 1, message="both started")
        first_a, b = pids(tmp_path, "a")[0], pids(tmp_path, "b")[0]
        os.kill(first_a, signal.SIGKILL)

        def restarted():
            sup.check()
            return len(pids(tmp_path, "a")) == 2

        wait_for(restarted, message="a restarted")
        second_a = pids(tmp_path, "a")[1]
        assert second_a != first_a and alive(second_a) and not alive(first_a)
        assert pids(tmp_path, "b") == [b] and alive(b) and sup.restarts("b") == 0
        assert sup.restarts("a") == 1 and sup.pid("a") == second_a
        log = (tmp_path / "logs" / "a.log").read_text()
        assert log.count("started") == 2  # both runs append to the same log
    finally:
        sup.stop()
    assert not alive(pids(tmp_path, "a")[-1]) and not alive(b)


def test_a_process_that_keeps_dying_is_restarted_with_a_growing_pause():
    backoff = Backoff(initial=1, maximum=8, stable_after=60)
    delays, previous = [], None
    for _ in range(5):
        previous = backoff.next_delay(previous, ran_for=0.5)
        delays.append(previous)
    assert delays == [1, 2, 4, 8, 8]
    assert backoff.next_delay(8, ran_for=61) == 1  # it had run fine for a while: start over


def test_the_pause_is_waited_before_restarting(tmp_path):
    now = [1000.0]
    crashing = Program("crash", (sys.executable, "-c", "import sys; sys.exit(3)"))
    sup = Supervisor([crashing], log_dir=tmp_path, backoff=Backoff(initial=5, maximum=60), clock=lambda: now[0])
    sup.start()
    try:
        sup.children["crash"].process.wait(timeout=10)
        sup.check()  # exit noticed: restart due at now + 5 s
        assert sup.restarts("crash") == 0
        now[0] += 4.9
        sup.check()
        assert sup.restarts("crash") == 0
        now[0] += 0.2
        sup.check()
        assert sup.restarts("crash") == 1
    finally:
        sup.stop()


def test_a_program_that_cannot_start_is_retried_and_stops_nothing(tmp_path):
    now = [0.0]
    missing = Program("missing", (str(tmp_path / "no-such-program"),))
    sup = Supervisor([missing, service(tmp_path, "a")], log_dir=tmp_path / "logs",
                     backoff=Backoff(initial=2, maximum=60), clock=lambda: now[0])
    sup.start()
    try:
        wait_for(lambda: pids(tmp_path, "a"), message="a started")
        assert sup.pid("missing") is None
        now[0] += 2.1
        sup.check()  # tried again (and failed again): 4 s until the next try
        assert sup.restarts("missing") == 1 and sup.children["missing"].restart_at == pytest.approx(6.1)
        assert alive(pids(tmp_path, "a")[0])
    finally:
        sup.stop()


RUN_SUPERVISOR = textwrap.dedent("""
    import sys
    from pathlib import Path
    from bot.supervisor import Program, Supervisor, supervise
    tmp = Path(sys.argv[1])
    service = sys.argv[2]
    programs = [Program(name, (sys.executable, "-c", service, str(tmp / f"{name}.pids"), mode))
                for name, mode in (("a", "normal"), ("b", "normal"), ("stubborn", "ignore_term"))]
    supervise(Supervisor(programs, log_dir=tmp / "logs", stop_timeout=1.0))
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_ctrl_c_stops_every_process_then_the_supervisor(tmp_path, signum):
    process = subprocess.Popen([sys.executable, "-c", RUN_SUPERVISOR, str(tmp_path), SERVICE], cwd=PROJECT_ROOT)
    try:
        wait_for(lambda: all(pids(tmp_path, name) for name in ("a", "b", "stubborn")), message="all started")
        children = [pids(tmp_path, name)[0] for name in ("a", "b", "stubborn")]
        process.send_signal(signum)
        assert process.wait(timeout=20) == 0
        wait_for(lambda: not any(alive(pid) for pid in children), timeout=5, message="children gone")
    finally:
        if process.poll() is None:
            process.kill()
    assert all(len(pids(tmp_path, name)) == 1 for name in ("a", "b", "stubborn"))  # none restarted while stopping


def test_make_run_starts_the_five_services_with_their_ports():
    table = {p.name: p for p in programs(Ports(rasa=15005, actions=15055, webchat=15006), python="py")}
    assert list(table) == ["actions", "timers", "webchat", "rasa", "desk"]
    assert table["desk"].command == ("py", "-m", "bot.desk")
    assert table["actions"].command == ("py", "-m", "bot.rasa.action_server", "--port", "15055")
    assert table["timers"].env == {"RASA_URL": "http://127.0.0.1:15005"}
    assert table["webchat"].command[-2:] == ("--port", "15006") and table["webchat"].env == {"RASA_PORT": "15005"}
    rasa = table["rasa"].command
    assert rasa[:4] == ("py", "-m", "bot.rasa.server", "run")
    assert rasa[rasa.index("--port") + 1] == "15005" and rasa[rasa.index("--interface") + 1] == "127.0.0.1"


def test_every_program_module_exists():
    for program in programs(Ports()):
        module = program.command[program.command.index("-m") + 1]
        path = PROJECT_ROOT / Path(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file(), module


def test_unknown_only_names_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        supervisor_module.main(["--only", "nope"])
    assert exit_info.value.code == 2 and "unknown program(s): nope" in capsys.readouterr().err
