"""One cluster for all of tests/scale: two Rasa servers and an action server, on a PostgreSQL and
a Redis of its own when they can be started here (tests/scale/services.py; the restart tests need
them), else on the shared ones (TEST_POSTGRES_URL, TEST_REDIS_HOST/PORT) with those tests skipped."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pytest

from bench.processes import stop_process
from tests.scale.cluster import MODEL, NGINX, Cluster, start_balancer
from tests.scale.conversations import references
from tests.scale.services import PrivatePostgres, PrivateRedis


# The replica tests first, on a cluster no fault has touched (nginx's round robin, say, is only
# strict until a server has failed), then the faults, then the load.
MODULE_ORDER = ("test_replicas", "test_faults", "test_load")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = getattr(getattr(item, "module", None), "__name__", "").rsplit(".", 1)[-1]
        return MODULE_ORDER.index(name) if name in MODULE_ORDER else len(MODULE_ORDER)

    items.sort(key=rank)  # stable: the tests of a module keep their order


@dataclass
class Services:
    postgres: Optional[PrivatePostgres] = None
    redis: Optional[PrivateRedis] = None
    postgres_unavailable: str = ""  # why there is no private one
    redis_unavailable: str = ""


def _started(service, reason: Optional[str]):
    """(the started service, "") or (None, why not)."""
    if reason:
        return None, reason
    try:
        service.start()
        return service, ""
    except Exception as error:  # noqa: BLE001 -- the reason is what the skipped tests report
        remove = getattr(service, "remove", None)
        if remove:
            remove()
        return None, f"{type(service).__name__} did not start: {error}"


@pytest.fixture(scope="session")
def services():
    found = Services()
    found.postgres, found.postgres_unavailable = _started(PrivatePostgres(), PrivatePostgres.unavailable())
    found.redis, found.redis_unavailable = _started(PrivateRedis(), PrivateRedis.unavailable())
    try:
        yield found
    finally:
        for service in (found.postgres, found.redis):
            if service is not None:
                service.remove()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, services):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    own = {}
    if services.postgres is not None:
        own["postgres_admin_url"] = services.postgres.admin_url
    if services.redis is not None:
        own.update(redis_host="127.0.0.1", redis_port=services.redis.port)
    running = Cluster(tmp_path_factory.mktemp("cluster"), **own)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def balancer(cluster):
    if not NGINX.exists():
        pytest.fail(f"{NGINX} is missing: `make nginx` unpacks Debian's nginx there")
    server, access_log = start_balancer(cluster)
    try:
        yield server, access_log
    finally:
        stop_process(server.proc)


@pytest.fixture(scope="session")
def reference(cluster):
    return references(cluster)


@pytest.fixture
def private_postgres(services) -> PrivatePostgres:
    if services.postgres is None:
        pytest.skip(f"no private PostgreSQL to restart: {services.postgres_unavailable}")
    return services.postgres


@pytest.fixture
def private_redis(services) -> PrivateRedis:
    if services.redis is None:
        pytest.skip(f"no private Redis to restart: {services.redis_unavailable}")
    return services.redis
