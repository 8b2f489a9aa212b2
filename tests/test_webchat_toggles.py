"""The conduct toggles in the web chat: Rasa's socketio channel code (bot.channels.webchat) sends the
bot's message with toggles as the actions do (text and buttons, then `custom.data`), and headless
Chromium shows them as checkboxes whose submit sends the chosen codes."""
from __future__ import annotations

import asyncio
import json
import socket
import threading

import aiohttp
import pytest
from aiohttp import web

from bot.codes import Behavior
from bot.prompts import confirm_behaviors
from bot.web.server import create_app
from tests.test_webchat import CONNECTED, Browser, open_page

PROMPT = confirm_behaviors([Behavior.VERBAL_ABUSE])
TOGGLES = {
    "text": PROMPT.reply.text,
    "buttons": [b.to_dict() for b in PROMPT.reply.buttons],
    "custom": {"data": {"choices": PROMPT.choices.to_dict()}},
}


SECRET = "toggle-test-session-secret"


class ToggleBot:
    """Rasa's socketio channel on Sanic answering any message with the toggles, plus the page server."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        if not self.ready.wait(10):
            raise RuntimeError("servers did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        from sanic import Sanic

        from bot.channels.webchat import SocketIOInput

        page_socket = socket.socket()
        page_socket.bind(("127.0.0.1", 0))
        page_origin = f"http://127.0.0.1:{page_socket.getsockname()[1]}"
        self.channel = SocketIOInput.from_credentials(
            {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True,
             "session_secret": SECRET, "allowed_origins": [page_origin]}
        )

        async def on_new_message(message):
            self.received.append(message.text)
            if not message.text.startswith("/"):
                await message.output_channel.send_response(message.sender_id, json.loads(json.dumps(TOGGLES)))

        app = Sanic(f"webchat_toggles_{id(self)}")
        app.blueprint(self.channel.blueprint(on_new_message))
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        self.sanic = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await self.sanic.startup()
        self.page_runner = web.AppRunner(create_app(f"http://127.0.0.1:{port}", SECRET))
        await self.page_runner.setup()
        await web.SockSite(self.page_runner, page_socket).start()
        self.page_url = f"{page_origin}/"

    def close(self) -> None:
        async def stop():
            await self.page_runner.cleanup()
            await self.channel.sio.shutdown()
            self.sanic.close()
            await self.sanic.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def toggle_bot():
    servers = ToggleBot()
    yield servers
    servers.close()


async def choose(browser: Browser, bot: ToggleBot) -> dict:
    async with aiohttp.ClientSession() as session:
        page = await open_page(browser, session)
        await page.send("Page.navigate", url=bot.page_url)
        await page.wait_js(CONNECTED, "the socket.io session")
        await page.send("Input.insertText", text="窓口で暴言を言われました")
        await page.press_enter()
        await page.wait_js("document.querySelectorAll('.toggles input').length > 0", "the toggles")
        seen = {
            "checked": await page.js("[...document.querySelectorAll('.toggles input:checked')].map(b => b.value)"),
            "count": await page.js("document.querySelectorAll('.toggles input').length"),
            "buttons": await page.js("[...document.querySelectorAll('.choices button')].map(b => b.textContent)"),
        }
        await page.click(".toggles input[value=persistent]")
        await page.click(".toggles > button")
        await page.wait_js("document.querySelector('.toggles > button').disabled", "the submitted toggles")
        seen["errors"] = page.errors
        await page.ws.close()
        return seen


def test_the_web_chat_shows_the_toggles_and_sends_the_chosen_codes(toggle_bot, tmp_path):
    browser = Browser(tmp_path / "profile")
    try:
        seen = asyncio.run(asyncio.wait_for(choose(browser, toggle_bot), 60))
    finally:
        browser.close()
    assert seen["checked"] == ["verbal_abuse"]
    assert seen["count"] == len(Behavior)
    assert seen["buttons"] == ["合っています", "どれも違う"]  # 「ほかにもある」 is the toggles themselves here
    assert seen["errors"] == []
    for _ in range(100):
        if len(toggle_bot.received) == 2:
            break
        asyncio.run(asyncio.sleep(0.05))
    assert toggle_bot.received == ["窓口で暴言を言われました", '/inform{"behavior":["verbal_abuse","persistent"]}']
