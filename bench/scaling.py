"""One Rasa server against two on the production profile (bench/cluster.py: PostgreSQL, Redis lock
store, one action server), the load client spreading conversations over the servers by round robin.

Both servers start once; each concurrency level is measured with the first server alone, then with
both (the idle second server costs next to nothing), so the two figures share the machine, the
model and the database. Bounded like the other levels: turns and seconds per run.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Dict, List

from bench.client import run_level
from bench.cpu import ChangingPidsMeter, CpuMeter, cpu_per_turn
from bench.processes import bench_env, loadavg, log

# (max turns, max seconds) per run, for each concurrency level
SCALING_BOUNDS = {16: (600, 60.0), 32: (900, 75.0)}
WARM_UP_TURNS = 14  # one conversation per server before measuring


def reachable() -> str:
    """'' when PostgreSQL and Redis answer on 127.0.0.1, else why not."""
    import redis
    from sqlalchemy import create_engine, text

    from bench.cluster import POSTGRES_ADMIN_URL, REDIS_HOST, REDIS_PORT

    try:
        engine = create_engine(POSTGRES_ADMIN_URL, future=True, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return ""


async def _measure(cluster, levels: List[int], deadline: float) -> Dict[str, dict]:
    bases = [server.health_url for server in cluster.rasa]
    for index, base in enumerate(bases):
        await run_level([base], 1, f"scale-warmup{index + 1}", WARM_UP_TURNS, 60.0)
    pids = {server.name: server.proc.pid for server in [*cluster.rasa, cluster.actions]}

    def backends():  # PostgreSQL's processes serving this cluster's database (SQLite's work is in-process)
        return [row.pid for row in cluster.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()", name=cluster.database)]
    runs: Dict[str, dict] = {}
    for level in levels:
        max_turns, max_seconds = SCALING_BOUNDS.get(level, (25 * level, 75.0))
        for count in (1, 2):
            key = f"{count}x{level}"
            if time.monotonic() + max_seconds > deadline:
                runs[key] = {"skipped": "time bound (--scaling-minutes)"}
                log(f"scaling: skipping {count} server(s) at {level} concurrent (time bound)")
                continue
            meter, database = CpuMeter(pids).start(), ChangingPidsMeter(backends).start()
            result = await run_level(bases[:count], level, f"scale{count}", max_turns, max_seconds)
            result.update(cpu_per_turn({**meter.stop(), "postgres": database.stop()}, result["ok"]))
            result["servers"] = count
            runs[key] = result
            log(f"scaling: {count} server(s) at {level:>2} concurrent: {result['ok']}/{result['turns']} ok, "
                f"{result['turns_per_s']} turns/s, p50 {result['p50_ms']} ms, "
                f"CPU {result['cpu_ms_per_turn']['total']} ms/turn (load {result['loadavg_after']})")
    return runs


def measure_scaling(model: Path, directory: Path, levels: List[int], max_seconds: float) -> dict:
    """Turns/s of the model served by one and by two Rasa servers; everything it creates (database,
    lock keys, processes) is removed again, also on error."""
    from bench.cluster import Cluster

    out: dict = {"levels": levels, "load_before": loadavg()}
    why_not = reachable()
    if why_not:
        log(f"scaling: skipped, PostgreSQL or Redis not reachable on 127.0.0.1 ({why_not})")
        return {**out, "skipped": f"PostgreSQL/Redis not reachable: {why_not}"}
    directory.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:10]
    cluster = Cluster(directory, database=f"bench_{tag}", lock_prefix=f"bench{tag}", model=model,
                      base_env=bench_env())
    started = time.monotonic()
    try:
        cluster.start(rasa_servers=2)
        out["servers_up_s"] = round(time.monotonic() - started, 1)
        log(f"scaling: 2 Rasa servers + action server up on PostgreSQL/Redis in {out['servers_up_s']} s")
        out["runs"] = asyncio.run(_measure(cluster, levels, started + max_seconds))
    finally:
        cluster.stop()
        out["load_after"] = loadavg()
    return out


def scaling_summary(scaling: dict) -> dict:
    """Turns/s with one and with two servers: per level, and the best of the levels (the saturated
    throughput) with the ratio two/one."""
    runs = scaling.get("runs") or {}
    per_level = {}
    for level in scaling.get("levels") or []:
        one, two = (runs.get(f"{n}x{level}") or {} for n in (1, 2))
        per_level[str(level)] = {"one": one.get("turns_per_s"), "two": two.get("turns_per_s")}
    best = {
        key: max((v[key] for v in per_level.values() if v[key] is not None), default=None) for key in ("one", "two")
    }
    best["ratio"] = round(best["two"] / best["one"], 2) if best["one"] and best["two"] is not None else None
    return {"per_level": per_level, "best": best}
