"""Peak memory of a process tree, sampled from /proc: what `rasa train` and the bench's servers use."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Dict, List, Optional


def _children(proc: Path) -> Dict[int, List[int]]:
    tree: Dict[int, List[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int, proc: Path = Path("/proc")) -> List[int]:
    """`pid` and every live process below it (`proc`: where /proc is, for tests)."""
    tree, out, stack = _children(proc), [], [pid]
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
        for pid in descendants(self.pid):
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
