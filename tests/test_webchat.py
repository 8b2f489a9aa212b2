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
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import aiohttp
import pytest
import socketio
from aiohttp import web

from bot.session_tokens import session_of
from bot.settings import DEFAULT_WEBCHAT_SESSION_HOURS
from bot.web.server import SOCKET_IO_CLIENT, create_app

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "--window-size=1000,900",
]
REPLY = "状況を教えてください。いま対応中ですか？"
BUTTON = {"title": "いつまで対応する？", "payload": "/ask_time_limit"}
PUSH = "⏱ 対応開始から約25分です（目安30分まであと約5分）。"
SECRET = "webchat-test-secret"
LIFETIME = DEFAULT_WEBCHAT_SESSION_HOURS * 3600  # what the channel accepts when WEBCHAT_SESSION_HOURS is unset


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed: run `make install` (it installs Debian's chromium) "
                    "or set CHROMIUM=/path/to/chromium", pytrace=False)
    if not SOCKET_IO_CLIENT.is_file():
        pytest.fail(f"{SOCKET_IO_CLIENT} is missing: run `npm ci` (make install)", pytrace=False)
    return path


class StandInRasa:
    """Rasa's socketio channel in miniature, plus the page server, on one background event loop."""

    def __init__(self, backend: str = "stand-in") -> None:
        self.backend = backend
        self.received: list[dict] = []
        self.sessions: list[str | None] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("stand-in servers did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        page_socket = socket.socket()
        page_socket.bind(("127.0.0.1", 0))
        self.page_origin = f"http://127.0.0.1:{page_socket.getsockname()[1]}"
        socket_url = await (self._start_rasa_channel() if self.backend == "rasa-channel" else self._start_stand_in())
        self.socket_url = socket_url
        self.page_runner = web.AppRunner(create_app(socket_url, SECRET))
        await self.page_runner.setup()
        await web.SockSite(self.page_runner, page_socket).start()
        self.page_url = f"{self.page_origin}/"

    async def _start_rasa_channel(self) -> str:
        """Rasa's own socketio channel code (bot.channels.webchat, as credentials.yml enables it) on Sanic."""
        from sanic import Sanic

        from bot.channels.webchat import SocketIOInput

        channel = self.channel = SocketIOInput.from_credentials(
            {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True,
             "session_secret": SECRET, "allowed_origins": [self.page_origin]}
        )

        async def on_new_message(message):
            self.received.append({"message": message.text, "session_id": message.sender_id})
            if message.text.startswith("/"):
                await message.output_channel.send_text_message(message.sender_id, f"受け取りました：{message.text}")
            else:
                await message.output_channel.send_text_with_buttons(message.sender_id, REPLY, [BUTTON])

        app = Sanic(f"webchat_test_{id(self)}")
        app.blueprint(channel.blueprint(on_new_message))
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        self.sanic = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                             access_log=False)
        await self.sanic.startup()
        return f"http://127.0.0.1:{port}"

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

    def close(self) -> None:
        async def stop():
            await self.page_runner.cleanup()
            if self.backend == "rasa-channel":
                await self.channel.sio.shutdown()
                self.sanic.close()
                await self.sanic.wait_closed()
            else:
                await self.sio.shutdown()
                await self.socket_runner.cleanup()
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Browser:
    """Headless Chromium with a fresh profile; its DevTools port is read from DevToolsActivePort."""

    def __init__(self, profile: Path) -> None:
        self.process = subprocess.Popen(
            [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        end = time.time() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.time() > end:
                self.close()
                pytest.fail("Chromium did not start (no DevToolsActivePort)", pytrace=False)
            time.sleep(0.05)
        self.port = int(port_file.read_text().split()[0])

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


class Page:
    """A minimal DevTools-protocol client for one page target."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.errors: list[str] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self.ws:
            message = json.loads(frame.data)
            if "id" in message and message["id"] in self.pending:
                self.pending.pop(message["id"]).set_result(message)
            elif message.get("method") == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(message["params"]["exceptionDetails"], ensure_ascii=False)[:500])
            elif message.get("method") == "Runtime.consoleAPICalled" and message["params"]["type"] == "error":
                self.errors.append(str([a.get("value") for a in message["params"]["args"]]))

    async def send(self, method: str, **params):
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 10)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply["result"]

    async def js(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_js(self, expression: str, what: str, timeout: float = 10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.05)
        log = await self.js("document.getElementById('log').innerText")
        raise AssertionError(f"timed out waiting for {what}; chat log: {log!r}; page errors: {self.errors}")

    async def click(self, selector: str) -> None:
        """A real mouse click at the element's centre."""
        box = await self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView();"
                            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    async def press_enter(self) -> None:
        for kind in ("rawKeyDown", "keyUp"):
            await self.send("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                            windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)


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


async def open_page(browser: Browser, session: aiohttp.ClientSession) -> Page:
    async with session.get(f"http://127.0.0.1:{browser.port}/json/list") as response:
        targets = [t for t in await response.json() if t["type"] == "page"]
    ws = await session.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0)
    page = Page(ws)
    await page.send("Runtime.enable")
    await page.send("Page.enable")
    return page


CONNECTED = "document.getElementById('status')?.dataset.state === 'connected'"


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
