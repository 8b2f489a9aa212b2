"""Processes of a bench run: started in their own session, stopped at exit, memory sampled."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
_STARTED: List[subprocess.Popen] = []  # every process this run started (stopped at exit)


def bench_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.pop("REST_CHANNEL_TOKEN", None)  # the REST channel is open on loopback for the bench
    env.pop("RASA_AUTH_TOKEN", None)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",  # no traffic beyond 127.0.0.1
            "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
            "SANIC_HOST": "127.0.0.1",  # rasa_sdk's action server binds here instead of 0.0.0.0
        }
    )
    env.update(extra or {})
    return env


def start_process(cmd: List[str], logfile: Path, env: Dict[str, str]) -> subprocess.Popen:
    handle = open(logfile, "w")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    handle.close()
    _STARTED.append(proc)
    return proc


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the process group this run created, then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_all() -> None:
    for proc in reversed(_STARTED):
        stop_process(proc)


def stop_all_and_exit(signum, _frame):  # noqa: ANN001
    stop_all()
    raise SystemExit(128 + signum)


def _children() -> Dict[int, List[int]]:
    tree: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> List[int]:
    tree, out, stack = _children(), [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(tree.get(current, []))
    return out


def _status_kb(pid: int, key: str) -> Optional[int]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemoryWatch:
    """Samples a process tree: the peak VmHWM of every pid ever seen (so children that exit still
    count) and the peak of the summed VmRSS. Bounded by the stop event."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid, self.interval = pid, interval
        self.hwm_kb: Dict[int, int] = {}
        self.peak_rss_sum_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        total = 0
        for pid in _descendants(self.pid):
            hwm = _status_kb(pid, "VmHWM")
            rss = _status_kb(pid, "VmRSS")
            if hwm is not None:
                self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), hwm)
            total += rss or 0
        self.peak_rss_sum_kb = max(self.peak_rss_sum_kb, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def stop(self) -> dict:
        self.sample()
        self._stop.set()
        self._thread.join(timeout=5)
        return {
            "vmhwm_tree_mb": round(sum(self.hwm_kb.values()) / 1024, 1),
            "peak_rss_sum_mb": round(self.peak_rss_sum_kb / 1024, 1),
            "pids": len(self.hwm_kb),
        }
