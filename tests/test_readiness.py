"""GET /webhooks/rest/ready (bot/channels/readiness.py): 200 only when the action server's /health
and the tracker store's database answer; 503 naming the failing part by its code otherwise. On a
loopback Sanic server with the REST channel, a local stand-in action server (aiohttp) and real
tracker stores (SQLite, PostgreSQL); the real Rasa server is in tests/test_real_server.py."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from types import SimpleNamespace

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, InMemoryTrackerStore
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import create_engine, text

from bot.channels.readiness import Readiness, action_health_url
from bot.channels.rest import ProtectedRestInput
from bot.codes import ReadinessCheck
from bot.rasa.tracker_store import SlotHandoverSQLTrackerStore
from tests.channel_stand_ins import LOOPBACK, ChannelServer, FakeBot, kasuhara_domain, run
from tests.conftest import POSTGRES_ADMIN_URL, postgres_database


@pytest.fixture(autouse=True)
def organization(tmp_path, monkeypatch):
    organization_file = tmp_path / "organization.yml"
    organization_file.write_text("name: テスト町役場\n", encoding="utf-8")
    monkeypatch.setenv("ORGANIZATION_FILE", str(organization_file))
    monkeypatch.setenv("REST_CHANNEL_TOKEN", "a-token-the-probe-does-not-need")


class ActionServerStandIn:
    """rasa_sdk's /health on a loopback port (answering `status`), and /webhook refusing everything."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.port = 0
        self.calls = 0
        self._runner: web.AppRunner | None = None

    async def health(self, _: web.Request) -> web.Response:
        self.calls += 1
        return web.json_response({"status": "ok"}, status=self.status)

    async def start(self, port: int = 0) -> "ActionServerStandIn":
        app = web.Application()
        app.router.add_get("/health", self.health)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self._runner.cleanup()

    @property
    def webhook(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/webhook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def agent(tracker_store, action_url: str | None, lock_store=None):
    """What the channel reads of Rasa's Agent: its action endpoint, its (wrapped) tracker store and
    its lock store (Rasa's default is the in-memory one)."""
    return SimpleNamespace(tracker_store=tracker_store, is_ready=lambda: True,
                           lock_store=lock_store or InMemoryLockStore(),
                           action_endpoint=EndpointConfig(action_url) if action_url else None)


async def probe(server: ChannelServer) -> tuple[int, dict, str]:
    base = server.url.rsplit("/", 1)[0]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/ready") as reply:
            body = await reply.text()
            return reply.status, json.loads(body), body


async def liveness(server: ChannelServer) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.url.rsplit("/", 1)[0] + "/") as reply:
            return reply.status, await reply.json()


@pytest.fixture
def sqlite_store(tmp_path):
    store = SlotHandoverSQLTrackerStore(kasuhara_domain(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    yield FailSafeTrackerStore(AwaitableTrackerStore(store))  # as the agent wraps it
    store.engine.dispose()


def serve(channel_agent, readiness: Readiness | None = None) -> ChannelServer:
    channel = ProtectedRestInput.from_credentials(None)
    if readiness is not None:
        channel.readiness = readiness
    return ChannelServer(channel, FakeBot(), agent=channel_agent)


def test_ready_when_the_action_server_and_the_tracker_store_answer(sqlite_store):
    async def scenario():
        actions = await ActionServerStandIn().start()
        try:
            async with serve(agent(sqlite_store, actions.webhook)) as server:
                return await probe(server), actions.calls
        finally:
            await actions.stop()

    (status, body, _), calls = run(scenario())
    assert status == 200 and calls == 1  # no token needed
    assert body == {"status": "ready", "checks": {"action_server": "ok", "tracker_store": "ok", "lock_store": "ok", "model": "ok"}}


def test_not_ready_when_the_action_server_is_down_and_the_liveness_route_stays_ok(sqlite_store):
    async def scenario():
        actions = await ActionServerStandIn().start()
        url = actions.webhook
        await actions.stop()  # nothing listens there any more
        async with serve(agent(sqlite_store, url)) as server:
            return await probe(server), await liveness(server)

    (status, body, raw), alive = run(scenario())
    assert status == 503
    assert body["error"] == "not_ready" and body["failing"] == [ReadinessCheck.ACTION_SERVER.value]
    assert body["checks"] == {"action_server": "unavailable", "tracker_store": "ok", "lock_store": "ok", "model": "ok"}
    assert "アクションサーバー" in body["message"]
    assert LOOPBACK not in raw and "webhook" not in raw  # codes only: no address, no error text
    assert alive == (200, {"status": "ok"})  # liveness as before


def test_not_ready_when_the_action_server_answers_an_error(sqlite_store):
    async def scenario():
        actions = await ActionServerStandIn(status=500).start()
        try:
            async with serve(agent(sqlite_store, actions.webhook)) as server:
                return await probe(server)
        finally:
            await actions.stop()

    status, body, _ = run(scenario())
    assert (status, body["failing"]) == (503, ["action_server"])


def test_not_ready_when_the_tracker_store_database_is_gone():
    """PostgreSQL: the tracker store's database dropped while the server runs."""
    with postgres_database("test_ready_tracker") as url:
        store = SlotHandoverSQLTrackerStore(kasuhara_domain(), dialect="postgresql", host=url.host, port=url.port,
                                            db=url.database, username=url.username, password=url.password)
        wrapped = FailSafeTrackerStore(AwaitableTrackerStore(store))

        async def scenario(drop: bool):
            actions = await ActionServerStandIn().start()
            try:
                async with serve(agent(wrapped, actions.webhook)) as server:
                    if drop:
                        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
                        with admin.connect() as connection:
                            connection.execute(text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
                        admin.dispose()
                    return await probe(server)
            finally:
                await actions.stop()

        try:
            assert run(scenario(drop=False))[0] == 200
            status, body, raw = run(scenario(drop=True))
        finally:
            store.engine.dispose()
    assert status == 503 and body["failing"] == [ReadinessCheck.TRACKER_STORE.value]
    assert body["checks"]["action_server"] == "ok" and url.database not in raw


def test_a_database_that_does_not_answer_gives_503_in_time_with_one_check_at_a_time(sqlite_store):
    """A PostgreSQL address that accepts connections and never answers (a hung server)."""
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    store = SlotHandoverSQLTrackerStore(kasuhara_domain(), dialect="sqlite", db=":memory:")
    store.engine = sa.create_engine(f"postgresql://postgres@{LOOPBACK}:{listener.getsockname()[1]}/none")
    readiness = Readiness(timeout=0.5)

    async def scenario():
        actions = await ActionServerStandIn().start()
        try:
            async with serve(agent(FailSafeTrackerStore(store), actions.webhook), readiness) as server:
                first = await probe(server)
                check = readiness._running[ReadinessCheck.TRACKER_STORE]
                second = await probe(server)
                same = check is readiness._running[ReadinessCheck.TRACKER_STORE] and not check.done()
                count = len(accepted)
                for connection in accepted:  # the hung server goes away: the check's thread ends
                    connection.close()
                await asyncio.wait([check], timeout=10)
                return first, second, same, count
        finally:
            await actions.stop()

    try:
        started = time.monotonic()
        first, second, same_check, connections = run(scenario())
        assert time.monotonic() - started < 5  # two probes of 0.5 s each, not a connect timeout
        for status, body, _ in (first, second):
            assert (status, body["failing"]) == (503, ["tracker_store"])
        assert same_check  # the second probe waited on the hung check instead of starting another
        assert connections == 1
    finally:
        stop.set()
        for connection in accepted:
            connection.close()
        listener.close()
        store.engine.dispose()


def test_an_in_memory_tracker_store_needs_nothing_and_no_action_endpoint_is_not_ready():
    memory = InMemoryTrackerStore(kasuhara_domain())

    async def scenario():
        async with serve(agent(memory, None)) as server:
            return await probe(server)

    status, body, _ = run(scenario())
    assert (status, body["failing"], body["checks"]["tracker_store"]) == (503, ["action_server"], "ok")


def test_a_model_not_loaded_yet_is_not_ready(sqlite_store):
    async def scenario():
        actions = await ActionServerStandIn().start()
        try:
            loading = agent(sqlite_store, actions.webhook)
            loading.is_ready = lambda: False
            async with serve(loading) as server:
                return await probe(server)
        finally:
            await actions.stop()

    status, body, _ = run(scenario())
    assert (status, body["failing"]) == (503, ["model"])


@pytest.mark.parametrize("redis_port, ready", [(6379, True), (None, False)], ids=["redis-up", "redis-down"])
def test_the_lock_store_redis_must_answer(sqlite_store, redis_port, ready):
    lock_store = RedisLockStore(host=LOOPBACK, port=redis_port or free_port(), socket_timeout=1)

    async def scenario():
        actions = await ActionServerStandIn().start()
        try:
            async with serve(agent(sqlite_store, actions.webhook, lock_store)) as server:
                return await probe(server)
        finally:
            await actions.stop()

    status, body, raw = run(scenario())
    if ready:
        assert (status, body["checks"]["lock_store"]) == (200, "ok")
    else:
        assert (status, body["failing"], body["checks"]["tracker_store"]) == (503, ["lock_store"], "ok")
        assert str(LOOPBACK) not in raw and "Connection" not in raw  # codes only, no address or error text


def test_the_health_url_is_beside_the_webhook():
    assert action_health_url("http://actions:5055/webhook") == "http://actions:5055/health"
    assert action_health_url("http://127.0.0.1:5055/webhook/") == "http://127.0.0.1:5055/health"
    assert action_health_url("https://a.example/bot/webhook?x=1") == "https://a.example/bot/health"


def test_the_openapi_description_matches_the_readiness_answers(sqlite_store):
    import jsonschema
    import yaml

    from bot.settings import PROJECT_ROOT
    from tests.test_channel_rest import _json_schema

    spec = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    assert schemas["Readiness"]["properties"]["failing"]["items"]["enum"] == [code.value for code in ReadinessCheck]
    responses = spec["paths"]["/webhooks/rest/ready"]["get"]["responses"]

    async def scenario():
        actions = await ActionServerStandIn().start()
        try:
            async with serve(agent(sqlite_store, actions.webhook)) as server:
                ready = await probe(server)
        finally:
            await actions.stop()
        async with serve(agent(sqlite_store, actions.webhook)) as server:
            return ready, await probe(server)

    for status, body, _ in run(scenario()):
        response = responses[str(status)]["content"]["application/json"]
        jsonschema.validate(body, _json_schema(response["schema"], schemas))
        jsonschema.validate(response["example"], _json_schema(response["schema"], schemas))
