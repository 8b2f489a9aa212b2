"""End to end: the REAL Rasa server (`python -m bot.rasa.server run`, as scripts/run.sh starts it)
with the trained model, a SQLite tracker store in tmp_path, on a free loopback port. The requests
that killed it (a lone surrogate sender, a NUL message) and the HTTP API's protections, then the
process must still be alive and answer. No action server: custom actions fail and Rasa goes on."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "consultation.tar.gz"
TOKEN = "real-server-test-token"
START_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def rasa_server(tmp_path_factory):
    if not MODEL.is_file():
        pytest.fail("no trained model in models/: run make train", pytrace=False)
    work = tmp_path_factory.mktemp("real_server")
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{free_port()}/webhook\n"
        "tracker_store:\n  type: bot.rasa.tracker_store.SlotHandoverSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {work / 'tracker.db'}\n",
        encoding="utf-8",
    )
    port = free_port()
    env = {
        **os.environ, "RASA_AUTH_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{work / 'records.db'}",
        "WEBCHAT_SESSION_SECRET": "real-server-test-secret", "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    env.pop("REST_CHANNEL_TOKEN", None)
    env.pop("RASA_ALLOWED_HOSTS", None)
    log = (work / "rasa.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.rasa.server", "run", "--model", str(MODEL), "--endpoints", str(endpoints),
         "--credentials", "credentials.yml", "--port", str(port), "--interface", "127.0.0.1", "--enable-api"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the Rasa server exited at start:\n{(work / 'rasa.log').read_text()[-3000:]}")
            try:
                if requests.get(f"{base}/webhooks/rest/", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the Rasa server did not start in {START_TIMEOUT_S} s")
            time.sleep(1)
        yield process, base, work / "rasa.log"
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def rest(base: str, raw: bytes, **headers) -> requests.Response:
    return requests.post(f"{base}/webhooks/rest/webhook", data=raw,
                         headers={"Content-Type": "application/json", **headers}, timeout=120)


def test_the_requests_that_killed_the_server_get_clear_answers_and_it_lives(rasa_server):
    process, base, log = rasa_server
    surrogate_sender = rest(base, b'{"sender": "\\udfff", "message": "\\u7a93\\u53e3\\u3067\\u3059"}')
    assert (surrogate_sender.status_code, surrogate_sender.json()["error"]) == (400, "invalid_sender")
    surrogate_message = rest(base, b'{"sender": "employee-e2e", "message": "\\udfff"}')
    assert (surrogate_message.status_code, surrogate_message.json()["error"]) == (400, "invalid_characters")
    nul = rest(base, json.dumps({"sender": "employee-e2e", "message": "窓口で\u0000怒鳴られています"}).encode())
    assert nul.status_code == 200, nul.text
    assert process.poll() is None, log.read_text()[-3000:]

    answer = rest(base, json.dumps({"sender": "employee-e2e", "message": "こんにちは"}).encode())
    assert answer.status_code == 200 and isinstance(answer.json(), list)
    assert process.poll() is None

    tracker = requests.get(f"{base}/conversations/employee-e2e/tracker", params={"token": TOKEN}, timeout=30).json()
    texts = [event.get("text") for event in tracker["events"] if event["event"] == "user"]
    assert "窓口で怒鳴られています" in texts  # stored without the NUL
    assert not any("\x00" in (text or "") for text in texts)


def test_the_http_api_needs_the_token_json_and_a_local_host(rasa_server):
    process, base, _ = rasa_server
    tracker = f"{base}/conversations/employee-e2e/tracker"
    assert requests.get(tracker, timeout=30).status_code == 401
    assert requests.get(tracker, params={"token": "wrong"}, timeout=30).status_code == 401
    assert requests.get(tracker, params={"token": TOKEN}, timeout=30).status_code == 200
    rebound = requests.get(tracker, params={"token": TOKEN}, headers={"Host": "evil.example"}, timeout=30)
    assert (rebound.status_code, rebound.json()["error"]) == (400, "host_not_allowed")
    as_text = requests.post(f"{base}/conversations/employee-e2e/trigger_intent", params={"token": TOKEN},
                            data='{"name": "greet"}', headers={"Content-Type": "text/plain"}, timeout=30)
    assert (as_text.status_code, as_text.json()["error"]) == (415, "unsupported_media_type")
    events = requests.post(f"{base}/conversations/employee-e2e/tracker/events", timeout=30,
                           json={"event": "slot", "name": "consultation_id", "value": 1})
    assert events.status_code == 401  # nobody appends to another conversation without the token
    assert process.poll() is None


def test_readiness_follows_the_action_server(rasa_server):
    """The real agent's action endpoint and wrapped tracker store: not ready while nothing answers
    the endpoints file's action URL, ready once a stand-in /health does (tests/test_readiness.py)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    import yaml

    process, base, log = rasa_server
    action_url = yaml.safe_load((log.parent / "endpoints.yml").read_text(encoding="utf-8"))["action_endpoint"]["url"]
    down = requests.get(f"{base}/webhooks/rest/ready", timeout=30)
    assert down.status_code == 503, down.text
    assert down.json()["failing"] == ["action_server"]
    assert down.json()["checks"] == {"action_server": "unavailable", "tracker_store": "ok", "lock_store": "ok", "model": "ok"}
    assert requests.get(f"{base}/webhooks/rest/", timeout=30).json() == {"status": "ok"}  # liveness unchanged

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}')

        def log_message(self, *args):
            pass

    stand_in = ThreadingHTTPServer(("127.0.0.1", urlsplit(action_url).port), Health)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    try:
        up = requests.get(f"{base}/webhooks/rest/ready", timeout=30)
    finally:
        stand_in.shutdown()
        stand_in.server_close()
    assert up.status_code == 200, up.text
    assert up.json() == {"status": "ready", "checks": {"action_server": "ok", "tracker_store": "ok", "lock_store": "ok", "model": "ok"}}
    assert process.poll() is None
