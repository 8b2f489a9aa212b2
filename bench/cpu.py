"""CPU time of the servers' process trees, from /proc/<pid>/stat: what a turn costs."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional

from bot.rasa.process_memory import descendants

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def stat_ticks(stat: str) -> int:
    """utime + stime + cutime + cstime of one /proc/<pid>/stat: the process and its children that
    have exited (the name in parentheses may hold spaces, so fields are counted after the last ')')."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(value) for value in fields[11:15])  # fields 14-17; fields[0] is field 3 (state)


def tree_seconds(pid: int, proc: Path = Path("/proc")) -> float:
    """CPU seconds used so far by `pid` and its live descendants (each counting its exited children)."""
    ticks = 0
    for member in descendants(pid, proc):
        try:
            ticks += stat_ticks((proc / str(member) / "stat").read_text())
        except (OSError, ValueError):
            continue  # exited between the listing and the read
    return ticks / CLOCK_TICKS


class CpuMeter:
    """CPU seconds of named process trees between start() and stop()."""

    def __init__(self, pids: Dict[str, int], proc: Path = Path("/proc")) -> None:
        self.pids, self.proc = pids, proc
        self.before: Dict[str, float] = {}

    def start(self) -> "CpuMeter":
        self.before = {name: tree_seconds(pid, self.proc) for name, pid in self.pids.items()}
        return self

    def stop(self) -> Dict[str, float]:
        return {name: tree_seconds(pid, self.proc) - self.before[name] for name, pid in self.pids.items()}


class ChangingPidsMeter:
    """CPU seconds of a set of processes that changes while it runs (PostgreSQL's backends of one
    database): a process first seen at stop() counts from zero, one gone by then is not counted."""

    def __init__(self, list_pids: Callable[[], Iterable[int]], proc: Path = Path("/proc")) -> None:
        self.list_pids, self.proc = list_pids, proc
        self.before: Dict[int, float] = {}

    def _seconds(self, pid: int) -> Optional[float]:
        try:
            return stat_ticks((self.proc / str(pid) / "stat").read_text()) / CLOCK_TICKS
        except (OSError, ValueError):
            return None

    def start(self) -> "ChangingPidsMeter":
        self.before = {pid: s for pid in self.list_pids() if (s := self._seconds(pid)) is not None}
        return self

    def stop(self) -> float:
        now = {pid: s for pid in self.list_pids() if (s := self._seconds(pid)) is not None}
        return sum(s - self.before.get(pid, 0.0) for pid, s in now.items())


def cpu_per_turn(used_s: Dict[str, float], turns: int) -> dict:
    """Milliseconds of CPU per served turn, per process tree and in total (None without turns)."""
    def per_turn(seconds: float) -> Optional[float]:
        return round(seconds * 1000.0 / turns, 1) if turns > 0 else None

    return {
        "cpu_s": {name: round(seconds, 2) for name, seconds in used_s.items()},
        "cpu_ms_per_turn": {**{name: per_turn(s) for name, s in used_s.items()}, "total": per_turn(sum(used_s.values()))},
    }
