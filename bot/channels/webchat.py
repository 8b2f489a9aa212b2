"""Rasa's socketio channel with session persistence that works on python-socketio 5.10+.

Rasa 3.6's SocketIOInput calls ``sio.enter_room(sid, session_id)`` without ``await``; since
python-socketio 5.10 (5.18 here) that is a coroutine, so the socket never joins its session's
room and with ``session_persistence: true`` neither replies nor pushed messages (trigger_intent
with output_channel=latest, as the timer service sends) reach the browser (RasaHQ/rasa#13027,
still open). This subclass registers a corrected ``session_request`` handler; everything else,
including the channel name "socketio" (used by output_channel=latest), is Rasa's.

credentials.yml:  bot.channels.webchat.SocketIOInput: {user_message_evt: user_uttered, ...}
"""
from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class SocketIOInput(RasaSocketIOInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug(f"User {sid} joined session {session_id}.")

        sio.on("session_request", namespace=self.namespace)(session_request)
        return socketio_webhook
