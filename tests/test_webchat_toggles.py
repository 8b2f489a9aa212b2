"""The conduct toggles in the web chat: Rasa's socketio channel code (bot.channels.webchat) sends the
bot's message with toggles as the actions do (text and buttons, then `custom.data`), and headless
Chromium shows them as checkboxes whose submit sends the chosen codes."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from bot.codes import Behavior
from bot.prompts import confirm_behaviors
from tests.webchat_stand_ins import CONNECTED, Browser, LoopbackServers, open_page, page_socket

PROMPT = confirm_behaviors([Behavior.VERBAL_ABUSE])
TOGGLES = {
    "text": PROMPT.reply.text,
    "buttons": [b.to_dict() for b in PROMPT.reply.buttons],
    "custom": {"data": {"choices": PROMPT.choices.to_dict()}},
}


class ToggleBot(LoopbackServers):
    """Rasa's socketio channel on Sanic answering any message with the toggles, plus the page server."""

    def __init__(self) -> None:
        self.received: list[str] = []
        super().__init__()

    async def _start(self) -> None:
        page, page_origin = page_socket()

        async def on_new_message(message):
            self.received.append(message.text)
            if not message.text.startswith("/"):
                await message.output_channel.send_response(message.sender_id, json.loads(json.dumps(TOGGLES)))

        await self.start_page_server(page, await self.start_rasa_channel(page_origin, on_new_message))

    async def _stop(self) -> None:
        await self.stop_rasa_channel()


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
