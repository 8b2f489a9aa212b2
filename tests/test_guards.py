"""bot/rasa/guards.py against Rasa's own code: RemoteAction and ActionExtractSlots calling a stalled,
failing or absent stand-in action server on loopback, and Rasa's real HTTP API route for reminders."""
from __future__ import annotations

import asyncio
import inspect
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import rasa
import rasa.server
from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import ActionExecutionRejection, ActionExtractSlots, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.rasa import guards
from bot.rasa.guards import ACTION_SERVER_UNAVAILABLE, SUPPORTED_RASA_VERSIONS
from bot.settings import PROJECT_ROOT
from bot.timer_service import RasaTrigger
from bot.timers import ReminderKind
from tests.channel_stand_ins import run
from tests.test_channel_push import RasaServer

SECRET = "guard-test-secret"
TIMEOUT = 0.5
DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture
def guarded():
    """The guards installed for one test, Rasa as it was afterwards."""
    run_before, timeout_before, create_app_before = RemoteAction.run, rasa_action.DEFAULT_REQUEST_TIMEOUT, rasa.server.create_app
    guards.guard_remote_actions(TIMEOUT, SECRET)
    guards.decode_conversation_ids_in_api_paths()
    yield
    RemoteAction.run, rasa_action.DEFAULT_REQUEST_TIMEOUT, rasa.server.create_app = run_before, timeout_before, create_app_before


class StandInActionServer:
    """Answers POST /webhook after `delay` seconds (None: never) with `status` and `body`; with
    `keep_alive`, over HTTP/1.1 connections it keeps open."""

    def __init__(self, delay: float | None = 0, status: int = 200, body: dict | None = None, keep_alive: bool = False) -> None:
        self.requests: list[dict] = []
        stand_in = self
        self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self):  # noqa: N802
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.requests.append(
                    {"headers": dict(self.headers), "action": payload["next_action"], "client": self.client_address}
                )
                if delay is None:
                    stand_in.release.wait(30)
                    return
                time.sleep(delay)
                reply = json.dumps(body or {"events": [], "responses": []}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

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


@pytest.fixture
def stalled():
    server = StandInActionServer(delay=None)
    yield server
    server.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/webhook"


def turn(text: str = "窓口で1時間も怒鳴られています", intent: str = "report_incident") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "employee-1",
        [ActionExecuted("action_listen"), UserUttered(text, intent={"name": intent, "confidence": 0.99})],
        slots=DOMAIN.slots,
    )


def run_remote(name: str, url: str, tracker: DialogueStateTracker, limit: float = 20.0):
    """RemoteAction.run as the processor calls it; fails (instead of hanging 5 minutes) past `limit`."""
    action = RemoteAction(name, EndpointConfig(url))
    coroutine = action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(DOMAIN.responses), tracker, DOMAIN)
    started = time.monotonic()
    events = run(asyncio.wait_for(coroutine, limit))
    return events, time.monotonic() - started


def test_a_stalled_action_server_gives_the_safety_message_within_the_timeout(guarded, stalled):
    events, took = run_remote("action_triage", stalled.url, turn())
    assert events == [BotUttered(ACTION_SERVER_UNAVAILABLE)]
    assert "110番" in ACTION_SERVER_UNAVAILABLE and "身の危険" in ACTION_SERVER_UNAVAILABLE
    assert took < TIMEOUT + 5
    assert stalled.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_after_one_failure_the_rest_of_the_turn_does_not_wait_again(guarded, stalled):
    tracker = turn()
    events, _ = run_remote("action_triage", stalled.url, tracker)
    tracker.update_with_events(events, DOMAIN)
    again, took = run_remote("validate_consultation_form", stalled.url, tracker)
    assert again == [] and len(stalled.requests) == 1 and took < TIMEOUT
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("電話です", intent={"name": "inform", "confidence": 0.99}))
    next_turn, _ = run_remote("action_triage", stalled.url, tracker)  # a new message: try again
    assert next_turn == [BotUttered(ACTION_SERVER_UNAVAILABLE)] and len(stalled.requests) == 2


def test_the_action_calls_of_one_event_loop_share_a_connection_kept_open(guarded):
    guards.keep_action_connections_alive()
    server = StandInActionServer(keep_alive=True)
    endpoint = EndpointConfig(server.url)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)

    async def one_turn():
        tracker = turn()
        for name in ("action_validate_slot_mappings", "validate_consultation_form"):
            assert await RemoteAction(name, endpoint).run(CollectingOutputChannel(), nlg, tracker, DOMAIN) == []

    try:
        run(one_turn())
    finally:
        server.close()
    assert [r["action"] for r in server.requests] == ["action_validate_slot_mappings", "validate_consultation_form"]
    assert server.requests[0]["client"] == server.requests[1]["client"]  # the same TCP connection
    assert server.requests[1]["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_an_absent_or_failing_action_server_gives_the_safety_message(guarded):
    events, _ = run_remote("action_triage", closed_port_url(), turn())
    assert events == [BotUttered(ACTION_SERVER_UNAVAILABLE)]
    failing = StandInActionServer(status=500, body={"error": "database is locked"})
    try:
        events, _ = run_remote("action_assess", failing.url, turn())
    finally:
        failing.close()
    assert events == [BotUttered(ACTION_SERVER_UNAVAILABLE)]


def test_a_working_action_server_is_untouched(guarded):
    reply = {"events": [{"event": "slot", "name": "stage", "value": "start"}],
             "responses": [{"text": "カスハラ対応をお手伝いします。"}]}
    server = StandInActionServer(body=reply)
    try:
        events, _ = run_remote("action_triage", server.url, turn())
    finally:
        server.close()
    assert [type(e) for e in events] == [BotUttered, SlotSet]
    assert events[0].text == "カスハラ対応をお手伝いします。"


def test_a_rejection_still_reaches_rasas_form_logic(guarded):
    server = StandInActionServer(status=400, body={"action_name": "validate_consultation_form", "error": "no"})
    try:
        with pytest.raises(ActionExecutionRejection):
            run_remote("validate_consultation_form", server.url, turn())
    finally:
        server.close()


def test_slot_validation_stalling_answers_instead_of_failing_the_request(guarded, stalled):
    """Rasa runs action_validate_slot_mappings inside action_extract_slots; a timeout there is not
    caught by Rasa (it failed the whole request with a 500). Now the employee gets the message."""
    extract = ActionExtractSlots(EndpointConfig(stalled.url))
    coroutine = extract.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(DOMAIN.responses), turn(), DOMAIN)
    events = run(asyncio.wait_for(coroutine, 20))
    assert BotUttered(ACTION_SERVER_UNAVAILABLE) in events
    assert stalled.requests[0]["action"] == "action_validate_slot_mappings"


def test_reminders_reach_conversations_whose_ids_need_encoding(guarded):
    ids = ["社員/山田", "29:1abc", "a b?c#d&e=f", "100%", "%41-literal", "😀", "..", "x/../y"]

    async def scenario():
        async with RasaServer([]) as server:
            trigger = RasaTrigger(server.base_url)
            return server.agent, [await asyncio.to_thread(trigger, cid, ReminderKind.NEAR) for cid in ids]

    agent, results = run(scenario())
    assert [r.detail for r in results if not r.ok] == []
    assert [t[0] for t in agent.triggered] == ids


def test_a_path_that_is_not_utf8_is_refused(guarded):
    from tests.channel_stand_ins import post

    async def scenario():
        async with RasaServer([]) as server:
            return await post(f"{server.base_url}/conversations/%FF%FE/trigger_intent", {"name": "ask_time_limit"}), server.agent

    (status, body, _), agent = run(scenario())
    assert status == 400 and "UTF-8" in body["message"] and agent.triggered == []


# --- the Rasa internals the guards rely on ---------------------------------------------------------


def test_the_installed_rasa_is_one_the_guards_were_checked_against():
    assert rasa.__version__ in SUPPORTED_RASA_VERSIONS


def test_rasa_still_passes_the_module_timeout_on_each_action_call():
    source = inspect.getsource(getattr(RemoteAction.run, "unguarded", RemoteAction.run))
    assert "timeout=DEFAULT_REQUEST_TIMEOUT" in source
    assert list(inspect.signature(RemoteAction.run).parameters) == ["self", "output_channel", "nlg", "tracker", "domain"]
    assert "except (RasaException, ClientResponseError)" in inspect.getsource(ActionExtractSlots._run_custom_action)


def test_another_rasa_version_is_refused(monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(guards.UnsupportedRasaVersion, match="3.7.0"):
        guards.install()
