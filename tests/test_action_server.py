"""`python -m bot.rasa.action_server` in a subprocess on a free loopback port: a forged /webhook
request without the secret gets 401 and reads or writes nothing; with it, the actions run."""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from bot import settings
from bot.records import ConsultationStore
from bot.settings import PROJECT_ROOT
from tests.trackers import make_tracker

SECRET = "test-secret-" + "x" * 20
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("actions")
    port = free_port()
    database_url = f"sqlite:///{tmp / 'records.db'}"
    env = {**os.environ, "ACTION_SERVER_TOKEN": SECRET, "DATABASE_URL": database_url}
    env.pop("SANIC_HOST", None)
    log = open(tmp / "actions.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "bot.rasa.action_server", "--port", str(port)],
                               cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("action server did not start:\n" + (tmp / "actions.log").read_text())
            time.sleep(0.2)
        store = ConsultationStore(database_url)
        yield url, port, store, process
        store.dispose()
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def action_call(action: str, tracker) -> dict:
    state = tracker.current_state()
    state["followup_action"] = None
    return {"next_action": action, "sender_id": tracker.sender_id, "tracker": state, "domain": DOMAIN,
            "version": "3.6.21"}


def report(sender: str):
    return make_tracker("窓口で1時間も怒鳴られています", intent="report_incident", sender_id=sender)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-secret", SECRET, f"Basic {SECRET}", "Bearer "])
def test_a_forged_call_without_the_secret_is_refused_and_writes_nothing(action_server, authorization):
    url, _, store, _ = action_server
    sender = f"forger-{abs(hash(authorization))}"
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.post(f"{url}/webhook", json=action_call("action_validate_slot_mappings", report(sender)),
                             headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert store.latest_open(sender) is None


def test_a_forged_call_cannot_read_a_record(action_server):
    url, _, store, _ = action_server
    record_id = store.start("someone-else", "rest")
    store.record_turn(record_id, "山田様に怒鳴られています", demand="返金しろ")
    tracker = make_tracker("記録を見せて", intent="show_record", slots={"consultation_id": record_id})
    response = requests.post(f"{url}/webhook", json=action_call("action_show_record", tracker), timeout=10)
    assert response.status_code == 401 and "返金" not in response.text
    listing = requests.get(f"{url}/actions", timeout=10)
    assert listing.status_code == 401


def test_with_the_secret_the_actions_run(action_server):
    url, _, store, _ = action_server
    response = requests.post(f"{url}/webhook", json=action_call("action_validate_slot_mappings", report("employee-ok")),
                             headers={"Authorization": f"Bearer {SECRET}"}, timeout=10)
    assert response.status_code == 200
    slots = {e["name"]: e["value"] for e in response.json()["events"] if e["event"] == "slot"}
    record = store.get(slots["consultation_id"])
    assert record["conversation_id"] == "employee-ok"
    assert [m["text"] for m in record["messages"]] == ["窓口で1時間も怒鳴られています"]


def test_it_listens_on_loopback_only(action_server):
    _, port, _, _ = action_server
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, not 0.0.0.0


def test_the_secret_is_generated_once_private_and_shared(tmp_path, monkeypatch):
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    file = tmp_path / "var" / "action_server.token"
    first = settings.action_server_token(file)
    assert len(first) >= 32 and stat.S_IMODE(file.stat().st_mode) == 0o600
    assert settings.action_server_token(file) == first
    assert list(file.parent.iterdir()) == [file]  # no draft left behind
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "from-the-environment")
    assert settings.action_server_token(file) == "from-the-environment"


def test_the_secret_file_is_ignored_by_git():
    result = subprocess.run(["git", "check-ignore", "-q", "var/action_server.token"], cwd=PROJECT_ROOT)
    assert result.returncode == 0


def test_an_empty_secret_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    file = tmp_path / "action_server.token"
    file.write_text("\n")
    with pytest.raises(settings.SettingsError, match="empty"):
        settings.action_server_token(file)


def test_the_host_defaults_to_loopback(monkeypatch):
    monkeypatch.delenv("SANIC_HOST", raising=False)
    assert settings.action_server_host() == "127.0.0.1"
    monkeypatch.setenv("SANIC_HOST", "0.0.0.0")
    assert settings.action_server_host() == "0.0.0.0"


def test_the_action_timeout_is_short_by_default_and_checked(monkeypatch):
    monkeypatch.delenv("ACTION_TIMEOUT_SECONDS", raising=False)
    assert settings.action_timeout_seconds() == 10.0
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "2.5")
    assert settings.action_timeout_seconds() == 2.5
    for bad in ("0", "-1", "ten", "nan"):
        monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", bad)
        with pytest.raises(settings.SettingsError, match="ACTION_TIMEOUT_SECONDS"):
            settings.action_timeout_seconds()
