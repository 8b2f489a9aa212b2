"""Processes of a bench run: started in their own session, stopped at exit; free ports, load, log."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
_STARTED: List[subprocess.Popen] = []  # every process this run started (stopped at exit)
API_TOKEN = secrets.token_urlsafe(16)  # ours' HTTP API needs a token (bot/rasa/server.py); stock ignores it


def bench_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.pop("REST_CHANNEL_TOKEN", None)  # the REST channel is open on loopback for the bench
    env["RASA_AUTH_TOKEN"] = API_TOKEN
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


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"
