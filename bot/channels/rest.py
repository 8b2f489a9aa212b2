"""The REST channel, protected: POST /webhooks/rest/webhook.

Rasa's own REST channel is not covered by `--auth-token`/JWT (those guard the HTTP API
only), accepts any body and answers 200 even when the turn failed. This one keeps the
name and URL of Rasa's ("rest") and adds:

- a bearer token (credentials `token:`, else the environment variable REST_CHANNEL_TOKEN);
  without either, the channel is open, which is the local default (`make run` listens on
  127.0.0.1 only);
- validation of the body before anything reaches the bot: application/json only (415), at most
  MAX_BODY_BYTES (413), the text rules of bot/text_input.py (400 with a JSON error);
- `custom.kasuhara` in every reply (bot/channels/payload.py), read from the tracker after the turn;
- JSON errors only, never a stack trace;
- GET /webhooks/rest/ready, readiness for a load balancer (bot/channels/readiness.py): 200 only
  when the action server and the tracker store's database answer, else 503 naming the failing
  part by its code. GET /webhooks/rest/ stays the liveness check ({"status": "ok"}).
"""
from __future__ import annotations

import hmac
import inspect
import json
import logging
import os
import re
import time
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.payload import reply_metadata, with_metadata
from bot.channels.readiness import Readiness
from bot.rasa.tracker_store import TrackerStoreError
from bot.settings import OrganizationSettings, load_organization
from bot.text_input import InputError, UserInput, checked_input, is_json_content_type

logger = logging.getLogger(__name__)

TOKEN_ENV = "REST_CHANNEL_TOKEN"
MAX_BODY_BYTES = 96 * 1024  # the largest valid message and metadata, JSON-escaped, fit (a test checks)
_BEARER = re.compile(r"^Bearer[ \t]+(\S+)[ \t]*$", re.IGNORECASE)


def _slot_handover(tracker_store: Any) -> Optional[Callable[[Text], Optional[Dict[Text, Any]]]]:
    """`take_saved_slots` of a bot.rasa.tracker_store store, looked for through the wrappers the agent
    puts around it (FailSafeTrackerStore, AwaitableTrackerStore keep the wrapped store in
    `_tracker_store`); None for any other store."""
    for _ in range(3):
        take_saved_slots = getattr(tracker_store, "take_saved_slots", None)
        if take_saved_slots is not None:
            return take_saved_slots
        tracker_store = getattr(tracker_store, "_tracker_store", None)
    return None


class ReplyCollector(CollectingOutputChannel):
    """Rasa's collector, except that a message with text or buttons and a custom payload (the
    toggles of bot/prompts.py under `custom.data`) stays one reply instead of two."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        if message.get("custom") and (message.get("text") or message.get("buttons")):
            await self._persist_message(
                self._message(
                    recipient_id,
                    text=message.get("text"),
                    buttons=message.get("buttons"),
                    custom=message.get("custom"),
                )
            )
            return
        await super().send_response(recipient_id, message)


class RequestError(Exception):
    """A request the channel refuses: the HTTP status, an error code and a message for the client."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> HTTPResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="rest"'} if self.status == HTTPStatus.UNAUTHORIZED else None
        return response.json({"error": self.code, "message": self.message}, status=self.status, headers=headers)


def parse_body(raw: bytes, content_type: Optional[str] = None) -> UserInput:
    """The request body as a checked message (bot/text_input.py); RequestError (400, 413, 415) when
    it is not one."""
    if not is_json_content_type(content_type):
        raise RequestError(
            415,
            "unsupported_media_type",
            "Content-Type: application/json で送ってください (the body must be sent as application/json, UTF-8)",
        )
    if len(raw) > MAX_BODY_BYTES:
        raise RequestError(
            413,
            "payload_too_large",
            f"本文が大きすぎます (the body must be at most {MAX_BODY_BYTES} bytes, got {len(raw)})",
        )
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestError(
            400, "invalid_json", "本文がJSONとして読めません (the body is not valid UTF-8 JSON)"
        ) from None
    if not isinstance(body, dict):
        raise RequestError(
            400, "invalid_body", "本文はJSONオブジェクトで送ってください (the body must be a JSON object)"
        )
    try:
        return checked_input(body.get("sender"), body.get("message"), body.get("metadata"))
    except InputError as error:
        raise RequestError(400, error.code, error.rest_message()) from None


class ProtectedRestInput(RestInput):
    """Rasa's REST channel with a bearer token, body validation and the kasuhara payload."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        if "token" in credentials and not str(credentials["token"] or "").strip():
            # `token: ${REST_CHANNEL_TOKEN}` with the variable set to "": fail closed, not open
            raise InvalidConfigException(
                "rest channel: `token` is configured but empty; set REST_CHANNEL_TOKEN to a secret value."
            )
        return cls(token=credentials.get("token"))

    def __init__(self, token: Optional[Text] = None, organization: Optional[OrganizationSettings] = None) -> None:
        # Read once, when the Rasa server creates its channels (a broken file stops the start).
        self.organization = organization or load_organization()
        self.readiness = Readiness()
        token = token if token else os.environ.get(TOKEN_ENV)
        self.token: Optional[bytes] = token.strip().encode("utf-8") if token and token.strip() else None
        if self.token is None:
            logger.warning(
                "REST channel without a token: anyone who can reach /webhooks/rest/webhook can talk to "
                f"the bot. Set {TOKEN_ENV} for anything but a local test."
            )

    def check_authorization(self, header: Optional[str]) -> None:
        """Nothing when no token is configured or the bearer token matches; RequestError (401) otherwise."""
        if self.token is None:
            return
        match = _BEARER.match(header or "")
        given = match.group(1).encode("utf-8") if match else b""
        if not match or not hmac.compare_digest(given, self.token):
            raise RequestError(
                401,
                "unauthorized",
                "Authorization: Bearer <token> ヘッダーが必要です (a valid bearer token is required)",
            )

    @staticmethod
    def _tracker_store(request: Request) -> Any:
        return getattr(getattr(request.app.ctx, "agent", None), "tracker_store", None)

    def discard_handed_over_slots(self, request: Request, sender_id: Text) -> None:
        """Before a turn: drop slots an earlier save left for this conversation (a time-box
        reminder's turn, say), so that what is taken after the turn was saved by this turn."""
        take_saved_slots = _slot_handover(self._tracker_store(request))
        if take_saved_slots is not None:
            take_saved_slots(sender_id)

    async def slots_after_turn(self, request: Request, sender_id: Text) -> Mapping[str, Any]:
        """The conversation's slots as the tracker store holds them after the turn ({} if unavailable):
        handed over by the store that has just saved them (bot/rasa/tracker_store.py), else read back."""
        tracker_store = self._tracker_store(request)
        if tracker_store is None:
            logger.warning("No agent/tracker store on the app: the kasuhara payload holds no state.")
            return {}
        take_saved_slots = _slot_handover(tracker_store)
        if take_saved_slots is not None:
            slots = take_saved_slots(sender_id)
            if slots is not None:
                return slots
        tracker = tracker_store.retrieve(sender_id)
        if inspect.isawaitable(tracker):
            tracker = await tracker
        return tracker.current_slot_values() if tracker is not None else {}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        rest_webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @rest_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest_webhook.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            status, body = await self.readiness.check(getattr(request.app.ctx, "agent", None))
            return response.json(body, status=status, headers={"Cache-Control": "no-store"})

        @rest_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                self.check_authorization(request.headers.get("Authorization"))
                if request.args.get("stream", "false").lower() == "true":
                    raise RequestError(
                        400,
                        "stream_not_supported",
                        "stream=true には対応していません (streaming is not supported by this channel)",
                    )
                body = parse_body(request.body or b"", request.headers.get("Content-Type"))
            except RequestError as error:
                return error.response()

            sender_id = body.sender_id
            collector = ReplyCollector()
            self.discard_handed_over_slots(request, sender_id)
            try:
                await on_new_message(
                    UserMessage(
                        body.text,
                        collector,
                        sender_id,
                        input_channel=self.name(),
                        metadata=body.metadata,
                    )
                )
            except Exception:  # noqa: BLE001 - the client gets a JSON error, the log the details
                logger.exception("REST channel: the bot failed to handle a message")
                return response.json(
                    {
                        "error": "internal_error",
                        "message": "メッセージを処理できませんでした。時間をおいて再度お試しください "
                        "(the message could not be handled)",
                    },
                    status=500,
                )

            try:
                slots = await self.slots_after_turn(request, sender_id)
            except TrackerStoreError:
                return RequestError(
                    503,
                    "storage_error",
                    "会話を保存できませんでした。時間をおいて再度お試しください (the conversation could not be stored)",
                ).response()
            except Exception:  # noqa: BLE001 - the turn is done; answer it rather than invite a resend
                logger.exception("REST channel: could not read the tracker after the turn")
                slots = {}
            try:
                metadata = reply_metadata(slots, time.time(), self.organization)
            except Exception:  # noqa: BLE001 - slots a client could not have produced
                logger.exception("REST channel: could not build the kasuhara payload")
                return response.json(
                    {"error": "internal_error", "message": "応答の付加情報を作成できませんでした (internal error)"},
                    status=500,
                )
            return response.json([with_metadata(reply, metadata) for reply in collector.messages])

        return rest_webhook
