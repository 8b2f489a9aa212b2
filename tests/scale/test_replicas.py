"""Two Rasa servers and an action server on PostgreSQL + Redis: conversations whose turns alternate
between the servers stay coherent (tests/scale/conversations.py says what that means) and every
consultation is recorded once; nginx with deploy/nginx/kasuhara.conf in front of them.

`make test-scale` (also run by .ci/run after `make test`); needs PostgreSQL and Redis (private
ones are started when possible: tests/scale/conftest.py) and the trained model.
"""
from __future__ import annotations

import socket
import ssl
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import yaml

from tests.scale.conversations import Conversation, check, converse, five_turns, upstreams

pytestmark = pytest.mark.scale

CONVERSATIONS = 50
CONCURRENT = 8


def test_the_cluster_runs_the_production_profile(cluster, reference):
    endpoints = yaml.safe_load((cluster.tmp / "endpoints.yml").read_text(encoding="utf-8"))
    assert (endpoints["tracker_store"]["dialect"], endpoints["lock_store"]["type"]) == ("postgresql", "redis")
    # the references' conversations went to the tracker store and the records, both in the test's database
    stores = cluster.query("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('events', 'consultations')")
    assert stores[0][0] == 2
    assert len({server.health_url for server in cluster.rasa}) == 2 and all(s.alive() for s in cluster.rasa)


def test_fifty_conversations_alternating_between_two_servers_are_coherent_and_recorded_once(cluster, reference):
    def run(index: int) -> Conversation:
        # conversation i starts on server i % 2, and every turn goes to the other server
        return converse(index, f"replica-{index:03d}", lambda turn: cluster.rasa[(index + turn) % 2])

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        conversations = list(pool.map(run, range(CONVERSATIONS)))

    assert sorted({len(c.messages) for c in conversations}) == [3, 4, 5]
    for conversation in conversations:
        served = [t.server for t in conversation.turns]
        assert all(a != b for a, b in zip(served, served[1:])), served
        check(cluster, conversation, reference)
    counts = cluster.query("SELECT conversation_id, count(*) FROM consultations WHERE conversation_id LIKE 'replica-%' "
                           "GROUP BY conversation_id")
    assert sorted(counts) == sorted((c.sender, 1) for c in conversations)


def test_nginx_round_robin_over_tls_publishes_the_channels_only(cluster, reference, balancer):
    """deploy/nginx/kasuhara.conf, run: each turn to the next server, every conversation coherent,
    the web chat's websocket upgraded, Rasa's HTTP API not reachable through it."""
    server, access_log = balancer
    logged = len(access_log.read_text(encoding="utf-8").splitlines())  # other tests may have used it
    for i in range(4):
        check(cluster, converse(five_turns(i), f"nginx-{i}", lambda _: server), reference)
    served = upstreams(access_log, logged)
    addresses = {s.health_url.removeprefix("http://") for s in cluster.rasa}
    assert {address for address, _ in served} == addresses and all(status == "200" for _, status in served)
    assert all(a != b for (a, _), (b, _) in zip(served, served[1:])), "not round robin"

    assert requests.get(f"{server.health_url}/conversations/nginx-0/tracker", verify=server.verify).status_code == 404
    assert requests.get(f"{server.health_url}/status", verify=server.verify).status_code == 404
    host, port = server.health_url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=server.verify)
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        status_line = tls.recv(4096).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 101 Switching Protocols"
