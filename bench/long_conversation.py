"""One long conversation over REST against one tracker store: turn time as it grows, CPU per turn.

    .venv/bin/python -m bench.long_conversation --turns 500                 # the store endpoints.yml names
    .venv/bin/python -m bench.long_conversation --turns 500 --tracker-store bot.rasa.tracker_store.SlotHandoverSQLTrackerStore

starts the action server and the Rasa server as the bench does (bench/serving.py: free 127.0.0.1
ports, a fresh SQLite tracker store under bench/work/long-<store>/), sends the turns of
bench.client.run_long_conversation (what `make bench` measures) and prints the summary as JSON,
with the CPU the Rasa server's process tree used per turn. Bounded by --turns and --max-seconds.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bench.client import run_long_conversation
from bench.cpu import tree_seconds


def main(argv=None) -> int:
    from bench.models import OUR_MODEL, OUR_SERVER, OUR_TRACKER_STORE, ROOT, Variant
    from bench.processes import stop_all
    from bench.serving import start_servers, stop_servers, wait_until_up

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--tracker-store", default=OUR_TRACKER_STORE)
    parser.add_argument("--out", type=Path, help="also write the JSON (with every turn) here")
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
        cpu_before = tree_seconds(servers.rasa.pid)
        result = asyncio.run(run_long_conversation(servers.base, "long-employee", args.turns, args.max_seconds))
        cpu_used = tree_seconds(servers.rasa.pid) - cpu_before
    finally:
        stop_servers(servers)
        stop_all()
    result = {
        "tracker_store": args.tracker_store,
        "rasa_cpu_ms_per_turn": round(cpu_used * 1000 / max(len(result["samples"]), 1), 1),
        **result,
    }
    if args.out:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
