"""Conversation references: where a Teams or Slack conversation can be reached without a user message.

Rasa's `trigger_intent?output_channel=latest` (the timer service's reminders) asks the input
channel for `get_output_channel()` without saying which conversation; the message is then sent
with `recipient_id` = the conversation's sender id. So each channel remembers, whenever a
message arrives, how to reach that sender (Teams: serviceUrl, conversation, bot, tenant;
Slack: channel and thread) in the table `conversation_references` of DATABASE_URL, and its push
output channel (`PushOutputChannel`) looks the reference up when it sends. The table survives
restarts and is shared by several Rasa servers.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel
from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot import settings
from bot.database import engine_for, upgrade_to_head
from bot.schema import conversation_references

logger = logging.getLogger(__name__)


class ReferenceStore:
    """Reads and writes conversation references (blocking; call through asyncio.to_thread)."""

    def __init__(self, url: Text) -> None:
        self._engine = engine_for(url)
        self._created = False

    def _ready(self) -> None:
        if not self._created:
            upgrade_to_head(self._engine)
            self._created = True

    def save(self, channel: Text, sender_id: Text, reference: Dict[Text, Any]) -> None:
        """Insert or replace the sender's reference."""
        self._ready()
        row = {"reference": reference, "updated_at": datetime.now(timezone.utc)}
        key = and_(conversation_references.c.channel == channel, conversation_references.c.sender_id == sender_id)
        for _ in range(2):  # a concurrent first insert of the same sender (another server): update instead
            try:
                with self._engine.begin() as connection:
                    if connection.execute(update(conversation_references).where(key).values(**row)).rowcount == 0:
                        connection.execute(insert(conversation_references).values(channel=channel, sender_id=sender_id, **row))
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"could not store the conversation reference of {sender_id!r}")

    def get(self, channel: Text, sender_id: Text) -> Optional[Dict[Text, Any]]:
        self._ready()
        query = select(conversation_references.c.reference).where(
            conversation_references.c.channel == channel, conversation_references.c.sender_id == sender_id
        )
        with self._engine.connect() as connection:
            return connection.execute(query).scalar()

    def dispose(self) -> None:
        self._engine.dispose()


@lru_cache(maxsize=None)
def _store_for(url: Text) -> ReferenceStore:
    return ReferenceStore(url)


def store_for(url: Optional[Text] = None) -> ReferenceStore:
    """The process-wide store of a database URL (default: DATABASE_URL, read at call time)."""
    return _store_for(url or settings.database_url())


async def remember(channel: Text, sender_id: Optional[Text], reference: Dict[Text, Any], url: Optional[Text] = None) -> None:
    """Store a reference; a database failure is logged and never stops the conversation."""
    if not sender_id:
        return
    try:
        await asyncio.to_thread(store_for(url).save, channel, sender_id, reference)
    except Exception:  # noqa: BLE001 - the reply must still go out
        logger.exception("Could not store the %s conversation reference of %r; reminders cannot reach it.", channel, sender_id)


class PushOutputChannel(OutputChannel):
    """Sends to a conversation found by its stored reference (for messages the user did not prompt).

    Subclasses set `channel_name` (the input channel's name, so channel-specific responses still
    apply) and build the reply channel of a reference. An unknown recipient or a failed send is
    logged; nothing is raised into Rasa.
    """

    channel_name: Text = ""

    def __init__(self, database_url: Optional[Text] = None) -> None:
        self.database_url = database_url

    @classmethod
    def name(cls) -> Text:
        return cls.channel_name

    def reply_channel(self, reference: Dict[Text, Any]) -> OutputChannel:
        raise NotImplementedError

    async def _target(self, recipient_id: Text) -> Optional[OutputChannel]:
        try:
            reference = await asyncio.to_thread(store_for(self.database_url).get, self.name(), recipient_id)
            if reference is None:
                logger.warning(
                    "No %s conversation reference for %r: the proactive message is not sent.", self.name(), recipient_id
                )
                return None
            return self.reply_channel(reference)
        except Exception:  # noqa: BLE001 - never raise into Rasa
            logger.exception("Could not look up the %s conversation of %r: message not sent.", self.name(), recipient_id)
            return None

    async def _forward(self, recipient_id: Text, send: Callable[[OutputChannel], Any]) -> None:
        target = await self._target(recipient_id)
        if target is None:
            return
        try:
            await send(target)
        except Exception:  # noqa: BLE001 - never raise into Rasa
            logger.exception("Proactive %s message to %r not sent.", self.name(), recipient_id)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await self._forward(recipient_id, lambda target: target.send_response(recipient_id, message))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._forward(recipient_id, lambda target: target.send_text_message(recipient_id, text, **kwargs))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._forward(
            recipient_id, lambda target: target.send_text_with_buttons(recipient_id, text, buttons, **kwargs)
        )

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._forward(
            recipient_id, lambda target: target.send_quick_replies(recipient_id, text, quick_replies, **kwargs)
        )

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._forward(recipient_id, lambda target: target.send_image_url(recipient_id, image, **kwargs))

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self._forward(recipient_id, lambda target: target.send_attachment(recipient_id, attachment, **kwargs))

    async def send_elements(self, recipient_id: Text, elements: Any, **kwargs: Any) -> None:
        await self._forward(recipient_id, lambda target: target.send_elements(recipient_id, elements, **kwargs))

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._forward(recipient_id, lambda target: target.send_custom_json(recipient_id, json_message, **kwargs))
