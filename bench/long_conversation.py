"""One long conversation over REST: turn time and the Rasa server's CPU per turn as it grows.

    .venv/bin/python -m bench.long_conversation --turns 500                 # the store endpoints.yml names
    .venv/bin/python -m bench.long_conversation --turns 500 --tracker-store bot.rasa.tracker_store.SlotHandoverSQLTrackerStore

starts the action server and the Rasa server as the bench does (bench/serving.py: free 127.0.0.1
ports, a fresh SQLite tracker store under bench/work/long-<store>/), sends one employee's turns
in order (bench/conversations.py's scripts, one after the other, in the same conversation), and
prints the figures as JSON. Bounded by --turns and --max-seconds.

`measure_long_conversation(base_url, turns, sender, server_pid=...)` is the measurement alone,
for a run that has its servers already (bench/run.py).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from bench.conversations import script
from bench.stats import rounded

WINDOW = 10  # turns around each point reported ("turn 10" = turns 6..15)
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def messages(turns: int) -> List[str]:
    """`turns` messages of one employee: the bench's consultation scripts, one after the other."""
    out: List[str] = []
    index = 0
    while len(out) < turns:
        out += [message for _, message in script(index)]
        index += 1
    return out[:turns]


def _window(samples: List[dict], turn: int, key: str) -> Optional[float]:
    """Median of `key` over the WINDOW turns centred on `turn` (1-based), None if not reached."""
    chosen = [s[key] for s in samples if abs(s["turn"] - turn) < WINDOW / 2 + 0.5 and s.get(key) is not None]
    return rounded(statistics.median(chosen)) if len(chosen) >= WINDOW // 2 else None


async def measure_long_conversation(
    base_url: str, turns: int, sender: str, server_pid: Optional[int] = None, max_seconds: float = 900.0,
    points: tuple = (10, 100, 250, 500),
) -> Dict:
    """Send `turns` messages in one conversation, one at a time; per turn the latency and, with
    `server_pid`, the CPU the Rasa server spent (the action server's is not counted). Stops at
    `max_seconds`. Returns medians around each of `points` reached, plus every sample."""
    import aiohttp

    from bench.client import post_turn

    samples: List[dict] = []
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        for number, message in enumerate(messages(turns), start=1):
            if time.monotonic() - started > max_seconds:
                break
            before = cpu_seconds(server_pid) if server_pid else None
            result = await post_turn(session, base_url.rstrip("/"), sender, message)
            cpu_ms = (cpu_seconds(server_pid) - before) * 1000.0 if server_pid else None
            samples.append({"turn": number, "ms": result["ms"], "cpu_ms": cpu_ms, "ok": result["ok"]})
    return {
        "turns": len(samples),
        "failures": sum(not s["ok"] for s in samples),
        "seconds": rounded(time.monotonic() - started),
        "latency_ms": {str(p): _window(samples, p, "ms") for p in points if p <= len(samples)},
        "cpu_ms": {str(p): _window(samples, p, "cpu_ms") for p in points if p <= len(samples)} if server_pid else None,
        "samples": [{k: (rounded(v) if isinstance(v, float) else v) for k, v in s.items()} for s in samples],
    }


def main(argv=None) -> int:
    from bench.models import OUR_MODEL, OUR_SERVER, OUR_TRACKER_STORE, ROOT, Variant
    from bench.processes import stop_all
    from bench.serving import start_servers, stop_servers, wait_until_up

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--tracker-store", default=OUR_TRACKER_STORE)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if not OUR_MODEL.exists():
        print(f"no model at {OUR_MODEL}: make train", file=sys.stderr)
        return 2
    variant = Variant(
        f"long-{args.tracker_store.rsplit('.', 1)[-1]}", ROOT / "config.yml", server=list(OUR_SERVER),
        tracker_store=args.tracker_store,
    )
    variant.dir.mkdir(parents=True, exist_ok=True)
    (variant.dir / f"{variant.name}.tar.gz").unlink(missing_ok=True)
    (variant.dir / f"{variant.name}.tar.gz").symlink_to(OUR_MODEL)
    started = time.monotonic()
    servers = start_servers(variant)
    try:
        asyncio.run(wait_until_up(servers, started))
        result = asyncio.run(
            measure_long_conversation(servers.base, args.turns, "long-employee", servers.rasa.pid, args.max_seconds)
        )
    finally:
        stop_servers(servers)
        stop_all()
    result = {"tracker_store": args.tracker_store, **result}
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    summary = {k: v for k, v in result.items() if k != "samples"}
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
