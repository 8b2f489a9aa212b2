"""An action-server outage end to end: the trained model in Rasa's own processor, the real action
server (python -m bot.rasa.action_server) behind a loopback stand-in that can stall or delay calls.

- the employee gets the safety message within the timeout, on the web chat (Rasa's socket.io
  output) as on REST, instead of minutes of silence;
- a call Rasa gave up on that still ran later leaves no second record and no second message;
- the first turn after the outage records what the missed turn said.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bot.nlu_evaluation import newest_model
from bot.rasa import guards, server
from bot.rasa.guards import ACTION_SERVER_UNAVAILABLE
from bot.records import ConsultationStore
from bot.settings import PROJECT_ROOT
from tests.test_action_server import free_port

SECRET = "outage-test-secret"
TIMEOUT = 1.0
FIRST = "窓口で1時間も怒鳴られています"
SECOND = "土下座しろと言われました"


class ActionServerFront:
    """Forwards action calls to `target`; mode "stall" never answers, "late" forwards only after
    Rasa has given up (and then answers nobody), "pass" forwards at once."""

    def __init__(self, target: str) -> None:
        self.mode = "pass"
        self.forwarded_late = threading.Event()
        self.release = threading.Event()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                mode = front.mode
                if mode == "stall":
                    front.release.wait(30)
                    return
                if mode == "late":
                    time.sleep(TIMEOUT + 1)
                forward = urllib.request.Request(target, data=body, method="POST", headers={
                    "Content-Type": "application/json", "Authorization": self.headers.get("Authorization", "")})
                with urllib.request.urlopen(forward, timeout=30) as reply:
                    status, payload = reply.status, reply.read()
                if mode == "late":
                    front.forwarded_late.set()
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("outage")
    port = free_port()
    database_url = f"sqlite:///{tmp / 'records.db'}"
    env = {**os.environ, "ACTION_SERVER_TOKEN": SECRET, "DATABASE_URL": database_url}
    log = open(tmp / "actions.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "bot.rasa.action_server", "--port", str(port)],
                               cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("action server did not start")
        front = ActionServerFront(f"http://127.0.0.1:{port}/webhook")
        store = ConsultationStore(database_url)
        yield front, store
        store.dispose()
        front.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def agent(action_server):
    from rasa.core.actions import action as rasa_action
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.tensorflow.models import RasaModel

    model = newest_model("models")
    if model is None:
        pytest.fail("no trained model in models/: run make train", pytrace=False)
    # the classmethod itself: `RasaModel.load` would be bound to RasaModel, not to its subclasses
    saved = RemoteAction.run, rasa_action.DEFAULT_REQUEST_TIMEOUT, RasaModel.__dict__["load"]
    server.load_tensorflow_models_for_prediction()
    guards.guard_remote_actions(TIMEOUT, SECRET)
    front, _ = action_server
    try:
        yield Agent.load(model, action_endpoint=EndpointConfig(front.url))
    finally:
        RemoteAction.run, rasa_action.DEFAULT_REQUEST_TIMEOUT, RasaModel.load = saved


class WebChatSocket:
    """What Rasa's socket.io output channel emits to the page (python-socketio's AsyncServer.emit)."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, dict, str]] = []

    async def emit(self, event: str, data: dict, room: str) -> None:
        self.emitted.append((event, data, room))


def say(agent, sender: str, text: str, output_channel) -> float:
    from rasa.core.channels.channel import UserMessage

    started = time.monotonic()
    asyncio.run(asyncio.wait_for(agent.handle_message(UserMessage(text, output_channel, sender)), 60))
    return time.monotonic() - started


def test_a_stall_gives_the_web_chat_the_safety_message_at_once_and_the_record_catches_up(agent, action_server):
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.channels.socketio import SocketIOOutput

    front, store = action_server
    socket = WebChatSocket()
    front.mode = "stall"
    took = say(agent, "webchat-sid-1", FIRST, SocketIOOutput(socket, "bot_uttered"))
    assert socket.emitted == [("bot_uttered", {"text": ACTION_SERVER_UNAVAILABLE}, "webchat-sid-1")]
    assert took < TIMEOUT + 10  # one timeout, not one per action (and not 5 minutes)
    assert store.latest_open("webchat-sid-1") is None

    front.mode = "pass"
    rest = CollectingOutputChannel()
    say(agent, "webchat-sid-1", SECOND, rest)
    assert rest.messages and all(m.get("text") != ACTION_SERVER_UNAVAILABLE for m in rest.messages)
    record = store.get(store.latest_open("webchat-sid-1"))
    assert [m["text"] for m in record["messages"]] == [FIRST, SECOND]
    assert record["elapsed_minutes"] == 60  # from the missed message


def test_a_call_rasa_gave_up_on_but_that_ran_later_leaves_no_duplicate(agent, action_server):
    from rasa.core.channels.channel import CollectingOutputChannel

    front, store = action_server
    rest = CollectingOutputChannel()
    front.mode = "late"
    say(agent, "rest-employee-2", FIRST, rest)
    assert [m["text"] for m in rest.messages] == [ACTION_SERVER_UNAVAILABLE]
    assert front.forwarded_late.wait(20)  # ... and the action server ran it after all
    ghost = store.latest_open("rest-employee-2")
    assert ghost is not None

    front.mode = "pass"
    say(agent, "rest-employee-2", SECOND, CollectingOutputChannel())
    records = [r for r in store.list(limit=None) if r["conversation_id"] == "rest-employee-2"]
    assert [r["id"] for r in records] == [ghost]
    assert [m["text"] for m in records[0]["messages"]] == [FIRST, SECOND]
