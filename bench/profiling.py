"""py-spy profiles of the Rasa server during one concurrency level (`--profile VARIANT@LEVEL`)."""
from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path
from typing import Dict, Optional

from bench.processes import bench_env, log, start_process, stop_process

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PROFILES = ROOT / "bench" / "profile"


def summarize_profile(profile: dict, top: int = 30) -> dict:
    """Top frames of a py-spy raw (collapsed stacks) profile: self and inclusive share of samples."""
    path = PROFILES / profile["output"]
    if not path.exists():
        return {"error": f"{path.name} not written"}
    self_counts: Dict[str, int] = {}
    incl_counts: Dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            incl_counts[frame] = incl_counts.get(frame, 0) + n
        self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + n
    def rank(counts):
        return [{"frame": f, "share": round(c / total, 4)} for f, c in sorted(counts.items(), key=lambda x: -x[1])[:top]]
    summary = {"file": str(path.relative_to(ROOT)), "samples": total, "self": rank(self_counts), "inclusive": rank(incl_counts)}
    md = [f"# py-spy: {profile['variant']} at {profile['level']} concurrent ({total} samples, {profile['seconds']} s)", ""]
    for kind in ("self", "inclusive"):
        md += [f"## top {kind}", ""] + [f"- {x['share']*100:5.1f} %  {x['frame']}" for x in summary[kind]] + [""]
    (path.parent / f"top-{profile['variant']}-{profile['level']}.md").write_text("\n".join(md), encoding="utf-8")
    return summary


def start_profiler(servers, profile: Optional[dict], variant, level: int) -> Optional[subprocess.Popen]:
    """py-spy on the Rasa server of `servers` when `profile` names this variant and level."""
    if not profile or profile["variant"] != variant.name or profile["level"] != level:
        return None
    py_spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if not py_spy:
        log("py-spy not found: no profile")
        return None
    out = PROFILES / profile["output"]
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [py_spy, "record", "--pid", str(servers.rasa.pid), "--rate", "100", "--duration", str(profile["seconds"]),
           "--format", "raw", "-o", str(out), "--nonblocking"]
    if profile.get("idle"):
        cmd.append("--idle")
    log(f"profiling {variant.name} at {level} concurrent: {' '.join(cmd[1:])}")
    return start_process(cmd, variant.dir / f"py-spy-{level}.log", bench_env())


def finish_profiler(spy: subprocess.Popen, profile: dict) -> dict:
    """Waits for py-spy (it stops by itself after --duration) and summarises what it recorded."""
    try:
        spy.wait(timeout=profile["seconds"] + 60)
    except subprocess.TimeoutExpired:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl+C
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stop_process(spy)
    return summarize_profile(profile)
