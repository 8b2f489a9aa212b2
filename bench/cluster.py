"""The production profile on this machine: Rasa servers and one action server on 127.0.0.1,
sharing a PostgreSQL database (tracker store and consultation records) and a Redis lock store.
Used by the replica and fault tests (tests/scale) and by `make bench` (one server against two).

Everything it creates is its own: a PostgreSQL database with a unique name (dropped after), lock
keys under a unique prefix in a Redis database (deleted after), free ports, files under the
caller's directory. The endpoints file is endpoints.production.yml with those values filled in, so
whatever else production configures (an action-server token, say) is exercised too; the
environment is passed through (the caller's `base_env`, os.environ by default).
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Union

import redis
import requests
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bench.processes import free_port, start_process, stop_process
from bot.database import engine_for

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "consultation.tar.gz"
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))
STARTUP_TIMEOUT_S = 240.0
REQUEST_TIMEOUT_S = 60.0


def _redis_db(host: str, port: int) -> int:
    """An empty Redis database number, if there is one (the lock keys carry a unique prefix anyway)."""
    admin = redis.Redis(host=host, port=port)
    try:
        count = int(admin.config_get("databases").get("databases", 16))
        used = set(admin.info("keyspace"))
    finally:
        admin.close()
    free = [n for n in range(count - 1, 0, -1) if f"db{n}" not in used]
    return free[0] if free else count - 1


@dataclass
class Server:
    name: str
    cmd: List[str]
    log: Path
    health_url: str  # also the base of its webhooks
    proc: Optional[subprocess.Popen] = None
    verify: Union[bool, str] = True  # requests' TLS verification: a CA file for the balancer

    def start(self, env: Dict[str, str]) -> None:
        self.proc = start_process(self.cmd, self.log, env)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill_9(self) -> None:
        """SIGKILL, no clean-up: what a crash or an OOM kill does."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def pause(self) -> None:
        """SIGSTOP: it takes no request and answers none until resume() (a server stuck mid-request)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGCONT)


@dataclass
class Cluster:
    tmp: Path
    database: str = field(default_factory=lambda: f"test_scale_{uuid.uuid4().hex[:12]}")
    lock_prefix: str = field(default_factory=lambda: f"scale{uuid.uuid4().hex[:12]}")
    model: Path = MODEL
    base_env: Dict[str, str] = field(default_factory=lambda: dict(os.environ))
    redis_db: int = 0
    # the shared services by default; tests/scale/services.py starts private ones the faults may restart
    postgres_admin_url: str = POSTGRES_ADMIN_URL
    redis_host: str = REDIS_HOST
    redis_port: int = REDIS_PORT
    api_token: str = field(default_factory=lambda: secrets.token_hex(16))  # Rasa's HTTP API (the timer service)
    rasa: List[Server] = field(default_factory=list)
    actions: Optional[Server] = None
    env: Dict[str, str] = field(default_factory=dict)
    records: Optional[Engine] = None

    @property
    def database_url(self) -> str:
        return make_url(self.postgres_admin_url).set(database=self.database).render_as_string(hide_password=False)

    # ------------------------------------------------------------------ set-up and tear-down

    def create_database(self) -> None:
        admin = create_engine(self.postgres_admin_url, isolation_level="AUTOCOMMIT", future=True)
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.database}"'))
        finally:
            admin.dispose()
        self.records = engine_for(self.database_url)  # pings pooled connections: faults drop them

    def write_endpoints(self, actions_port: int) -> Path:
        """endpoints.production.yml with this cluster's action server, database and Redis."""
        endpoints = yaml.safe_load((ROOT / "endpoints.production.yml").read_text(encoding="utf-8"))
        url = make_url(self.postgres_admin_url)
        endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
        endpoints["tracker_store"].update(
            url=url.host, port=url.port or 5432, db=self.database, username=url.username, password=url.password or ""
        )
        endpoints["lock_store"].update(url=self.redis_host, port=self.redis_port, db=self.redis_db, key_prefix=self.lock_prefix)
        path = self.tmp / "endpoints.yml"
        path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    def start(self, rasa_servers: int = 2) -> None:
        self.redis_db = _redis_db(self.redis_host, self.redis_port)
        self.create_database()
        actions_port = free_port()
        endpoints = self.write_endpoints(actions_port)
        self.env = {
            **self.base_env,
            "DATABASE_URL": self.database_url,
            "ACTION_SERVER_TOKEN": secrets.token_hex(16),  # shared by the Rasa servers and the action server
            "RASA_AUTH_TOKEN": self.api_token,
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
        self.actions = Server(
            "actions", [str(BIN / "python"), "-m", "bot.rasa.action_server", "--port", str(actions_port)],
            self.tmp / "actions.log", f"http://127.0.0.1:{actions_port}/health",
        )
        self.actions.start(self.env)
        for index in range(rasa_servers):
            port = free_port()
            server = Server(
                f"rasa{index + 1}",
                [str(BIN / "python"), "-m", "bot.rasa.server", "run", "--model", str(self.model),
                 "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml"),
                 "--port", str(port), "--interface", "127.0.0.1", "--enable-api"],
                self.tmp / f"rasa{index + 1}.log", f"http://127.0.0.1:{port}",
            )
            server.start(self.env)
            self.rasa.append(server)
        self.wait_until_up([self.actions, *self.rasa])

    def wait_until_up(self, servers: List[Server]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        waiting = list(servers)
        while waiting and time.monotonic() < deadline:
            for server in list(waiting):
                if not server.alive():
                    raise RuntimeError(f"{server.name} exited during start-up:\n{self.log_tail(server)}")
                try:
                    if requests.get(server.health_url + ("" if server is self.actions else "/"), timeout=2).ok:
                        waiting.remove(server)
                except requests.RequestException:
                    pass
            time.sleep(0.5)
        if waiting:
            raise RuntimeError(f"not up after {STARTUP_TIMEOUT_S:.0f} s: {[s.name for s in waiting]}")

    def stop(self) -> None:
        for server in [*self.rasa, *([self.actions] if self.actions else [])]:
            if server.proc is not None:
                stop_process(server.proc)
        if self.records is not None:
            self.records.dispose()
        admin = create_engine(self.postgres_admin_url, isolation_level="AUTOCOMMIT", future=True)
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        finally:
            admin.dispose()
        lock_store = redis.Redis(host=self.redis_host, port=self.redis_port, db=self.redis_db)
        try:
            keys = list(lock_store.scan_iter(match=f"{self.lock_prefix}:*"))
            if keys:
                lock_store.delete(*keys)
        finally:
            lock_store.close()

    def log_tail(self, server: Server, lines: int = 40) -> str:
        try:
            return "\n".join(server.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # ------------------------------------------------------------------ faults

    def terminate_database_connections(self) -> int:
        """pg_terminate_backend on every connection to this cluster's database (what a PostgreSQL
        restart does to the servers' pools); returns how many were terminated."""
        admin = create_engine(self.postgres_admin_url, isolation_level="AUTOCOMMIT", future=True)
        try:
            with admin.connect() as connection:
                return len(connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = :name AND pid <> pg_backend_pid()"),
                    {"name": self.database},
                ).all())
        finally:
            admin.dispose()

    def kill_lock_store_connections(self) -> int:
        """CLIENT KILL of every normal client on this cluster's Redis database (what a Redis restart
        does to the servers' connections), not touching anyone else's; returns how many."""
        admin = redis.Redis(host=self.redis_host, port=self.redis_port)
        try:
            ours = [c for c in admin.client_list(_type="normal") if int(c["db"]) == self.redis_db
                    and int(c["id"]) != admin.client_id()]
            for client in ours:
                admin.client_kill_filter(_id=client["id"])
            return len(ours)
        finally:
            admin.close()

    def holds_lock(self, sender: str) -> bool:
        """A Rasa server is handling a turn of the conversation: its lock is in Redis (Rasa's
        RedisLockStore keys are `<key_prefix>:lock:<conversation id>`, deleted after the turn)."""
        lock_store = redis.Redis(host=self.redis_host, port=self.redis_port, db=self.redis_db)
        try:
            return bool(lock_store.exists(f"{self.lock_prefix}:lock:{sender}"))
        finally:
            lock_store.close()

    def start_timer_service(self, rasa: Server, warn_before_s: float, max_late_s: float) -> Server:
        """bot/timer_service.py on this cluster's records, sending through `rasa`'s HTTP API,
        polling every second; returns once it polls."""
        env = {**self.env, "RASA_URL": rasa.health_url, "TIMER_POLL_SECONDS": "1",
               "TIMER_WARN_BEFORE_SECONDS": f"{warn_before_s:.3f}", "TIMER_MAX_LATE_SECONDS": f"{max_late_s:.0f}"}
        timer = Server("timer", [str(BIN / "python"), "-m", "bot.timer_service"],
                       self.tmp / f"timer-{uuid.uuid4().hex[:6]}.log", "")
        timer.start(env)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if "polling every" in timer.log.read_text(errors="replace"):
                return timer
            if not timer.alive():
                break
            time.sleep(0.2)
        stop_process(timer.proc)
        raise RuntimeError(f"the timer service did not start:\n{self.log_tail(timer)}")

    # ------------------------------------------------------------------ what the servers stored

    def query(self, sql: str, **params) -> list:
        assert self.records is not None
        with self.records.connect() as connection:
            return connection.execute(text(sql), params).all()

    def user_texts(self, sender: str) -> List[str]:
        """The user messages of a conversation as the tracker store holds them, in order."""
        import json

        rows = self.query("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id", s=sender)
        return [json.loads(row.data)["text"] for row in rows]
