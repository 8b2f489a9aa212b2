"""Loopback stand-ins for the web chat tests (test_webchat*.py, test_desk_browser.py): headless
Chromium driven over the DevTools protocol, and Rasa's own socketio channel code
(bot.channels.webchat.SocketIOInput on Sanic, as credentials.yml enables it) beside the page server,
on one background event loop. Chromium comes from Debian (`make install`); when it is missing the
tests fail, they do not skip."""
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
from typing import Any, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.settings import DEFAULT_WEBCHAT_SESSION_HOURS
from bot.web.server import SOCKET_IO_CLIENT, create_app

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "--window-size=1000,900",
]
SECRET = "webchat-test-secret"
LIFETIME = DEFAULT_WEBCHAT_SESSION_HOURS * 3600  # what the channel accepts when WEBCHAT_SESSION_HOURS is unset
CONNECTED = "document.getElementById('status')?.dataset.state === 'connected'"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed: run `make install` (it installs Debian's chromium) "
                    "or set CHROMIUM=/path/to/chromium", pytrace=False)
    if not SOCKET_IO_CLIENT.is_file():
        pytest.fail(f"{SOCKET_IO_CLIENT} is missing: run `npm ci` (make install)", pytrace=False)
    return path


class LoopbackServers:
    """Servers on one background event loop: `_start` (run on the loop) starts them and sets
    `page_url`; `_stop` stops them."""

    page_url: str

    def __init__(self) -> None:
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
        raise NotImplementedError

    async def _stop(self) -> None:
        raise NotImplementedError

    async def start_page_server(self, bound: socket.socket, socket_url: str) -> None:
        """The page server (bot.web.server) on the socket `bound`, pointing the page at `socket_url`."""
        self.page_runner = web.AppRunner(create_app(socket_url, SECRET))
        await self.page_runner.setup()
        await web.SockSite(self.page_runner, bound).start()
        self.page_url = f"http://127.0.0.1:{bound.getsockname()[1]}/"

    async def start_rasa_channel(self, page_origin: str, on_new_message: Callable[[Any], Awaitable[None]]) -> str:
        """Rasa's socketio channel code accepting `page_origin`, with `on_new_message` as the bot; its URL."""
        from sanic import Sanic

        from bot.channels.webchat import SocketIOInput

        Sanic.test_mode = True  # several Sanic apps in one process (what sanic-testing sets)
        self.channel = SocketIOInput.from_credentials(
            {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True,
             "session_secret": SECRET, "allowed_origins": [page_origin]}
        )
        app = Sanic(f"webchat_test_{id(self)}")
        app.blueprint(self.channel.blueprint(on_new_message))
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        self.sanic = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                             access_log=False)
        await self.sanic.startup()
        return f"http://127.0.0.1:{port}"

    async def stop_rasa_channel(self) -> None:
        await self.channel.sio.shutdown()
        self.sanic.close()
        await self.sanic.wait_closed()

    def close(self) -> None:
        async def stop():
            await self.page_runner.cleanup()
            await self._stop()
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def page_socket() -> tuple[socket.socket, str]:
    """A bound loopback socket for the page server, and the page's Origin."""
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    return bound, f"http://127.0.0.1:{bound.getsockname()[1]}"


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


async def open_page(browser: Browser, session: aiohttp.ClientSession) -> Page:
    async with session.get(f"http://127.0.0.1:{browser.port}/json/list") as response:
        targets = [t for t in await response.json() if t["type"] == "page"]
    ws = await session.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0)
    page = Page(ws)
    await page.send("Runtime.enable")
    await page.send("Page.enable")
    return page


CONNECTED = "document.getElementById('status')?.dataset.state === 'connected'"
