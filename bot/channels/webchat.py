"""Rasa's socketio channel for the web chat (bot/web), with signed sessions and an Origin allow-list.

- Sessions: Rasa lets any client name any session id, so it could join another employee's
  conversation (and receive its reminders) or write into it. Here `session_request` and every
  message must carry a token issued by the page server (bot/session_tokens.py) within its lifetime
  (WEBCHAT_SESSION_HOURS); anything else is refused (`session_refused`, and the message never
  reaches the bot; the page then starts a new session).
- Origin: Rasa accepts every Origin (cors_allowed_origins=[]); here engine.io refuses connections
  from pages other than `allowed_origins` (credentials, else WEBCHAT_ALLOWED_ORIGINS, else the
  page server on loopback).
- Input: the text rules of bot/text_input.py; a refused message gets a polite Japanese reply.
- Rooms: Rasa 3.6 calls ``sio.enter_room(sid, session_id)`` without ``await``; since
  python-socketio 5.10 (5.18 here) that is a coroutine, so with ``session_persistence: true``
  neither replies nor pushed messages (trigger_intent with output_channel=latest, as the timer
  service sends) reached the browser (RasaHQ/rasa#13027). Here the room is joined.

The channel name stays "socketio" (used by output_channel=latest).

credentials.yml:  bot.channels.webchat.SocketIOInput: {user_message_evt: user_uttered, ...}
"""
from __future__ import annotations

import inspect
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

from bot.codes import InputProblem
from bot.session_tokens import session_of
from bot.settings import webchat_settings
from bot.text_input import InputError, checked_input

logger = logging.getLogger(__name__)


class SocketIOInput(RasaSocketIOInput):
    session_secret: str = ""
    allowed_origins: tuple = ()
    session_lifetime_seconds: int = 0

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        settings = webchat_settings()
        channel.session_secret = (credentials or {}).get("session_secret") or settings.session_secret
        origins = (credentials or {}).get("allowed_origins") or settings.allowed_origins
        channel.allowed_origins = tuple(origins.split(",") if isinstance(origins, str) else origins)
        channel.session_lifetime_seconds = settings.session_lifetime_seconds
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        sio.eio.cors_allowed_origins = list(self.allowed_origins)  # engine.io refuses any other Origin

        async def refuse(sid: Text, reason: Text) -> None:
            logger.warning("Web chat: %s (socket %s) refused.", reason, sid)
            await sio.emit("session_refused", {"reason": reason}, room=sid, namespace=self.namespace)

        async def reply_refused(sid: Text, error: InputError) -> None:
            logger.info("Web chat message refused: %s", error.detail)
            await sio.emit(self.bot_message_evt, {"text": error.reply_ja()}, room=sid, namespace=self.namespace)

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            token = data.get("session_id") if isinstance(data, dict) else None
            session_id = session_of(token, self.session_secret, self.session_lifetime_seconds)
            if session_id is None:
                await refuse(sid, "a session id without a valid, unexpired token")
                return
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)
            logger.debug(f"User {sid} joined session {session_id}.")

        async def handle_message(sid: Text, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            if self.session_persistence:
                sender_id = session_of(data.get("session_id"), self.session_secret, self.session_lifetime_seconds)
                if sender_id is None:
                    await refuse(sid, "a message without a valid, unexpired session token")
                    return
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key)
            try:
                message = checked_input(
                    sender_id, data.get("message"), json.loads(metadata) if isinstance(metadata, str) else metadata
                )
            except InputError as error:
                await reply_refused(sid, error)
                return
            except (ValueError, RecursionError):  # metadata sent as a string that is not JSON
                await reply_refused(sid, InputError(InputProblem.INVALID_METADATA, "metadata is not JSON"))
                return
            output_channel = SocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(
                UserMessage(message.text, output_channel, message.sender_id, input_channel=self.name(),
                            metadata=message.metadata)
            )

        sio.on("session_request", namespace=self.namespace)(session_request)
        sio.on(self.user_message_evt, namespace=self.namespace)(handle_message)
        return socketio_webhook
