"""The web chat's socket.io channel (bot/channels/webchat.py) against clients that are not the page:
other Origins, session ids without a signed token, bad input. A python-socketio client on loopback."""
from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from bot.session_tokens import issue, session_of
from bot.text_input import SAFETY_HINT
from tests.test_webchat import StandInRasa
from tests.webchat_stand_ins import LIFETIME, SECRET


@pytest.fixture(scope="module")
def servers():
    stand_in = StandInRasa("rasa-channel")
    yield stand_in
    stand_in.close()


class Client:
    """A minimal socket.io (engine.io 4) client over one WebSocket, recording what the channel emits.
    (python-socketio's own client needs aiohttp 3.10+ for WebSockets; Rasa pins 3.9.)"""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.session: aiohttp.ClientSession | None = None
        self.ws = None
        self.reader = None

    async def connect(self, servers: StandInRasa, origin: str) -> None:
        self.session = aiohttp.ClientSession()
        url = servers.socket_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        try:
            self.ws = await self.session.ws_connect(url, headers={"Origin": origin})
        except aiohttp.WSServerHandshakeError:
            await self.session.close()
            raise
        opened = await self.ws.receive_str()
        assert opened.startswith("0{")
        await self.ws.send_str("40")
        assert (await self.ws.receive_str()).startswith("40")
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.data == "2":
                await self.ws.send_str("3")
            elif frame.data.startswith("42"):
                event, *data = json.loads(frame.data[2:])
                self.events.append((event, data[0] if data else None))

    async def emit(self, event: str, data) -> None:
        await self.ws.send_str("42" + json.dumps([event, data]))

    async def close(self) -> None:
        await self.ws.close()
        await self.reader
        await self.session.close()

    async def wait_for(self, event: str, timeout: float = 5.0):
        for _ in range(int(timeout / 0.02)):
            found = [data for name, data in self.events if name == event]
            if found:
                return found[-1]
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {event}; got {self.events}")


def in_loop(servers: StandInRasa, coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))  # the servers run on their own loop and thread


def test_another_origin_cannot_connect(servers):
    async def scenario():
        client = Client()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.connect(servers, "http://evil.example")
        assert refused.value.status == 400
        allowed = Client()
        await allowed.connect(servers, servers.page_origin)
        await allowed.close()

    in_loop(servers, scenario())


@pytest.mark.parametrize(
    "session_id",
    [None, "", "employee-1", "0" * 32, issue("another-secret"), "TAMPERED", "EXPIRED", {"x": 1}],
)
def test_a_session_without_a_signed_token_is_refused(servers, session_id):
    if session_id == "TAMPERED":
        token = issue(SECRET)
        session_id = token[:-1] + ("1" if token.endswith("0") else "0")
    if session_id == "EXPIRED":
        session_id = issue(SECRET, now=time.time() - LIFETIME - 60)

    async def scenario():
        client = Client()
        await client.connect(servers, servers.page_origin)
        await client.emit("session_request", {"session_id": session_id})
        await client.wait_for("session_refused")
        assert not any(name == "session_confirm" for name, _ in client.events)
        await client.close()

    in_loop(servers, scenario())


def test_a_message_into_another_session_never_reaches_the_bot(servers):
    victim = issue(SECRET)
    received_before = len(servers.received)

    async def scenario():
        client = Client()
        await client.connect(servers, servers.page_origin)
        mine = issue(SECRET)
        await client.emit("session_request", {"session_id": mine})
        assert await client.wait_for("session_confirm") == mine
        await client.emit("user_uttered", {"message": "のっとり", "session_id": session_of(victim, SECRET, LIFETIME)})
        await client.wait_for("session_refused")
        await client.emit("user_uttered", {"message": "本物です", "session_id": mine})
        await client.wait_for("bot_uttered")
        await client.close()
        return mine

    mine = in_loop(servers, scenario())
    assert servers.received[received_before:] == [{"message": "本物です", "session_id": session_of(mine, SECRET, LIFETIME)}]


def test_a_message_with_an_expired_token_never_reaches_the_bot(servers):
    expired = issue(SECRET, now=time.time() - LIFETIME - 60)
    received_before = len(servers.received)

    async def scenario():
        client = Client()
        await client.connect(servers, servers.page_origin)
        await client.emit("user_uttered", {"message": "期限切れです", "session_id": expired})
        await client.wait_for("session_refused")
        await client.close()

    in_loop(servers, scenario())
    assert len(servers.received) == received_before


def test_a_token_is_accepted_within_its_lifetime_only():
    token = issue(SECRET, now=1_000_000)
    session_id = token.split(".")[0]
    assert session_of(token, SECRET, 3600, now=1_000_000) == session_id
    assert session_of(token, SECRET, 3600, now=1_003_600) == session_id
    assert session_of(token, SECRET, 3600, now=1_003_601) is None
    assert session_of(token, SECRET, 3600, now=1_000_000 - 300) == session_id  # the page server's clock ahead
    assert session_of(token, SECRET, 3600, now=1_000_000 - 301) is None
    assert session_of(token, "another-secret", 3600, now=1_000_000) is None


def test_the_issue_time_cannot_be_moved_without_the_secret():
    session_id, issued_at, signature = issue(SECRET, now=1_000_000).split(".")
    assert session_of(f"{session_id}.{int(issued_at) + 7200}.{signature}", SECRET, 3600, now=1_005_000) is None


@pytest.mark.parametrize(
    "payload,reply_starts",
    [
        ({"message": "\udfff"}, "読み取れない文字"),
        ({"message": " \x00 "}, "メッセージが空でした"),
        ({"message": "x" * 3000}, "メッセージが長すぎる"),
        ({"message": "x", "metadata": "{not json"}, "メッセージに付いた情報"),
        ({"message": "x", "metadata": {"\ud800": 1}}, "読み取れない文字"),
    ],
)
def test_bad_input_gets_a_polite_reply_and_never_reaches_the_bot(servers, payload, reply_starts):
    received_before = len(servers.received)

    async def scenario():
        client = Client()
        await client.connect(servers, servers.page_origin)
        token = issue(SECRET)
        await client.emit("session_request", {"session_id": token})
        await client.wait_for("session_confirm")
        await client.emit("user_uttered", {**payload, "session_id": token})
        reply = await client.wait_for("bot_uttered")
        await client.close()
        return reply

    reply = in_loop(servers, scenario())
    assert reply["text"].startswith(reply_starts) and reply["text"].endswith(SAFETY_HINT)
    assert len(servers.received) == received_before


def test_control_characters_and_is_external_are_removed(servers):
    async def scenario():
        client = Client()
        await client.connect(servers, servers.page_origin)
        token = issue(SECRET)
        await client.emit("session_request", {"session_id": token})
        await client.wait_for("session_confirm")
        await client.emit("user_uttered", {"message": "窓口\x00で\u202e", "session_id": token,
                                               "metadata": {"is_external": True}})
        await client.wait_for("bot_uttered")
        await client.close()

    in_loop(servers, scenario())
    assert servers.received[-1]["message"] == "窓口で"


def test_the_page_server_issues_tokens_the_channel_accepts(servers):
    async def fetch():
        async with aiohttp.ClientSession() as session:
            async with session.get(servers.page_url + "session") as response:
                assert response.headers["Cache-Control"] == "no-store"
                return (await response.json())["session_token"]

    first, second = asyncio.run(fetch()), asyncio.run(fetch())
    assert session_of(first, SECRET, LIFETIME) and session_of(second, SECRET, LIFETIME) and first != second
