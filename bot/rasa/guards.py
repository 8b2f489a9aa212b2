"""The Rasa server's side of the action server, and the conversation ids in HTTP API paths.

`install()` (called by `python -m bot.rasa.server`) patches Rasa 3.6.21 so that:

- every action call carries the action server's secret (``Authorization: Bearer …``,
  bot.settings.action_server_token; bot/rasa/action_server.py refuses calls without it);
- an action call gives up after ACTION_TIMEOUT_SECONDS (10 s) instead of Rasa's 5 minutes;
- when the action server cannot be reached, stalls, or fails, the employee gets
  ACTION_SERVER_UNAVAILABLE — with the safety hint — on whatever channel they use, once per turn;
  the other actions of that turn are not attempted (each would wait out the timeout again). Rasa
  itself would answer nothing (or, when slot validation times out, fail the request with a 500);
- action calls share one aiohttp session per event loop and keep their connections open (see
  `keep_action_connections_alive`), instead of a new session and TCP connection per call;
- conversation ids in HTTP API paths (`/conversations/<id>/…`) are percent-decoded. Sanic 21.12
  does not decode path parameters, and its parser refuses raw UTF-8 in a path, so without this a
  conversation whose id has non-ASCII characters or "/" cannot be addressed at all (a reminder
  for it went to the percent-encoded id).

The patches rely on Rasa internals; SUPPORTED_RASA_VERSIONS names the versions they were checked
against (tests/test_guards.py fails when Rasa changes under them).
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, List
from urllib.parse import unquote

import aiohttp
import rasa
import rasa.server
from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.exceptions import RasaException
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings
from bot.rasa.action_server import authorization_header

SUPPORTED_RASA_VERSIONS = ("3.6.21",)

ACTION_SERVER_UNAVAILABLE = (
    "ただいまシステムの一部が応答できません。"
    "身の危険があれば、相手から離れて安全な場所へ移り、110番してください。"
    "急ぐときは、上司に直接連絡してください。少し時間をおいて、もう一度送ってください。"
)
CONVERSATION_ID = "conversation_id"
# A pooled connection to the action server is not reused after this long idle: sooner than the
# action server (Sanic's KEEP_ALIVE_TIMEOUT, 5 s) closes it, so no call goes out on a closing one.
KEEP_ALIVE_SECONDS = 2.0

log = logging.getLogger("bot.rasa.guards")


class UnsupportedRasaVersion(RuntimeError):
    """The installed Rasa is not one these patches were checked against."""


def install() -> None:
    """All of the above, with the settings (ACTION_TIMEOUT_SECONDS, the action server's secret)."""
    if rasa.__version__ not in SUPPORTED_RASA_VERSIONS:
        raise UnsupportedRasaVersion(
            f"bot/rasa/guards.py was checked against Rasa {', '.join(SUPPORTED_RASA_VERSIONS)}, "
            f"not {rasa.__version__}: check RemoteAction.run and rasa.server.create_app, then add it"
        )
    guard_remote_actions(settings.action_timeout_seconds(), settings.action_server_token())
    keep_action_connections_alive()
    decode_conversation_ids_in_api_paths()


def failed_this_turn(tracker: Any) -> bool:
    """Whether the employee has already been told, since their last message, that the action server is down."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.text == ACTION_SERVER_UNAVAILABLE:
            return True
    return False


def guard_remote_actions(timeout_seconds: float, token: str | None) -> None:
    # RemoteAction.run passes this module global as the request timeout on each call.
    rasa_action.DEFAULT_REQUEST_TIMEOUT = timeout_seconds
    run_remotely = getattr(RemoteAction.run, "unguarded", RemoteAction.run)

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        if failed_this_turn(tracker):
            return []
        if token and self.action_endpoint is not None:
            self.action_endpoint.headers = {**self.action_endpoint.headers, **authorization_header(token)}
        try:
            return await run_remotely(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise  # the action declined (a form's validation): Rasa's normal flow
        except (asyncio.TimeoutError, RasaException) as error:
            log.error(
                "action server unavailable for %s in conversation %s (%s: %s); told the employee",
                self.name(), tracker.sender_id, type(error).__name__, str(error) or f"no reply within {timeout_seconds:g} s",
            )
            return [BotUttered(ACTION_SERVER_UNAVAILABLE)]

    run.unguarded = run_remotely  # type: ignore[attr-defined]
    RemoteAction.run = run


class _Borrowed:
    """`async with` a shared session without closing it afterwards (EndpointConfig.request does)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def keep_action_connections_alive() -> None:
    """Rasa's EndpointConfig.request opens a new aiohttp session — a new TCP connection, and a new
    connection for the action server to accept — for every action call, and closes it after (two
    or three calls per turn). The action endpoint's calls share one session per event loop instead,
    with the same request (headers, timeout, body); an endpoint with basic auth (set on the
    session) keeps Rasa's own."""
    sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def shared_session() -> _Borrowed:
        loop = asyncio.get_running_loop()
        session = sessions.get(loop)
        if session is None or session.closed:
            session = sessions[loop] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS)
            )
        return _Borrowed(session)

    run_guarded = getattr(RemoteAction.run, "sharing_connections", RemoteAction.run)

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        if self.action_endpoint is not None and not self.action_endpoint.basic_auth:
            self.action_endpoint.session = shared_session  # type: ignore[method-assign]
        return await run_guarded(self, output_channel, nlg, tracker, domain)

    run.sharing_connections = run_guarded  # type: ignore[attr-defined]
    run.unguarded = getattr(run_guarded, "unguarded", run_guarded)  # type: ignore[attr-defined]
    RemoteAction.run = run


def decode_conversation_ids_in_api_paths() -> None:
    create_app = getattr(rasa.server.create_app, "undecoded", rasa.server.create_app)

    def create_app_decoding_conversation_ids(*args: Any, **kwargs: Any) -> Sanic:
        app = create_app(*args, **kwargs)

        @app.on_request
        async def decode_conversation_id(request: Request) -> HTTPResponse | None:
            encoded = (request.match_info or {}).get(CONVERSATION_ID)
            if encoded is None:
                return None
            try:
                decoded = unquote(encoded, errors="strict")
            except UnicodeDecodeError:
                return response.json(
                    {"status": "failure", "reason": "BadRequest", "code": 400,
                     "message": "conversation id in the path is not percent-encoded UTF-8"},
                    status=400,
                )
            request.match_info = {**request.match_info, CONVERSATION_ID: decoded}
            return None

        return app

    create_app_decoding_conversation_ids.undecoded = create_app  # type: ignore[attr-defined]
    rasa.server.create_app = create_app_decoding_conversation_ids
