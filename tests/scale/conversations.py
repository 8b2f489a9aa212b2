"""Conversations for tests/scale: the scripts an employee sends, how a turn is sent and answered,
and what "coherent" means.

"Coherent" is checked against a reference: each script is first sent, turn by turn, to one server
alone. A conversation served by both servers must then give, turn after turn, the same actions,
the same question asked next (`requested_slot`) and the same payload — which it cannot if a
server answered from a stale or empty tracker — and the tracker must hold each message once, in
order. Assertions use codes — the REST channel's `custom.kasuhara` payload, the tracker's events
and the records table — never the bot's Japanese wording.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import requests

from tests.scale.cluster import REQUEST_TIMEOUT_S, Cluster, Server

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


def send(server: Server, sender: str, message: str, timeout: float = REQUEST_TIMEOUT_S) -> Turn:
    response = requests.post(
        f"{server.health_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
        timeout=timeout, verify=server.verify,
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


def half_way(cluster: Cluster, prefix: str, count: int) -> List[Conversation]:
    """`count` conversations of five turns whose first two alternate between the servers."""
    return [converse(five_turns(i), f"{prefix}-{i}", lambda t, i=i: cluster.rasa[(five_turns(i) + t) % 2], turns=2)
            for i in range(count)]


def alternating(cluster: Cluster, conversation: Conversation) -> Callable[[int], Server]:
    return lambda turn: cluster.rasa[(conversation.index + turn) % 2]


def upstreams(access_log, since: int = 0) -> List[tuple[str, str]]:
    """(the server that answered, status) of each webhook POST nginx logged, from line `since` on
    (nginx logs every server it tried, the one that answered last)."""
    lines = access_log.read_text(encoding="utf-8").splitlines()[since:]
    return [(line.split(" ", 3)[3].split(", ")[-1], line.split(" ", 3)[2]) for line in lines
            if line.startswith("POST /webhooks/rest/webhook ")]
