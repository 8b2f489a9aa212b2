"""Two Rasa servers and an action server on PostgreSQL + Redis: conversations whose turns alternate
between the servers stay coherent, every consultation is recorded once, and the servers survive
the faults a deployment meets (a server killed, database and lock-store connections dropped).

`make test-scale` (also run by .ci/run after `make test`); needs PostgreSQL and Redis on
127.0.0.1 and the trained model. Assertions use codes — the REST channel's `custom.kasuhara`
payload, the tracker's events and the records table — never the bot's Japanese wording.

"Coherent" is checked against a reference: each script is first sent, turn by turn, to one server
alone. A conversation served by both servers must then give, turn after turn, the same actions,
the same question asked next (`requested_slot`) and the same payload — which it cannot if a
server answered from a stale or empty tracker — and the tracker must hold each message once, in
order.
"""
from __future__ import annotations

import json
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import pytest
import requests
import yaml

from bench.processes import stop_process
from tests.scale.cluster import MODEL, NGINX, REQUEST_TIMEOUT_S, Cluster, Server, start_balancer

pytestmark = pytest.mark.scale

CONVERSATIONS = 50
CONCURRENT = 8
# What an employee sends: a description, then the answers to the form's first questions.
# Conversation i sends the first 3, 4 or 5 turns of one of these.
SCRIPTS = [
    ["窓口で怒鳴られています", "/affirm", "40分くらいです", "土下座して謝れと言っています", "/deny"],
    ["電話でずっと大声で責められていました", "/deny", "1時間くらいでした", "担当者を代えろと言われました", "/affirm"],
]


@dataclass
class Turn:
    server: str
    status: int
    payloads: List[Optional[dict]]  # custom.kasuhara of each reply message


@dataclass
class Conversation:
    index: int  # of its script (script(index))
    sender: str
    messages: List[str]
    turns: List[Turn]


SCRIPT_KINDS = 6  # script(i) depends on i % 6: which script, and 3, 4 or 5 of its turns


def script(index: int) -> List[str]:
    return SCRIPTS[index % len(SCRIPTS)][: 3 + index % 3]


def five_turns(i: int) -> int:
    """The index of the i-th script of five turns (the fault tests send all of them)."""
    return 2 + 3 * i


def send(server: Server, sender: str, message: str) -> Turn:
    response = requests.post(
        f"{server.health_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
        timeout=REQUEST_TIMEOUT_S, verify=server.verify,
    )
    replies = response.json() if response.status_code == 200 else []
    return Turn(server.name, response.status_code,
                [(reply.get("custom") or {}).get("kasuhara") for reply in replies])


def converse(index: int, sender: str, route: Callable[[int], Server], turns: Optional[int] = None) -> Conversation:
    """Sends script(index) (its first `turns` messages) in order, each to the server `route(turn
    number)` names, waiting for each reply."""
    messages = script(index)[:turns]
    return Conversation(index, sender, messages, [send(route(i), sender, m) for i, m in enumerate(messages)])


def go_on(conversation: Conversation, route: Callable[[int], Server]) -> None:
    """Sends the rest of the conversation's script, turn by turn, to `route(turn number)`."""
    for message in script(conversation.index)[len(conversation.messages):]:
        conversation.turns.append(send(route(len(conversation.messages)), conversation.sender, message))
        conversation.messages.append(message)


def turn_events(cluster: Cluster, sender: str) -> List[dict]:
    """Per user message in the tracker store: its text, the actions that followed, the question
    asked next (requested_slot) — the conversation as Rasa stored it."""
    turns: List[dict] = []
    requested: Optional[str] = None
    for row in cluster.query("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id", s=sender):
        event = json.loads(row.data)
        if row.type_name == "user":
            turns.append({"text": event["text"], "actions": [], "requested_slot": None})
        elif turns and row.type_name == "action":
            turns[-1]["actions"].append(event["name"])
        elif row.type_name == "slot" and event["name"] == "requested_slot":
            requested = event["value"]
        if turns:
            turns[-1]["requested_slot"] = requested
    return turns


def record_of(cluster: Cluster, sender: str) -> dict:
    rows = cluster.query("SELECT * FROM consultations WHERE conversation_id = :s", s=sender)
    assert len(rows) == 1, f"{sender}: {len(rows)} consultation records"
    record = dict(rows[0]._mapping)
    record["messages"] = [row.text for row in cluster.query(
        "SELECT text FROM consultation_messages WHERE consultation_id = :id ORDER BY id", id=record["id"])]
    return record


def comparable(record: dict) -> dict:
    """The facts of a record (not its id, conversation or timestamps)."""
    return {k: v for k, v in record.items() if not (k == "id" or k.endswith("_id") or k.endswith("_at"))}


@dataclass
class Reference:
    turns: List[dict]
    payloads: List[List[Optional[dict]]]
    record: dict


def check(cluster: Cluster, conversation: Conversation, references: Dict[int, Reference]) -> None:
    """The conversation as stored and answered is its reference's, turn for turn, and recorded once."""
    sender, messages = conversation.sender, conversation.messages
    assert messages == script(conversation.index), f"{sender}: not sent in full"
    reference = references[conversation.index % SCRIPT_KINDS]
    assert [t.status for t in conversation.turns] == [200] * len(messages), (sender, conversation.turns)
    for turn in conversation.turns:
        assert turn.payloads and all(p is not None for p in turn.payloads), (sender, turn)
    assert [t.payloads for t in conversation.turns] == reference.payloads, sender
    stored = turn_events(cluster, sender)
    assert [t["text"] for t in stored] == messages, f"{sender}: the tracker does not hold each message once, in order"
    assert stored == reference.turns, sender
    record = record_of(cluster, sender)
    assert record["messages"] == messages, f"{sender}: the record does not hold each message once, in order"
    assert comparable(record) == comparable(reference.record), sender


def references(cluster: Cluster) -> Dict[int, Reference]:
    """Every distinct script (script(i) depends on i % SCRIPT_KINDS) sent to the first server alone."""
    out: Dict[int, Reference] = {}
    with ThreadPoolExecutor(max_workers=SCRIPT_KINDS) as pool:
        sent = list(pool.map(lambda i: converse(i, f"reference-{i}", lambda _: cluster.rasa[0]), range(SCRIPT_KINDS)))
    for index, conversation in enumerate(sent):
        assert [t.status for t in conversation.turns] == [200] * len(conversation.messages), \
            cluster.log_tail(cluster.rasa[0])
        out[index] = Reference(turn_events(cluster, conversation.sender), [t.payloads for t in conversation.turns],
                               record_of(cluster, conversation.sender))
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def balancer(cluster):
    if not NGINX.exists():
        pytest.fail(f"{NGINX} is missing: `make nginx` unpacks Debian's nginx there")
    server, access_log = start_balancer(cluster)
    try:
        yield server, access_log
    finally:
        stop_process(server.proc)


def upstreams(access_log, since: int = 0) -> List[tuple[str, str]]:
    """(the server that answered, status) of each webhook POST nginx logged, from line `since` on
    (nginx logs every server it tried, the one that answered last)."""
    lines = access_log.read_text(encoding="utf-8").splitlines()[since:]
    return [(line.split(" ", 3)[3].split(", ")[-1], line.split(" ", 3)[2]) for line in lines
            if line.startswith("POST /webhooks/rest/webhook ")]


@pytest.fixture(scope="module")
def reference(cluster):
    return references(cluster)


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


def half_way(cluster: Cluster, prefix: str, count: int) -> List[Conversation]:
    """`count` conversations of five turns whose first two alternate between the servers."""
    return [converse(five_turns(i), f"{prefix}-{i}", lambda t, i=i: cluster.rasa[(five_turns(i) + t) % 2], turns=2)
            for i in range(count)]


def alternating(cluster: Cluster, conversation: Conversation) -> Callable[[int], Server]:
    return lambda turn: cluster.rasa[(conversation.index + turn) % 2]


def test_nginx_round_robin_over_tls_publishes_the_channels_only(cluster, reference, balancer):
    """deploy/nginx/kasuhara.conf, run: each turn to the next server, every conversation coherent,
    the web chat's websocket upgraded, Rasa's HTTP API not reachable through it."""
    server, access_log = balancer
    for i in range(4):
        check(cluster, converse(five_turns(i), f"nginx-{i}", lambda _: server), reference)
    served = upstreams(access_log)
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


def test_postgres_connections_dropped_the_next_turn_goes_on(cluster, reference):
    started = half_way(cluster, "pg-fault", 4)
    assert cluster.terminate_database_connections() >= 3  # both Rasa servers' and the action server's
    for conversation in started:
        go_on(conversation, alternating(cluster, conversation))
        check(cluster, conversation, reference)


def test_lock_store_connections_killed_the_next_turn_goes_on(cluster, reference):
    started = half_way(cluster, "redis-fault", 4)
    assert cluster.kill_lock_store_connections() >= 2  # both Rasa servers'
    for conversation in started:
        go_on(conversation, alternating(cluster, conversation))
        check(cluster, conversation, reference)


def test_a_server_killed_mid_conversation_loses_nothing(cluster, reference, balancer):
    """kill -9 of one server between turns: its conversations go on on the other — sent there
    directly, and through nginx, which skips the dead server — and after its restart on both."""
    first, second = cluster.rasa
    nginx, access_log = balancer
    through_nginx = half_way(cluster, "kill-nginx", 2)
    directly = half_way(cluster, "kill-a", 4)
    after_restart = half_way(cluster, "kill-b", 4)
    second.kill_9()
    with pytest.raises(requests.ConnectionError):
        send(second, "kill-a-0", "/affirm")  # nothing answers there any more (and nothing was stored)

    logged = len(access_log.read_text(encoding="utf-8").splitlines())
    for conversation in through_nginx:
        go_on(conversation, lambda _: nginx)
        check(cluster, conversation, reference)
    answered = [address for address, status in upstreams(access_log, logged) if status == "200"]
    assert set(answered) == {first.health_url.removeprefix("http://")} and len(answered) == 6

    second.start(cluster.env)  # the restart loads the model while the others go on
    for conversation in directly:
        go_on(conversation, lambda _: first)
        check(cluster, conversation, reference)
    cluster.wait_until_up([second])
    for conversation in after_restart:
        go_on(conversation, alternating(cluster, conversation))
        check(cluster, conversation, reference)
