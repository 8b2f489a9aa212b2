"""Load on the two-server cluster: 200 conversations at once, 10 turns each, over loopback, each
turn sent to the other server. Bounded in count (2000 turns) and time (TIME_LIMIT_S). Zero
errors — every turn HTTP 200 with replies that carry the bot's payload, none of them the
action-server outage message — and zero lost or
duplicated records: each conversation's tracker holds its 10 messages once, in order, and its
consultation record exists once and holds the same 10 messages. Throughput and turn times are
printed, not asserted (the machine is shared).
"""
from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from typing import Dict, List

import aiohttp
import pytest

from bench.conversations import script as bench_script
from bench.processes import loadavg
from bench.stats import percentile
from bot.rasa.guards import ACTION_SERVER_UNAVAILABLE
from tests.scale.cluster import Cluster

pytestmark = pytest.mark.scale

CONVERSATIONS = 200
TURNS = 10
TIME_LIMIT_S = 360.0
TURN_TIMEOUT_S = 240.0  # a turn waits behind up to 199 others: a throughput test, not a latency one


def messages(index: int) -> List[str]:
    """The first TURNS messages of bench/conversations.py's index-th script (free text and buttons)."""
    return [message for _, message in bench_script(index)[:TURNS]]


async def converse(session: aiohttp.ClientSession, cluster: Cluster, index: int, samples: List[dict]) -> None:
    sender = f"load-{index:03d}"
    for turn, message in enumerate(messages(index)):
        server = cluster.rasa[(index + turn) % 2]
        started = time.perf_counter()
        sample = {"sender": sender, "turn": turn, "status": None, "ok": False, "error": ""}
        try:
            async with session.post(f"{server.health_url}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": message}) as response:
                sample["status"] = response.status
                replies = await response.json(content_type=None) if response.status == 200 else []
                payloads = [(reply.get("custom") or {}).get("kasuhara") for reply in replies]
                sample["ok"] = bool(payloads) and all(p is not None for p in payloads)
                if any(reply.get("text") == ACTION_SERVER_UNAVAILABLE for reply in replies):
                    sample["ok"], sample["error"] = False, "action server unavailable"
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            sample["error"] = type(error).__name__
        sample["ms"] = (time.perf_counter() - started) * 1000
        samples.append(sample)
        if not sample["ok"]:
            return  # the rest of this conversation would not be coherent


async def drive(cluster: Cluster, samples: List[dict]) -> None:
    connector = aiohttp.TCPConnector(limit=CONVERSATIONS)
    timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.wait_for(
            asyncio.gather(*(converse(session, cluster, index, samples) for index in range(CONVERSATIONS))),
            TIME_LIMIT_S,
        )


def test_two_hundred_conversations_at_once_no_error_nothing_lost_or_doubled(cluster, capsys):
    samples: List[dict] = []
    started = time.perf_counter()
    asyncio.run(drive(cluster, samples))
    elapsed = time.perf_counter() - started
    ok = [s["ms"] for s in samples if s["ok"]]
    with capsys.disabled():
        print(f"\nload: {CONVERSATIONS} conversations x {TURNS} turns, two servers: {len(ok)}/{len(samples)} turns ok "
              f"in {elapsed:.1f} s = {len(ok) / elapsed:.1f} turns/s; turn time p50 {percentile(ok, 50):.0f} ms, "
              f"p95 {percentile(ok, 95):.0f} ms, max {max(ok):.0f} ms; load average after {loadavg()}")

    failed = [s for s in samples if not s["ok"]]
    assert not failed, f"{len(failed)} turns failed, e.g. {failed[:5]}"
    assert len(samples) == CONVERSATIONS * TURNS

    expected = {f"load-{index:03d}": messages(index) for index in range(CONVERSATIONS)}
    tracked: Dict[str, List[str]] = defaultdict(list)
    for row in cluster.query("SELECT sender_id, data FROM events WHERE sender_id LIKE 'load-%' "
                             "AND type_name = 'user' ORDER BY id"):
        tracked[row.sender_id].append(json.loads(row.data)["text"])
    assert tracked == expected, "a tracker does not hold its conversation's messages once, in order"

    records = cluster.query("SELECT conversation_id, count(*) AS n FROM consultations "
                            "WHERE conversation_id LIKE 'load-%' GROUP BY conversation_id")
    assert sorted((r.conversation_id, r.n) for r in records) == sorted((sender, 1) for sender in expected)
    recorded: Dict[str, List[str]] = defaultdict(list)
    for row in cluster.query("SELECT c.conversation_id, m.text FROM consultation_messages m "
                             "JOIN consultations c ON c.id = m.consultation_id "
                             "WHERE c.conversation_id LIKE 'load-%' ORDER BY m.id"):
        recorded[row.conversation_id].append(row.text)
    assert recorded == expected, "a record does not hold its conversation's messages once, in order"
