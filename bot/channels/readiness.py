"""Readiness of a Rasa server for a load balancer: GET /webhooks/rest/ready (bot/channels/rest.py).

The liveness route (GET /webhooks/rest/) says that the process answers HTTP. Readiness says that
it can answer a turn, so that nginx, compose and Kubernetes stop sending employees to a server that
cannot:

- `action_server`: the action server's `/health` answers 200 (the agent's action endpoint, from
  the endpoints file, with its `/webhook` replaced by `/health`: rasa_sdk's route, no secret);
- `tracker_store`: the tracker store's database answers `SELECT 1` (the SQL store the agent uses,
  found through the wrappers Rasa puts around it; an in-memory store needs nothing);
- `lock_store`: the Redis of the lock store answers PING (several servers lock each conversation
  there; Rasa's in-memory lock store needs nothing);
- `model`: the agent has loaded its model (Rasa's `Agent.is_ready`).

Each check has READY_TIMEOUT_SECONDS, and they run together. 200 when all pass, else 503 naming the
failing parts by their codes (bot/codes.py `ReadinessCheck`). The body holds codes only — no URL,
host name, error text or anything of a conversation; the details go to the log.

A database or Redis that hangs (no answer, rather than a refusal) keeps its check's thread waiting:
at most one such check of each runs at a time per server, and a probe that comes meanwhile waits on
that one (up to its own timeout) instead of starting another.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import sqlalchemy as sa

from bot.codes import ReadinessCheck

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0
OK, UNAVAILABLE = "ok", "unavailable"


def action_health_url(webhook_url: str) -> str:
    """rasa_sdk's /health beside its /webhook (http://host:5055/webhook -> http://host:5055/health)."""
    parts = urlsplit(webhook_url)
    path = parts.path.rstrip("/")
    path = path[: -len("/webhook")] if path.endswith("/webhook") else path
    return urlunsplit((parts.scheme, parts.netloc, path + "/health", "", ""))


def sql_engine(tracker_store: Any) -> Optional[sa.engine.Engine]:
    """The SQLAlchemy engine of the SQL store inside Rasa's wrappers (FailSafeTrackerStore,
    AwaitableTrackerStore keep the wrapped store in `_tracker_store`); None for another store."""
    for _ in range(4):
        if tracker_store is None:
            return None
        engine = getattr(tracker_store, "engine", None)
        if isinstance(engine, sa.engine.Engine):
            return engine
        tracker_store = getattr(tracker_store, "_tracker_store", None)
    return None


def redis_client(lock_store: Any) -> Any:
    """The Redis client of Rasa's RedisLockStore (`red`); None for the in-memory lock store."""
    return getattr(lock_store, "red", None)


def _select_one(engine: sa.engine.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def _retrieve_exception(future: "asyncio.Future[Any]") -> None:
    if not future.cancelled():
        future.exception()  # a check nobody waits for any more: no "exception never retrieved"


class Readiness:
    """The checks of one server (one per REST channel instance)."""

    def __init__(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._running: Dict[ReadinessCheck, "asyncio.Future[Any]"] = {}

    async def _in_thread_once(self, code: ReadinessCheck, blocking: Callable[[], Any]) -> None:
        """Run `blocking` in a thread within the timeout, joining the one of `code` still running."""
        loop = asyncio.get_running_loop()
        check = self._running.get(code)
        if check is None or check.done() or check.get_loop() is not loop:
            check = self._running[code] = asyncio.ensure_future(asyncio.to_thread(blocking))
            check.add_done_callback(_retrieve_exception)
        await asyncio.wait_for(asyncio.shield(check), self.timeout)

    async def action_server(self, agent: Any) -> bool:
        url = getattr(getattr(agent, "action_endpoint", None), "url", None)
        if not url:
            logger.warning("Readiness: no action endpoint is configured.")
            return False
        health = action_health_url(url)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
                async with session.get(health) as reply:
                    if reply.status == 200:
                        return True
                    logger.warning("Readiness: the action server's %s answered %s.", health, reply.status)
                    return False
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("Readiness: the action server's %s did not answer: %r", health, error)
            return False

    async def tracker_store(self, agent: Any) -> bool:
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            logger.warning("Readiness: the server has no tracker store (no agent).")
            return False
        engine = sql_engine(tracker_store)
        if engine is None:
            return True  # kept in memory: nothing to reach
        try:
            await self._in_thread_once(ReadinessCheck.TRACKER_STORE, lambda: _select_one(engine))
            return True
        except asyncio.TimeoutError:
            logger.warning("Readiness: the tracker store's database did not answer within %s s.", self.timeout)
            return False
        except Exception as error:  # noqa: BLE001 - any failure of the query means not ready
            logger.warning("Readiness: the tracker store's database failed: %r", error)
            return False

    async def lock_store(self, agent: Any) -> bool:
        client = redis_client(getattr(agent, "lock_store", None))
        if client is None:
            return True  # in memory (one server): nothing to reach
        try:
            await self._in_thread_once(ReadinessCheck.LOCK_STORE, client.ping)
            return True
        except asyncio.TimeoutError:
            logger.warning("Readiness: the lock store's Redis did not answer within %s s.", self.timeout)
            return False
        except Exception as error:  # noqa: BLE001 - any failure of PING means not ready
            logger.warning("Readiness: the lock store's Redis failed: %r", error)
            return False

    @staticmethod
    def model(agent: Any) -> bool:
        is_ready = getattr(agent, "is_ready", None)
        return bool(is_ready()) if callable(is_ready) else agent is not None

    async def check(self, agent: Any) -> Tuple[int, Dict[str, Any]]:
        """(HTTP status, JSON body)."""
        action_ok, tracker_ok, lock_ok = await asyncio.gather(
            self.action_server(agent), self.tracker_store(agent), self.lock_store(agent)
        )
        results = {
            ReadinessCheck.ACTION_SERVER: action_ok,
            ReadinessCheck.TRACKER_STORE: tracker_ok,
            ReadinessCheck.LOCK_STORE: lock_ok,
            ReadinessCheck.MODEL: self.model(agent),
        }
        checks = {code.value: OK if passed else UNAVAILABLE for code, passed in results.items()}
        failing = [code for code, passed in results.items() if not passed]
        if not failing:
            return 200, {"status": "ready", "checks": checks}
        return 503, {
            "status": "not_ready",
            "error": "not_ready",
            "failing": [code.value for code in failing],
            "checks": checks,
            "message": "応答できません：" + "・".join(code.label for code in failing) + "が使えません"
            f" (not ready: {', '.join(code.value for code in failing)})",
        }
