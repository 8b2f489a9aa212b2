"""The desk web app through Flask's test client, on SQLite and PostgreSQL (conftest.database_url):
sign-in and roles, refusals (refused, nothing changed, audited), masking, follow-up, filters,
export, alerts and their e-mails (a local aiosmtpd server), repeat customers, trends, retention."""
from __future__ import annotations

import csv
from email import message_from_bytes
from email.policy import default as default_policy
import io
import json
import itertools
import re
import socket
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.codes import DeliveryStatus
from bot.desk.alerts import AlertWorker, SmtpSender
from bot.desk.app import create_app
from bot.desk.store import DeskStore
from bot.schema import CustomerKey
from bot.settings import PROJECT_ROOT, Settings, SmtpSettings
from tests.tracker_rows import create_tables, write_endpoints

PASSWORD = "correct-horse-battery"
# argon2id with small costs: the tests sign in often; the app uses the library's defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # 12:00 in Japan
PHONE = "090-1234-5678"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock):
    desk_store = DeskStore(database_url, clock=clock, hasher=FAST_HASHER)
    for username, role, department in (("admin", "admin", None), ("desk", "desk", None),
                                       ("boss", "supervisor", "市民課"), ("trainer", "trainer", None)):
        desk_store.create_user(username, f"{username}さん", PASSWORD, role, department)
    yield desk_store
    desk_store.dispose()


def tracker_endpoints(tmp_path: Path) -> Path:
    """An endpoints file naming an empty tracker store of the test's own (the purge reads it)."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    create_tables(url)
    return write_endpoints(tmp_path / "endpoints.yml", url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, secret_file=tmp_path / "desk-secret",
                    endpoints_file=tracker_endpoints(tmp_path))


@pytest.fixture
def app(settings: Settings, store: DeskStore):
    return create_app(settings, store)


def login_token(client) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": login_token(client), "username": username,
                                           "password": password})
    assert response.status_code == 302, response.text
    return client


def csrf(client, path: str = "/alerts") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def audit_actions(store: DeskStore) -> list[tuple[str, str, int | None]]:
    return [(e["actor"], e["action"], e["record_id"]) for e in store.audit_entries()]


_conversations = itertools.count(1)


def make_record(store: DeskStore, department: str = "市民課", verdict: str | None = "harassment",
                started: datetime = NOW - timedelta(hours=1), **fields) -> int:
    # a conversation of its own: start() with the same conversation and start time is the same record
    record_id = store.records.start(f"conv-{department}-{started.timestamp()}-{next(_conversations)}",
                                    "botframework", started_at=started)
    store.records.record_turn(record_id, fields.pop("message", f"窓口で怒鳴られています。電話は{PHONE}です"),
                              verdict=verdict, employee_department=department, **fields)
    return record_id


# --- sign-in -----------------------------------------------------------------------------------
def test_pages_need_a_signed_in_user(app, store):
    client = app.test_client()
    for path in ("/records", "/records/1", "/alerts", "/trends", "/admin/users", "/records/export.csv"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_wrong_password_is_refused_and_audited(app, store):
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": login_token(client), "username": "desk", "password": "nope"})
    assert response.status_code == 401
    assert "ユーザー名またはパスワードが違います" in response.text
    assert "desk_session" not in response.headers.get("Set-Cookie", "")
    assert client.get("/records").status_code == 302
    assert ("desk", "login.wrong", None) in audit_actions(store)


def test_repeated_failures_lock_the_account_until_an_admin_unlocks_it(app, store, clock):
    client = app.test_client()
    for _ in range(5):
        client.post("/login", data={"csrf_token": login_token(client), "username": "desk", "password": "wrong"})
    refused = client.post("/login", data={"csrf_token": login_token(client), "username": "desk", "password": PASSWORD})
    assert refused.status_code == 401 and "15分間ログインできません" in refused.text
    assert ("desk", "login.locked", None) in audit_actions(store)
    admin = sign_in(app, "admin")
    desk_id = next(u["id"] for u in store.users() if u["username"] == "desk")
    admin.post(f"/admin/users/{desk_id}/unlock", data={"csrf_token": csrf(admin)})
    sign_in(app, "desk")


def test_the_lock_ends_by_itself(app, store, clock):
    client = app.test_client()
    for _ in range(5):
        client.post("/login", data={"csrf_token": login_token(client), "username": "desk", "password": "wrong"})
    clock.now += timedelta(minutes=16)
    sign_in(app, "desk")


def test_sign_out_ends_the_session(app, store):
    client = sign_in(app, "desk")
    assert client.get("/records").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert client.get("/records").status_code == 302


def test_a_deactivated_user_is_signed_out(app, store):
    desk = sign_in(app, "desk")
    admin = sign_in(app, "admin")
    desk_id = next(u["id"] for u in store.users() if u["username"] == "desk")
    admin.post(f"/admin/users/{desk_id}/deactivate", data={"csrf_token": csrf(admin)})
    assert desk.get("/records").status_code == 302
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": login_token(client), "username": "desk", "password": PASSWORD})
    assert response.status_code == 401 and "停止" in response.text


def test_the_session_expires(app, store, clock):
    client = sign_in(app, "desk")
    clock.now += timedelta(hours=9)
    assert client.get("/records").status_code == 302


def test_the_login_form_needs_its_token(app, store):
    response = app.test_client().post("/login", data={"username": "desk", "password": PASSWORD})
    assert response.status_code == 400
    assert ("anonymous", "csrf.refused", None) in audit_actions(store)


# --- refusals: nothing changed, audited ----------------------------------------------------------
@pytest.mark.parametrize("token", [None, "forged"])
def test_a_form_without_the_right_csrf_token_is_refused(app, store, token):
    record_id = make_record(store)
    client = sign_in(app, "desk")
    data = {"text": "書かれてはいけない"} | ({"csrf_token": token} if token else {})
    response = client.post(f"/records/{record_id}/notes", data=data)
    assert response.status_code == 400
    client.post(f"/records/{record_id}/close", data={k: v for k, v in data.items() if k == "csrf_token"})
    record = store.record(record_id)
    assert record["notes_desk"] == [] and record["status"] == "open"
    assert audit_actions(store)[0][:2] == ("desk", "csrf.refused")


def test_a_desk_user_on_an_admin_route_is_refused(app, store):
    client = sign_in(app, "desk")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    response = client.post("/admin/users", data={"csrf_token": csrf(client), "username": "mallory",
                                                 "display_name": "x", "password": PASSWORD, "role": "admin"})
    assert response.status_code == 403
    assert "mallory" not in [u["username"] for u in store.users()]
    before = store.retention_days(1095)
    assert client.post("/admin/retention", data={"csrf_token": csrf(client), "days": "1"}).status_code == 403
    assert store.retention_days(1095) == before
    assert [a for a in audit_actions(store) if a[1] == "access.refused"][:3] == [("desk", "access.refused", None)] * 3


def test_a_supervisor_sees_only_their_department(app, store):
    own = make_record(store, "市民課")
    other = make_record(store, "税務課", started=NOW - timedelta(hours=2))
    client = sign_in(app, "boss")
    page = client.get("/records").text
    assert f'data-record-id="{own}"' in page and f'data-record-id="{other}"' not in page
    assert client.get(f"/records/{own}").status_code == 200
    assert client.get(f"/records/{other}").status_code == 403
    assert client.post(f"/records/{other}/reveal", data={"csrf_token": csrf(client)}).status_code == 403
    assert ("boss", "access.refused", other) in audit_actions(store)
    assert ("boss", "record.reveal", other) not in audit_actions(store)
    exported = json.loads(client.get("/records/export.json").data)
    assert [r["id"] for r in exported] == [own]


def test_a_supervisor_cannot_change_records(app, store):
    record_id = make_record(store, "市民課")
    client = sign_in(app, "boss")
    assert client.post(f"/records/{record_id}/close", data={"csrf_token": csrf(client)}).status_code == 403
    assert store.record(record_id)["status"] == "open"


def test_a_trainer_sees_trends_but_no_records(app, store):
    make_record(store)
    client = sign_in(app, "trainer")
    assert client.get("/").headers["Location"] == "/trends"
    assert client.get("/trends").status_code == 200
    assert client.get("/records").status_code == 403
    assert client.get("/records/1").status_code == 403


# --- records ---------------------------------------------------------------------------------
def test_personal_data_is_masked_until_an_audited_reveal(app, store):
    record_id = make_record(store, demand="山田様に謝れ", exact_words=[f"{PHONE}に電話しろ"])
    client = sign_in(app, "desk")
    page = client.get(f"/records/{record_id}").text
    assert PHONE not in page and "[電話番号]" in page and "●●様に謝れ" in page
    assert ("desk", "record.view", record_id) in audit_actions(store)
    assert ("desk", "record.reveal", record_id) not in audit_actions(store)
    revealed = client.post(f"/records/{record_id}/reveal", data={"csrf_token": csrf(client)}).text
    assert PHONE in revealed and "山田様に謝れ" in revealed
    assert audit_actions(store)[0] == ("desk", "record.reveal", record_id)
    assert client.get(f"/records/{record_id}/reveal").status_code == 405


def test_user_text_is_escaped(app, store):
    record_id = make_record(store, message='<script>alert("x")</script>', demand="<img src=x onerror=alert(1)>")
    client = sign_in(app, "desk")
    client.post(f"/records/{record_id}/notes", data={"csrf_token": csrf(client), "text": "<b>太字</b>"})
    for page in (client.get(f"/records/{record_id}").text, client.get("/records").text):
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>太字" not in page
    assert "&lt;script&gt;alert" in client.get(f"/records/{record_id}").text


def test_security_headers(app, store):
    response = sign_in(app, "desk").get("/records")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_session_cookie_is_http_only_and_same_site(app, store):
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": login_token(client), "username": "desk", "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("desk_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_follow_up_assignment_actions_and_close(app, store, clock):
    record_id = make_record(store)
    client = sign_in(app, "desk")
    token = csrf(client)
    client.post(f"/records/{record_id}/notes", data={"csrf_token": token, "text": "本人に電話で様子を確認した"})
    client.post(f"/records/{record_id}/assign", data={"csrf_token": token, "assignee": "desk", "due_on": "2026-11-25"})
    client.post(f"/records/{record_id}/actions", data={"csrf_token": token,
                                                       "action": ["supervisor_informed", "ban_notice"]})
    record = store.record(record_id)
    assert [n["text"] for n in record["notes_desk"]] == ["本人に電話で様子を確認した"]
    assert (record["assignee"], record["due_on"], record["follow_up"].value) == ("desk", date(2026, 11, 25), "assigned")
    assert {a.value for a in record["actions"]} == {"supervisor_informed", "ban_notice"}
    client.post(f"/records/{record_id}/actions", data={"csrf_token": token, "action": ["police_consulted"]})
    assert {a.value for a in store.record(record_id)["actions"]} == {"police_consulted"}
    clock.now += timedelta(days=10)
    assert store.record(record_id)["follow_up"].value == "overdue"
    client = sign_in(app, "desk")  # the first session has expired meanwhile
    client.post(f"/records/{record_id}/close", data={"csrf_token": csrf(client)})
    record = store.record(record_id)
    assert record["status"] == "closed" and record["follow_up"].value == "done"
    actions = audit_actions(store)
    for action in ("record.note", "record.assign", "record.actions", "record.close"):
        assert ("desk", action, record_id) in actions


@pytest.mark.parametrize("form, message", [
    ({"text": "   "}, "メモを入力してください"),
    ({"text": "x" * 4001}, "4000文字"),
])
def test_a_bad_note_is_refused_clearly(app, store, form, message):
    record_id = make_record(store)
    client = sign_in(app, "desk")
    response = client.post(f"/records/{record_id}/notes", data={"csrf_token": csrf(client), **form})
    assert response.status_code == 400 and message in response.text
    assert store.record(record_id)["notes_desk"] == []


def test_an_unknown_assignee_or_date_is_refused(app, store):
    record_id = make_record(store)
    client = sign_in(app, "desk")
    token = csrf(client)
    assert client.post(f"/records/{record_id}/assign", data={"csrf_token": token, "assignee": "nobody"}).status_code == 400
    assert client.post(f"/records/{record_id}/assign", data={"csrf_token": token, "due_on": "来週"}).status_code == 400
    assert store.record(record_id)["assignee"] is None


def test_filters_and_search(app, store):
    phone = make_record(store, "市民課", verdict="harassment", types=["verbal_abuse"], behaviors=["verbal_abuse"],
                        situation_channel="phone", message="課長を出せと言われた")
    counter = make_record(store, "税務課", verdict="legitimate", situation_channel="counter",
                          started=NOW - timedelta(days=40), demand="書類の再発行")
    store.records.close(counter)
    client = sign_in(app, "desk")

    def listed(query: str) -> set[int]:
        page = client.get(f"/records?{query}")
        assert page.status_code == 200, page.text
        return {int(i) for i in re.findall(r'data-record-id="(\d+)"', page.text)}

    assert listed("") == {phone, counter}
    assert listed("verdict=harassment") == {phone}
    assert listed("type=verbal_abuse") == {phone}
    assert listed("behavior=verbal_abuse") == {phone}
    assert listed("channel=counter") == {counter}
    assert listed("status=closed") == {counter}
    assert listed("department=税務課") == {counter}
    assert listed("follow_up=unassigned") == {phone}
    assert listed("follow_up=done") == {counter}
    assert listed("since=2026-11-01&until=2026-11-30") == {phone}
    assert listed("q=課長を出せ") == {phone}
    assert listed("q=再発行") == {counter}
    assert listed("q=100%") == set()
    assert client.get("/records?verdict=guilty").status_code == 400
    assert client.get("/records?since=2026-12-01&until=2026-11-01").status_code == 400
    assert any(a[1] == "records.list" for a in audit_actions(store))


def test_csv_export_opens_as_csv_masked_and_safe(app, store):
    record_id = make_record(store, demand="=HYPERLINK(\"http://x\")", message=f"電話は{PHONE}")
    client = sign_in(app, "desk")
    response = client.get("/records/export.csv?verdict=harassment")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [record_id]
    assert rows[0]["demand"] == "'=HYPERLINK(\"http://x\")"
    assert PHONE not in response.data.decode("utf-8-sig") and "[電話番号]" in rows[0]["messages"]
    unmasked = client.get("/records/export.csv?reveal=1").data.decode("utf-8-sig")
    assert PHONE in unmasked
    exports = [e for e in store.audit_entries() if e["action"] == "records.export"]
    assert "masked=no" in exports[0]["detail"] and "masked=yes" in exports[1]["detail"]


def test_json_export(app, store):
    record_id = make_record(store)
    data = json.loads(sign_in(app, "desk").get("/records/export.json").data)
    assert data[0]["id"] == record_id and data[0]["employee_department"] == "市民課"
    assert PHONE not in json.dumps(data, ensure_ascii=False)


# --- alerts ----------------------------------------------------------------------------------
class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_an_urgent_record_raises_one_alert_and_one_email_per_recipient(app, store, smtp_server):
    controller, inbox = smtp_server
    quiet = make_record(store, verdict="legitimate")
    urgent = make_record(store, verdict="harassment")
    store.records.update(urgent, verdict="criminal")  # still one alert
    danger = make_record(store, verdict=None, behaviors=["physical_attack"])
    client = sign_in(app, "desk")
    page = client.get("/records").text
    assert re.search(r'id="unread-badge"[^>]*>2<', page)

    smtp = SmtpSettings(host="127.0.0.1", port=controller.port, sender="bot@example.jp",
                        recipients=("desk@example.jp", "chief@example.jp"))
    worker = AlertWorker(store, smtp.recipients, SmtpSender(smtp), "http://desk.example")
    results = worker.run_once()
    assert [status for _, status in results] == [DeliveryStatus.SENT] * 4
    assert worker.run_once() == []  # never sent twice
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == sorted(["desk@example.jp", "chief@example.jp"] * 2)
    mail = message_from_bytes(inbox.messages[0].content, policy=default_policy)
    assert mail["Subject"].startswith("【至急】カスハラ相談 #")
    body = mail.get_content()
    assert PHONE not in body and "窓口で怒鳴られています" not in body and "http://desk.example/records/" in body

    alerts = {a["record_id"]: a for a in store.alerts(store_user(store, "desk"))}
    assert set(alerts) == {urgent, danger} and quiet not in alerts
    assert alerts[danger]["reason"].value == "danger" and alerts[urgent]["reason"].value == "harassment"
    client.get(f"/records/{urgent}")
    assert re.search(r'id="unread-badge"[^>]*>1<', client.get("/records").text)


def store_user(store: DeskStore, username: str):
    return store.sign_in(username, PASSWORD, 5, timedelta(minutes=15), timedelta(hours=1)).user


def test_a_failed_email_is_retried_and_shown(app, store, clock, smtp_server):
    controller, inbox = smtp_server
    record_id = make_record(store)
    down = SmtpSettings(host="127.0.0.1", port=free_port(), sender="bot@example.jp", recipients=("desk@example.jp",))
    failing = AlertWorker(store, down.recipients, SmtpSender(down), "http://desk.example")
    assert [status for _, status in failing.run_once()] == [DeliveryStatus.FAILED]
    assert failing.run_once() == []  # not yet due again
    page = sign_in(app, "desk").get("/alerts").text
    assert "失敗（再送します）" in page and "ConnectionRefusedError" in page

    clock.now += timedelta(minutes=2)
    up = SmtpSettings(host="127.0.0.1", port=controller.port, sender="bot@example.jp", recipients=("desk@example.jp",))
    working = AlertWorker(store, up.recipients, SmtpSender(up), "http://desk.example")
    assert [status for _, status in working.run_once()] == [DeliveryStatus.SENT]
    assert len(inbox.messages) == 1
    assert store.alerts(store_user(store, "desk"))[0]["deliveries"][0]["attempts"] == 2
    assert record_id == store.alerts(store_user(store, "desk"))[0]["record_id"]


def test_two_workers_send_each_email_once(store, smtp_server):
    controller, inbox = smtp_server
    make_record(store)
    smtp = SmtpSettings(host="127.0.0.1", port=controller.port, sender="bot@example.jp", recipients=("desk@example.jp",))
    first, second = (AlertWorker(store, smtp.recipients, SmtpSender(smtp), "http://d", name=n) for n in ("a", "b"))
    first.store.queue_deliveries(smtp.recipients)
    claimed = first.store.claim_deliveries("a")
    assert second.run_once() == []  # a holds the claim
    assert len(claimed) == 1 and inbox.messages == []


# --- repeat customers ------------------------------------------------------------------------
def test_records_linked_by_a_customer_key_share_a_history(app, store, settings):
    first = make_record(store, started=NOW - timedelta(days=3))
    second = make_record(store, "税務課")
    client = sign_in(app, "desk")
    token = csrf(client)
    client.post(f"/records/{first}/customer", data={"csrf_token": token, "customer_key": "山田 太郎 090-1111-2222"})
    client.post(f"/records/{second}/customer", data={"csrf_token": token, "customer_key": "  山田　太郎 ０９０-1111-2222 "})
    record = store.record(second)
    assert record["customer_records"] == [first, second]
    history = client.get(f"/customers/{record['customer_key_id']}").text
    assert f'data-record-id="{first}"' in history and f'data-record-id="{second}"' in history
    assert "090-1111-2222" not in client.get(f"/records/{second}").text
    with store._session() as s:
        stored = list(s.execute(select(CustomerKey.key_hash)).scalars())
    assert len(stored) == 1 and "山田" not in stored[0] and len(stored[0]) == 64
    found = client.post("/customers/search", data={"csrf_token": token, "customer_key": "山田 太郎 090-1111-2222"})
    assert found.status_code == 302
    assert sign_in(app, "boss").get(f"/customers/{record['customer_key_id']}").status_code == 403


# --- trends, report ----------------------------------------------------------------------------
def test_trend_charts_are_png(app, store):
    make_record(store, types=["verbal_abuse"], elapsed_minutes=45)
    client = sign_in(app, "desk")
    page = client.get("/trends").text
    assert page.count("<img") == 9 and "月別の件数" in page
    for index in range(9):
        chart = client.get(f"/trends/{index}.png")
        assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
    assert client.get("/trends/9.png").status_code == 404


def test_the_monthly_report_counts_the_month_and_masks_examples(app, store):
    make_record(store, demand=f"{PHONE}に折り返せ")
    make_record(store, started=datetime(2026, 10, 5, tzinfo=timezone.utc))
    page = sign_in(app, "desk").get("/report?month=2026-11").text
    assert re.search(r'id="report-total">1<', page)
    assert "[電話番号]に折り返せ" in page and PHONE not in page
    assert sign_in(app, "desk").get("/report?month=11月").status_code == 400


# --- retention and admin -----------------------------------------------------------------------
def test_retention_and_purge_are_audited(app, store, clock):
    old = make_record(store, started=NOW - timedelta(days=400))
    store.link_customer(old, "常連の方", b"secret", "desk")
    recent = make_record(store)
    client = sign_in(app, "admin")
    token = csrf(client)
    assert client.post("/admin/retention", data={"csrf_token": token, "days": "0"}).status_code == 400
    client.post("/admin/retention", data={"csrf_token": token, "days": "365"})
    assert store.retention_days(1095) == 365
    response = client.post("/admin/purge", data={"csrf_token": token})
    assert "1 件の記録と、その会話履歴 0 件を削除しました" in client.get(response.headers["Location"]).text
    assert [r["id"] for r in store.records.list()] == [recent]
    entries = {e["action"]: e["detail"] for e in store.audit_entries()}
    assert entries["records.purge"] == "days=365 deleted=1 conversations=0 unrecorded=0 events=0 snapshots=0 references=0"
    assert entries["retention.set"] == "days=365"
    assert "records.purge" in client.get("/admin/audit").text


def test_admin_creates_users_with_roles(app, store):
    client = sign_in(app, "admin")
    token = csrf(client)
    client.post("/admin/users", data={"csrf_token": token, "username": "kacho", "display_name": "課長",
                                      "password": PASSWORD, "role": "supervisor", "department": "福祉課"})
    assert ("kacho", "supervisor", "福祉課") in [(u["username"], u["role"].value, u["department"]) for u in store.users()]
    refused = client.post("/admin/users", data={"csrf_token": token, "username": "x", "display_name": "x",
                                                "password": "short", "role": "desk"})
    assert refused.status_code == 400 and "12文字以上" in refused.text
    sign_in(app, "kacho")


def run_cli(database_url: str, tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    endpoints = tmp_path / "endpoints.yml"
    env = {"DATABASE_URL": database_url, "DESK_SECRET_FILE": str(tmp_path / "secret"), "USER": "operator",
           "ENDPOINTS_FILE": str(endpoints if endpoints.exists() else tracker_endpoints(tmp_path)),
           "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "bot.desk", *args], input=stdin, capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, timeout=120)


def test_the_first_admin_and_the_purge_from_the_command_line(database_url, tmp_path, store, clock):
    result = run_cli(database_url, tmp_path, "create-admin", "--username", "chief", "--name", "窓口長",
                     "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "chief" in [u["username"] for u in store.users()]
    assert run_cli(database_url, tmp_path, "create-admin", "--username", "chief", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 2
    store.records.start("old", "rest", started_at=datetime.now(timezone.utc) - timedelta(days=2000))
    preview = run_cli(database_url, tmp_path, "purge", "--dry-run")
    assert "記録は 1 件、その会話履歴" in preview.stdout and len(store.records.list()) == 1
    purged = run_cli(database_url, tmp_path, "purge")
    assert purged.returncode == 0 and "記録を 1 件、その会話履歴" in purged.stdout
    assert store.records.list() == []
    assert ("operator", "records.purge", None) in audit_actions(store)


@pytest.mark.parametrize("target, location", [
    ("/records?verdict=criminal", "/records?verdict=criminal"),
    ("//evil.example/", "/"), ("/\\evil.example/", "/"), ("https://evil.example/", "/"),
])
def test_after_sign_in_only_a_page_of_the_desk_is_opened(app, store, target, location):
    client = app.test_client()
    response = client.post("/login", query_string={"next": target},
                           data={"csrf_token": login_token(client), "username": "desk", "password": PASSWORD})
    assert response.headers["Location"] == location
