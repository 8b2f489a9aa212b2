"""The servers of one variant: the action server and the Rasa server on free 127.0.0.1 ports."""
from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.models import BIN, ROOT, Variant
from bench.processes import bench_env, free_port, start_process, stop_process
from bot.rasa.process_memory import MemoryWatch

STARTUP_TIMEOUT_S = 300.0


@dataclass
class Servers:
    rasa: subprocess.Popen
    actions: subprocess.Popen
    rasa_port: int
    actions_port: int
    rasa_mem: MemoryWatch
    actions_mem: MemoryWatch

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"


def write_endpoints(variant: Variant, actions_port: int) -> Path:
    """The project's endpoints.yml with the bench's action server and a fresh SQLite tracker store."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    endpoints["action_endpoint"] = {**(endpoints.get("action_endpoint") or {}), "url": f"http://127.0.0.1:{actions_port}/webhook"}
    tracker_db = variant.dir / "tracker.db"
    endpoints["tracker_store"] = {"type": variant.tracker_store, "dialect": "sqlite", "db": str(tracker_db)}
    for key in ("event_broker", "lock_store"):  # nothing external in the bench
        if key in endpoints and (endpoints[key] or {}).get("type") not in (None, "in_memory"):
            endpoints.pop(key)
    path = variant.dir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def start_servers(variant: Variant) -> Servers:
    for name in ("tracker.db", "consultations.db"):
        (variant.dir / name).unlink(missing_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    endpoints = write_endpoints(variant, actions_port)
    env = bench_env({**variant.env, "DATABASE_URL": f"sqlite:///{variant.dir / 'consultations.db'}"})
    actions = start_process(
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        variant.dir / "actions.log", env,
    )
    rasa = start_process(
        [
            *variant.server, "run", "--model", str(variant.model), "--endpoints", str(endpoints),
            "--credentials", variant.env.get("BENCH_CREDENTIALS", "credentials.yml"), "--port", str(rasa_port), "--interface", "127.0.0.1",
            "--enable-api",
        ],
        variant.dir / "rasa.log", env,
    )
    return Servers(
        rasa, actions, rasa_port, actions_port,
        MemoryWatch(rasa.pid).start(), MemoryWatch(actions.pid).start(),
    )


def stop_servers(servers: Servers) -> dict:
    memory = {"rasa": servers.rasa_mem.stop(), "actions": servers.actions_mem.stop()}
    stop_process(servers.rasa)
    stop_process(servers.actions)
    return memory


async def wait_until_up(servers: Servers, started: float) -> float:
    """Seconds from process start until the Rasa server and the action server both answer."""
    import aiohttp

    deadline = started + STARTUP_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        up = {"rasa": False, "actions": False}
        while time.monotonic() < deadline:
            for proc, name in ((servers.rasa, "rasa"), (servers.actions, "actions")):
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} server exited with {proc.returncode} during start-up")
            for name, url in (
                ("rasa", f"{servers.base}/"),
                ("actions", f"http://127.0.0.1:{servers.actions_port}/health"),
            ):
                if up[name]:
                    continue
                try:
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        up[name] = resp.status == 200
                except Exception:  # noqa: BLE001
                    pass
            if all(up.values()):
                return time.monotonic() - started
            await asyncio.sleep(0.2)
    raise RuntimeError(f"servers not up after {STARTUP_TIMEOUT_S:.0f} s")
