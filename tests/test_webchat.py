"""The web chat page in headless Chromium (driven over the Chrome DevTools protocol) against a
stand-in for Rasa's socketio channel, everything on loopback.

Two servers answer the page: a stand-in configured like Rasa's channel (python-socketio
AsyncServer on aiohttp, cors_allowed_origins=[], session_request -> session_confirm, a room per
session) and Rasa's own socketio channel code (bot.channels.webchat.SocketIOInput on Sanic, with the
session-room fix). Both answer a message with a text and a button, and push a message later the
way trigger_intent?output_channel=latest does. Chromium comes from Debian (`make install`); when it
is missing these tests fail, they do not skip.
"""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import socketio
from aiohttp import web

from bot.session_tokens import session_of
from bot.web.server import SOCKET_IO_CLIENT
from tests.webchat_stand_ins import CONNECTED, LIFETIME, SECRET, Browser, LoopbackServers, open_page, page_socket

REPLY = "状況を教えてください。いま対応中ですか？"
BUTTON = {"title": "いつまで対応する？", "payload": "/ask_time_limit"}
PUSH = "⏱ 対応開始から約25分です（目安30分まであと約5分）。"


class StandInRasa(LoopbackServers):
    """Rasa's socketio channel in miniature (or Rasa's own channel code), plus the page server."""

    def __init__(self, backend: str = "stand-in") -> None:
        self.backend = backend
        self.received: list[dict] = []
        self.sessions: list[str | None] = []
        super().__init__()

    async def _start(self) -> None:
        page, self.page_origin = page_socket()
        if self.backend == "rasa-channel":
            self.socket_url = await self.start_rasa_channel(self.page_origin, self._on_new_message)
        else:
            self.socket_url = await self._start_stand_in()
        await self.start_page_server(page, self.socket_url)

    async def _on_new_message(self, message) -> None:
        self.received.append({"message": message.text, "session_id": message.sender_id})
        if message.text.startswith("/"):
            await message.output_channel.send_text_message(message.sender_id, f"受け取りました：{message.text}")
        else:
            await message.output_channel.send_text_with_buttons(message.sender_id, REPLY, [BUTTON])

    async def _start_stand_in(self) -> str:
        sio = self.sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
        socket_app = web.Application()
        sio.attach(socket_app)

        @sio.on("session_request")
        async def session_request(sid, data):
            requested = (data or {}).get("session_id")
            self.sessions.append(requested)
            session_id = requested or f"session-{len(self.sessions)}"
            await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid, data):
            self.received.append(data)
            if data.get("message", "").startswith("/"):
                await sio.emit("bot_uttered", {"text": f"受け取りました：{data['message']}"}, room=data["session_id"])
            else:
                await sio.emit("bot_uttered", {"text": REPLY, "quick_replies": [{"content_type": "text", **BUTTON}]},
                               room=data["session_id"])

        self.socket_runner = web.AppRunner(socket_app)
        await self.socket_runner.setup()
        await web.TCPSite(self.socket_runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.socket_runner.addresses[0][1]}"

    def push(self, session_id: str, text: str) -> None:
        """What Rasa does for trigger_intent?output_channel=latest: emit to the session's room."""
        if self.backend == "rasa-channel":  # exactly what Rasa's trigger_intent does with output_channel=latest
            sending = self.channel.get_output_channel().send_text_message(session_id, text)
        else:
            sending = self.sio.emit("bot_uttered", {"text": text}, room=session_id)
        asyncio.run_coroutine_threadsafe(sending, self.loop).result(5)

    async def _stop(self) -> None:
        if self.backend == "rasa-channel":
            await self.stop_rasa_channel()
        else:
            await self.sio.shutdown()
            await self.socket_runner.cleanup()


@pytest.fixture(params=["stand-in", "rasa-channel"])
def stand_in(request):
    servers = StandInRasa(request.param)
    yield servers
    servers.close()


@pytest.fixture
def browser(tmp_path):
    chromium = Browser(tmp_path / "profile")
    yield chromium
    chromium.close()


async def conversation(browser: Browser, stand_in: StandInRasa) -> None:
    async with aiohttp.ClientSession() as session:
        page = await open_page(browser, session)
        await page.send("Page.navigate", url=stand_in.page_url)
        await page.wait_js(CONNECTED, "the socket.io session")
        assert await page.js("document.documentElement.lang") == "ja"
        assert await page.js("document.activeElement.id") == "message", "the message box should have focus"
        assert await page.js("document.querySelector('label[for=message]').textContent") == "メッセージ"
        assert await page.js("document.getElementById('log').getAttribute('role')") == "log"

        # Type a message (as a keyboard would insert it) and send it with Enter.
        await page.send("Input.insertText", text="窓口で怒鳴られています")
        await page.press_enter()
        await page.wait_js(f"document.getElementById('log').innerText.includes({json.dumps(REPLY)})", "the reply")
        assert stand_in.received[0]["message"] == "窓口で怒鳴られています"
        session_id = stand_in.received[0]["session_id"]
        assert session_id and await page.js("document.getElementById('message').value") == ""
        shown = await page.js("[...document.querySelectorAll('.msg.user')].map(e => e.innerText).join()")
        assert shown.endswith("窓口で怒鳴られています")

        # Click the button: its payload goes to the server, its title shows as the employee's turn.
        selector = ".choices button"
        assert await page.js(f"document.querySelector('{selector}').textContent") == BUTTON["title"]
        await page.click(selector)
        await page.wait_js("document.getElementById('log').innerText.includes('受け取りました：/ask_time_limit')",
                           "the answer to the button")
        assert [m["message"] for m in stand_in.received] == ["窓口で怒鳴られています", "/ask_time_limit"]
        assert stand_in.received[1]["session_id"] == session_id
        assert await page.js(f"document.querySelector('{selector}').disabled") is True

        # A message pushed later (a timer reminder) shows up, marked as a notice.
        stand_in.push(session_id, PUSH)
        await page.wait_js(f"document.getElementById('log').innerText.includes({json.dumps(PUSH)})", "the pushed message")

        # Reloading keeps the session (session_persistence), so later pushes still arrive.
        await page.send("Page.reload")
        await page.wait_js(CONNECTED, "the session after a reload")
        stored = await page.js("localStorage.getItem('kasuhara-webchat-session')")
        assert session_of(stored, SECRET, LIFETIME) is not None  # a token the page server signed
        assert (session_of(stored, SECRET, LIFETIME) if stand_in.backend == "rasa-channel" else stored) == session_id
        if stand_in.backend == "stand-in":
            assert stand_in.sessions[-1] == session_id  # asked to rejoin the same session
        stand_in.push(session_id, "⏱ 目安の時間を過ぎています。")
        await page.wait_js("document.getElementById('log').innerText.includes('目安の時間を過ぎています')",
                           "a push after the reload")
        assert await page.js("document.querySelector('.msg.notice') !== null")
        assert page.errors == [], f"errors in the page: {page.errors}"
        await page.ws.close()


def test_chat_in_headless_chromium(stand_in, browser):
    asyncio.run(asyncio.wait_for(conversation(browser, stand_in), 60))


@pytest.mark.parametrize("stand_in", ["stand-in"], indirect=True)
def test_page_server_serves_the_page_the_client_and_the_config(stand_in):
    async def fetch():
        async with aiohttp.ClientSession() as session:
            async with session.get(stand_in.page_url) as response:
                assert response.status == 200
                assert "connect-src 'self' http://127.0.0.1:" in response.headers["Content-Security-Policy"]
                assert '<html lang="ja">' in await response.text()
            async with session.get(stand_in.page_url + "config.json") as response:
                config = await response.json()
                assert config["socket_url"].startswith("http://127.0.0.1:") and config["socket_path"] == "/socket.io/"
            async with session.get(stand_in.page_url + "vendor/socket.io.min.js") as response:
                assert response.status == 200 and response.content_type == "text/javascript"
                assert len(await response.read()) > 10_000

    if not SOCKET_IO_CLIENT.is_file():
        pytest.fail(f"{SOCKET_IO_CLIENT} is missing: run `npm ci` (make install)", pytrace=False)
    asyncio.run(fetch())
