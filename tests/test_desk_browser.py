"""The desk in headless Chromium (Debian's chromium, driven over the DevTools protocol as in
tests/test_webchat.py) against the real `python -m bot.desk` process, a database of its own (SQLite, then
PostgreSQL) and a local SMTP server (aiosmtpd), at 1366×768: sign in, filter, open a record, reveal (audited), add a
follow-up, close, export CSV, see the charts, receive an urgent alert. Writes the screenshots
docs/screenshots/desk-*.png that docs/desk.md shows."""
from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
import requests
from aiosmtpd.controller import Controller

from bot.desk.charts import japanese_font
from bot.desk.store import DeskStore
from bot.desk_rules import LOCAL_TIME
from bot.records import ConsultationStore
from bot.settings import PROJECT_ROOT
from tests.test_desk import Inbox, free_port
from tests.webchat_stand_ins import Browser, Page, open_page

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
PASSWORD = "correct-horse-battery"
PHONE = "090-1234-5678"
WIDTH, HEIGHT = 1366, 768


def seed(store: ConsultationStore) -> int:
    """A month of consultations like the desk sees them; returns the one the test opens."""
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    cases = [
        ("市民課", "phone", "harassment", ["verbal_abuse", "time_restraint"], ["verbal_abuse", "persistent"], 65, 2),
        ("税務課", "counter", "legitimate", [], [], 15, 5),
        ("福祉課", "counter", "criminal", ["threat"], ["threat"], 20, 9),
        ("市民課", "email", "unreasonable_request", [], ["excessive_demand"], None, 14),
        ("市民課", "phone", "gray", [], ["intimidation"], 35, 20),
        ("税務課", "phone", "harassment", ["verbal_abuse"], ["verbal_abuse"], 40, 33),
        ("福祉課", "visit", "harassment", ["offsite_restraint"], ["detention"], 90, 47),
        ("市民課", "sns", "harassment", ["sns_defamation"], ["sns_exposure"], None, 61),
        ("税務課", "counter", "legitimate", [], [], 8, 75),
    ]
    opened = 0
    for department, channel, verdict, types, behaviors, minutes, days_ago in cases:
        started = now - timedelta(days=days_ago, hours=days_ago % 7)
        record_id = store.start(f"employee-{days_ago}", "botframework", started_at=started)
        store.add_message(record_id, "窓口で大声で怒鳴られています", sent_at=started + timedelta(minutes=1))
        store.add_message(record_id, f"「{PHONE}に今日中に電話しろ、土下座しろ」と言われました",
                          sent_at=started + timedelta(minutes=3))
        store.update(record_id, employee_department=department, situation_channel=channel, verdict=verdict,
                     types=types, behaviors=behaviors, elapsed_minutes=minutes,
                     demand="山田様に土下座で謝罪してほしい" if verdict == "harassment" else "手続きの説明をしてほしい",
                     reasons=["暴言が繰り返されている", "対応が60分を超えている"] if verdict == "harassment" else [],
                     escalations=["supervisor", "consultation_desk"], exact_words=["土下座しろ"],
                     staff_present=["係長（途中から同席）"], answers_given=["規則により土下座はできません"],
                     answer_count=3, employee_condition="動悸がしている")
        opened = opened or record_id
    return opened


class DeskProcess:
    def __init__(self, database_url: str, tmp_path: Path, smtp_port: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "DESK_PORT": str(self.port),
               "DESK_SECRET_FILE": str(tmp_path / "secret"), "DESK_SMTP_HOST": "127.0.0.1",
               "DESK_SMTP_PORT": str(smtp_port), "DESK_ALERT_FROM": "kasuhara-bot@example.jp",
               "DESK_ALERT_TO": "desk@example.jp", "DESK_BASE_URL": self.url}
        self.log = open(tmp_path / "desk.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.desk"], cwd=PROJECT_ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 60
        while time.time() < end:
            if self.process.poll() is not None:
                pytest.fail(f"the desk exited: {(tmp_path / 'desk.log').read_text()}", pytrace=False)
            try:
                if requests.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.close()
        pytest.fail("the desk did not start", pytrace=False)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


async def wait_for(page: Page, expression: str, what: str, timeout: float = 15) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = await page.js(expression)
        except AssertionError:  # the page is between two documents
            value = None
        if value:
            return value
        await asyncio.sleep(0.1)
    body = await page.js("document.body ? document.body.innerText.slice(0, 500) : ''")
    raise AssertionError(f"timed out waiting for {what}; page: {body!r}")


async def go(page: Page, url: str, ready: str) -> None:
    await page.send("Page.navigate", url=url)
    await wait_for(page, f"document.readyState === 'complete' && !!({ready})", url)


async def click_and_wait(page: Page, selector: str, ready: str) -> None:
    await page.js("window.__before = performance.timeOrigin")
    await page.click(selector)
    await wait_for(page, f"performance.timeOrigin !== window.__before && document.readyState === 'complete' && !!({ready})",
                   f"the page after clicking {selector}")


async def screenshot(page: Page, name: str) -> Path:
    height = await page.js("Math.ceil(document.documentElement.scrollHeight)")
    shot = await page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                           clip={"x": 0, "y": 0, "width": WIDTH, "height": max(HEIGHT, min(height, 2400)), "scale": 1})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


async def desk_session(browser: Browser, desk: DeskProcess, store: DeskStore, inbox: Inbox, record_id: int,
                       downloads: Path) -> None:
    async with aiohttp.ClientSession() as session:
        page = await open_page(browser, session)
        await page.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1,
                        mobile=False)

        # Sign in.
        await go(page, f"{desk.url}/login", "document.getElementById('username')")
        assert await page.js("document.documentElement.lang") == "ja"
        await page.js(f"document.getElementById('username').value = 'madoguchi';"
                      f"document.getElementById('password').value = {json.dumps(PASSWORD)}")
        await click_and_wait(page, "#login-button", "document.getElementById('records')")
        total = int(await page.js("document.getElementById('record-count').textContent"))
        assert total == 9
        assert await page.js("document.body.innerText.includes('" + PHONE + "')") is False
        assert await page.js("document.documentElement.scrollWidth") <= WIDTH, "the list must fit 1366 px"
        await screenshot(page, "desk-records.png")

        # Filter: harassment only.
        await page.js("document.querySelector('select[name=verdict]').value = 'harassment'")
        await click_and_wait(page, "#apply-filters", "document.getElementById('records')")
        assert int(await page.js("document.getElementById('record-count').textContent")) == 4
        verdicts = await page.js("[...document.querySelectorAll('#records tbody tr td:nth-child(3)')].map(td => td.innerText)")
        assert all("カスタマーハラスメント" in v for v in verdicts), verdicts

        # Open a record: masked; reveal it (audited).
        await click_and_wait(page, f"a[href='/records/{record_id}']", "document.getElementById('timeline')")
        timeline = await page.js("document.getElementById('timeline').innerText")
        assert "[電話番号]に今日中に電話しろ" in timeline and PHONE not in timeline
        await click_and_wait(page, "#reveal", "document.getElementById('revealed-note')")
        assert PHONE in await page.js("document.getElementById('timeline').innerText")
        assert store.audit_entries(limit=1)[0]["action"] == "record.reveal"
        assert store.audit_entries(limit=1)[0]["record_id"] == record_id

        # Back to the masked page: add a follow-up note, then close the record.
        await go(page, f"{desk.url}/records/{record_id}", "document.getElementById('note-text')")
        await page.js("document.getElementById('note-text').value = '本人と面談。翌週に様子を再確認する'")
        await click_and_wait(page, "#add-note", "document.getElementById('notes')")
        assert "本人と面談" in await page.js("document.getElementById('notes').innerText")
        assert [n["text"] for n in store.record(record_id)["notes_desk"]] == ["本人と面談。翌週に様子を再確認する"]
        await screenshot(page, "desk-record.png")
        await page.js("window.confirm = () => true")  # the close button asks for confirmation
        await click_and_wait(page, "#close-record", "document.getElementById('follow-up-state')")
        assert await page.js("document.getElementById('follow-up-state').textContent") == "終了"
        assert store.records.get(record_id)["status"] == "closed"

        # Export the list as CSV (a download, as a person clicks it) and read it as CSV.
        await go(page, f"{desk.url}/records", "document.getElementById('export-csv')")
        await page.send("Page.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
        await page.click("#export-csv")
        end = time.monotonic() + 20
        while time.monotonic() < end and not list(downloads.glob("*.csv")):
            await asyncio.sleep(0.1)
        files = list(downloads.glob("*.csv"))
        assert len(files) == 1 and files[0].name.startswith("consultations-"), list(downloads.iterdir())
        data = files[0].read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert len(rows) == 9 and {"id", "verdict", "messages"} <= set(rows[0])
        assert PHONE not in data.decode("utf-8-sig")
        assert store.audit_entries(limit=1)[0]["action"] == "records.export"

        # Trends: every chart loads.
        await go(page, f"{desk.url}/trends", "document.getElementById('charts')")
        await wait_for(page, "[...document.images].length === 9 && [...document.images].every(i => i.complete && i.naturalWidth === 600)",
                       "the nine charts")
        assert "判断別" in await page.js("[...document.images].map(i => i.alt).join()")
        await screenshot(page, "desk-trends.png")

        # The monthly report, as it prints (navigation and forms left off).
        await go(page, f"{desk.url}/report", "document.getElementById('report-total')")  # last month
        last_month = (datetime.now(timezone.utc).astimezone(LOCAL_TIME).replace(day=1) - timedelta(days=1))
        assert last_month.strftime("%Y-%m") in await page.js("document.querySelector('h1').textContent")
        await wait_for(page, "[...document.images].every(i => i.complete && i.naturalWidth === 600)", "the report's charts")
        await page.send("Emulation.setEmulatedMedia", media="print")
        assert await page.js("getComputedStyle(document.querySelector('header.bar')).display") == "none"
        await screenshot(page, "desk-report-print.png")
        await page.send("Emulation.setEmulatedMedia", media="")

        # An urgent consultation arrives: badge in the app, one e-mail.
        urgent = store.records.start("employee-urgent", "slack")
        store.records.record_turn(urgent, "刃物を見せられました", verdict="criminal", behaviors=["threat"],
                                  employee_department="福祉課")
        await go(page, f"{desk.url}/records", "document.getElementById('records')")
        badge = await page.js("document.getElementById('unread-badge')?.textContent")
        assert badge is not None and int(badge) >= 1
        end = time.monotonic() + 30
        while time.monotonic() < end and not any(f"#{urgent}" in m["Subject"] for m in inbox.mails()):
            await asyncio.sleep(0.2)
        subjects = [m["Subject"] for m in inbox.mails()]
        assert sum(f"#{urgent}（" in s for s in subjects) == 1, subjects
        assert page.errors == [], page.errors
        await page.ws.close()


class MailInbox(Inbox):
    def mails(self):
        from email import message_from_bytes
        from email.policy import default

        return [message_from_bytes(m.content, policy=default) for m in self.messages]


def test_the_desk_in_headless_chromium(database_url, tmp_path):
    assert japanese_font() == "Noto Sans CJK JP"
    records = ConsultationStore(database_url)
    record_id = seed(records)
    records.dispose()
    store = DeskStore(database_url)
    store.create_user("madoguchi", "窓口 花子", PASSWORD, "desk")
    for repeat in (record_id, record_id + 5):  # the same caller twice
        store.link_customer(repeat, "090-9999-0000 佐藤", b"test-secret", "madoguchi")
    inbox = MailInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    desk = DeskProcess(database_url, tmp_path, smtp.port)
    browser = Browser(tmp_path / "profile")
    try:
        asyncio.run(asyncio.wait_for(desk_session(browser, desk, store, inbox, record_id, tmp_path / 'downloads'), 180))
    finally:
        browser.close()
        desk.close()
        smtp.stop()
        store.dispose()
