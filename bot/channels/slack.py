"""Slack (Events API + interactivity): POST /webhooks/slack/webhook.

Rasa's Slack channel already checks the signing secret (mandatory; v0 HMAC-SHA256 over
"v0:{timestamp}:{body}", requests older than 5 minutes refused) and renders buttons as
blocks. This subclass changes what the consultation bot needs:

- no message is answered twice: deliveries are remembered by event id and by message
  (channel + ts), so a Slack retry (X-Slack-Retry-Num, any reason), a replayed request
  or the same message arriving as two events is acknowledged and not processed again.
  Rasa only skips retries whose reason is http_timeout. (Memory is per server process.)
- threads: with `use_threads: true` and `conversation_granularity: thread`, a mention in a
  channel is answered in a thread under it and that thread is one conversation; direct
  messages stay in the DM (one conversation per user and DM), and a button clicked on a
  DM message continues the same conversation. (Rasa would open a new conversation for
  every top-level DM message and every button click.)
- the text rules of bot/text_input.py (a refused message gets a polite Japanese reply in place);
- buttons: up to 25 per actions block (Rasa drops all buttons beyond 5, and the bot asks
  "where did it happen?" with 7);
- no `as_user` argument: it is only for classic Slack apps; apps created today (granular
  bot tokens) are reported to get `invalid_arguments` when it is sent;
- URL verification answers {"challenge": ...} (Rasa answers a bare JSON string, which is
  not one of the forms Slack documents);
- the Web API base URL is a setting (`slack_api_url`), for tests against a stand-in;
- pushes (Rasa's `trigger_intent?output_channel=latest`, the timer's reminders): every message
  stores the conversation's channel and thread (bot/channels/references.py), and
  `get_output_channel()` without arguments posts there (in the thread) with chat.postMessage.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.references import PushOutputChannel, remember
from bot.prompts import SUBMIT_VALUE, buttons_beside_toggles, choices_of, selection_payload
from bot.text_input import InputError, checked_input

logger = logging.getLogger(__name__)

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
ACTIONS_BLOCK_MAX_ELEMENTS = 25
BUTTON_TEXT_MAX_CHARS = 75
CHECKBOX_OPTIONS_MAX = 10  # Slack's limit per checkbox group
CHOICE_BLOCK_PREFIX = "kasuhara_choice_"
CHOICE_ACTION_ID = "kasuhara_choice"
SUBMIT_ACTION_ID = "kasuhara_choices_submit"
SEEN_TTL_SECONDS = 3600  # Slack retries within minutes; replays are refused after 5 minutes anyway
SEEN_MAX_ENTRIES = 20000


class SeenDeliveries:
    """Keys of the deliveries already handled, forgotten after a while (bounded, in memory)."""

    def __init__(self, ttl_seconds: float = SEEN_TTL_SECONDS, max_entries: int = SEEN_MAX_ENTRIES) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._seen: "OrderedDict[str, float]" = OrderedDict()

    def _forget_old(self, now: float) -> None:
        while self._seen and (
            len(self._seen) > self.max_entries or next(iter(self._seen.values())) < now - self.ttl_seconds
        ):
            self._seen.popitem(last=False)

    def check_and_add(self, keys: Iterable[str]) -> bool:
        """True when any key was seen before; otherwise remembers them all and returns False."""
        keys = [key for key in keys if key]
        now = time.time()
        self._forget_old(now)
        if any(key in self._seen for key in keys):
            return True
        for key in keys:
            self._seen[key] = now
        self._forget_old(now)
        return False


def delivery_keys(request: Request) -> List[str]:
    """What identifies one Slack delivery: its event id and the message it is about."""
    content_type = request.headers.get("content-type")
    if content_type == "application/json":
        body = request.json or {}
        event = body.get("event") or {}
        keys = []
        if body.get("event_id"):
            keys.append(f"event:{body['event_id']}")
        if event.get("channel") and event.get("ts"):
            keys.append(f"message:{event['channel']}:{event['ts']}")
        return keys
    if content_type == "application/x-www-form-urlencoded":
        payload = json.loads(request.form["payload"][0])
        action = (payload.get("actions") or [{}])[0]
        user = (payload.get("user") or {}).get("id")
        if action.get("action_ts") and user:
            return [f"action:{user}:{action['action_ts']}"]
    return []


def _plain(text: Any, limit: int = BUTTON_TEXT_MAX_CHARS) -> Dict[Text, Any]:
    return {"type": "plain_text", "text": str(text)[:limit]}


def button_elements(buttons: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    return [{"type": "button", "text": _plain(b["title"]), "value": b["payload"]} for b in buttons]


def choice_blocks(text: Text, buttons: List[Dict[Text, Any]], choices: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """The toggles as Block Kit: a checkbox group per group, then 「確定」 and the buttons. A click on
    「確定」 sends the checked boxes in the payload's `state` (read by submitted_choices)."""
    blocks: List[Dict[Text, Any]] = [{"type": "section", "text": {"type": "plain_text", "text": text}}]
    for index, group in enumerate(choices["groups"]):
        options = [{"text": _plain(o["label"]), "value": str(o["code"])} for o in group["options"]][:CHECKBOX_OPTIONS_MAX]
        checkboxes: Dict[Text, Any] = {"type": "checkboxes", "action_id": CHOICE_ACTION_ID, "options": options}
        chosen = [option for option, o in zip(options, group["options"]) if o.get("selected")]
        if chosen:
            checkboxes["initial_options"] = chosen
        blocks.append(
            {
                "type": "section",
                "block_id": f"{CHOICE_BLOCK_PREFIX}{index}",
                "text": {"type": "mrkdwn", "text": f"*{group.get('title', '')}*"},
                "accessory": checkboxes,
            }
        )
    submit = {
        "type": "button",
        "action_id": SUBMIT_ACTION_ID,
        "style": "primary",
        "text": _plain(choices.get("submit_title", "OK")),
        "value": SUBMIT_VALUE,
    }
    elements = [submit] + button_elements(buttons_beside_toggles(buttons))
    blocks.append({"type": "actions", "elements": elements[:ACTIONS_BLOCK_MAX_ELEMENTS]})
    return blocks


def submitted_choices(payload: Dict[Text, Any]) -> Text:
    """The selection payload for a click on 「確定」: the boxes checked in the message's state."""
    values = (payload.get("state") or {}).get("values") or {}
    chosen = [
        option.get("value")
        for block_id, actions in sorted(values.items())
        if block_id.startswith(CHOICE_BLOCK_PREFIX)
        for option in ((actions or {}).get(CHOICE_ACTION_ID) or {}).get("selected_options") or []
    ]
    return selection_payload(code for code in chosen if isinstance(code, str))


def is_checkbox_click(request: Request) -> bool:
    """A box checked or unchecked: Slack reports each one; only 「確定」 goes to the bot."""
    if request.headers.get("content-type") != "application/x-www-form-urlencoded":
        return False
    try:
        payload = json.loads(request.form["payload"][0])
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    actions = payload.get("actions") or [{}]
    return isinstance(actions[0], dict) and actions[0].get("type") == "checkboxes"


class SlackReplyBot(SlackBot):
    """Rasa's Slack output with a configurable API URL, no `as_user` and up to 25 buttons."""

    def __init__(
        self,
        token: Text,
        slack_channel: Optional[Text] = None,
        thread_id: Optional[Text] = None,
        proxy: Optional[Text] = None,
        api_url: Text = DEFAULT_SLACK_API_URL,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, base_url=api_url, proxy=proxy)

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)
        await super()._post_message(channel=channel, **kwargs)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        choices = choices_of(message)
        if choices is None:
            await super().send_response(recipient_id, message)
            return
        text = message.get("text") or ""
        blocks = choice_blocks(text, message.get("buttons") or [], choices)
        await self._post_message(channel=self.slack_channel or recipient_id, text=text, blocks=blocks)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        recipient = self.slack_channel or recipient_id
        elements = button_elements(buttons)
        blocks: List[Dict[Text, Any]] = [{"type": "section", "text": {"type": "plain_text", "text": text}}]
        for start in range(0, len(elements), ACTIONS_BLOCK_MAX_ELEMENTS):
            blocks.append({"type": "actions", "elements": elements[start : start + ACTIONS_BLOCK_MAX_ELEMENTS]})
        await self._post_message(channel=recipient, text=text, blocks=blocks)


class SlackPushBot(PushOutputChannel):
    """Posts to the Slack channel and thread a conversation last wrote from (its stored reference)."""

    channel_name = "slack"

    def __init__(self, token: Text, proxy: Optional[Text], api_url: Text, database_url: Optional[Text] = None) -> None:
        super().__init__(database_url)
        self.token = token
        self.proxy = proxy
        self.api_url = api_url

    def reply_channel(self, reference: Dict[Text, Any]) -> SlackReplyBot:
        return SlackReplyBot(self.token, reference["channel"], reference.get("thread_ts"), self.proxy, self.api_url)


class SlackEventsInput(SlackInput):
    """Slack input channel for the consultation bot (name "slack": /webhooks/slack/webhook)."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        channel = super().from_credentials(credentials)
        channel.slack_api_url = credentials.get("slack_api_url") or DEFAULT_SLACK_API_URL
        return channel

    def __init__(self, *args: Any, slack_api_url: Text = DEFAULT_SLACK_API_URL, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # raises when the signing secret is missing
        self.slack_api_url = slack_api_url
        self.seen = SeenDeliveries()
        self.database_url: Optional[Text] = None  # conversation references; None: DATABASE_URL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack_webhook = super().blueprint(on_new_message)

        @slack_webhook.middleware("request")
        async def url_verification(request: Request) -> Optional[HTTPResponse]:
            """Answer Slack's URL check (signed like every request) in a form Slack documents."""
            if request.method != "POST" or request.headers.get("content-type") != "application/json":
                return None
            body = request.json
            if not isinstance(body, dict) or body.get("type") != "url_verification":
                return None
            if not self.is_request_from_slack_authentic(request):
                return response.text(
                    "Message is not properly signed with a valid X-Slack-Signature header",
                    status=HTTPStatus.BAD_REQUEST,
                )
            return response.json({"challenge": body.get("challenge")})

        @slack_webhook.middleware("request")
        async def checkbox_clicks(request: Request) -> Optional[HTTPResponse]:
            """Acknowledge a box checked or unchecked (signed like every request); nothing reaches the bot."""
            if request.method != "POST" or not is_checkbox_click(request):
                return None
            if not self.is_request_from_slack_authentic(request):
                return response.text(
                    "Message is not properly signed with a valid X-Slack-Signature header",
                    status=HTTPStatus.BAD_REQUEST,
                )
            return response.text("")

        return slack_webhook

    def get_metadata(self, request: Request) -> Dict[Text, Any]:
        """Rasa's metadata, with `thread_id` the thread a reply belongs in (None: not in a thread)."""
        metadata = super().get_metadata(request)
        content_type = request.headers.get("content-type")
        if content_type == "application/json":
            event = (request.json or {}).get("event") or {}
            thread_id = event.get("thread_ts")
            if thread_id is None and self.use_threads and event.get("channel_type") != "im":
                thread_id = event.get("ts")  # a mention in a channel: answer in a thread under it
            metadata["thread_id"] = thread_id
        elif content_type == "application/x-www-form-urlencoded":
            payload = json.loads(request.form["payload"][0])
            # the thread of the message whose button was clicked; a top-level message has none
            metadata["thread_id"] = (payload.get("message") or {}).get("thread_ts")
        return metadata

    def _get_conversation_id(
        self, sender_id: Optional[Text], channel_id: Optional[Text], thread_id: Optional[Text]
    ) -> Optional[Text]:
        if self.conversation_granularity == "thread" and sender_id and channel_id and not thread_id:
            return f"{sender_id}_{channel_id}"  # not in a thread: the user's conversation in that channel
        return super()._get_conversation_id(sender_id, channel_id, thread_id)

    async def process_message(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Text,
        sender_id: Optional[Text],
        metadata: Optional[Dict],
    ) -> Any:
        retry_count = request.headers.get(self.retry_num_header)
        try:
            keys = delivery_keys(request)
        except (KeyError, ValueError, TypeError):
            keys = []
        if self.seen.check_and_add(keys):
            logger.info(
                "Slack delivery already handled (retry %s, reason %s): not answered again.",
                retry_count,
                request.headers.get(self.retry_reason_header),
            )
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        # A retry of a delivery this process never saw (the first attempt did not arrive) is handled.
        if text == SUBMIT_VALUE and request.headers.get("content-type") == "application/x-www-form-urlencoded":
            text = submitted_choices(json.loads(request.form["payload"][0]))
        thread_id = (metadata or {}).get("thread_id") if self.use_threads else None
        output_channel = (metadata or {}).get("out_channel")
        try:
            message = checked_input(sender_id, text, metadata)
        except InputError as error:
            logger.info("Slack message refused: %s", error.detail)
            refused_reply = self.reply_channel(output_channel, thread_id)
            if refused_reply is not None:
                self._in_background(refused_reply.send_text_message(str(sender_id), error.reply_ja()))
            return response.text("")
        try:
            user_msg = UserMessage(
                message.text,
                self.reply_channel(output_channel, thread_id),
                message.sender_id,
                input_channel=self.name(),
                metadata=message.metadata,
            )
            reference = {"channel": output_channel, "thread_ts": thread_id}

            async def turn() -> None:
                if output_channel:  # where reminders for this conversation go
                    await remember(self.name(), message.sender_id, reference, self.database_url)
                await on_new_message(user_msg)

            # Slack wants an answer within 3 seconds: the turn runs in the background, as in Rasa.
            self._in_background(turn())
        except Exception as error:  # noqa: BLE001 - as Rasa
            logger.error(f"Exception when trying to handle message.{error}", exc_info=True)
        return response.text("")

    def _in_background(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    def get_output_channel(
        self, channel: Optional[Text] = None, thread_id: Optional[Text] = None
    ) -> Optional[OutputChannel]:
        """The reply channel of a message (channel, thread), or without arguments the push channel.

        Rasa calls this without arguments for `trigger_intent?output_channel=latest` (the timer
        service's reminders): the push channel posts to the channel and thread stored for the
        recipient (nothing, logged, for an unknown one).
        """
        if channel is None and thread_id is None:
            return SlackPushBot(self.slack_token, self.proxy, self.slack_api_url, self.database_url)
        return self.reply_channel(channel, thread_id)

    def reply_channel(self, channel: Optional[Text], thread_id: Optional[Text]) -> Optional[SlackReplyBot]:
        """Replies in a Slack channel (and thread); None without a channel to post to."""
        channel = channel or self.slack_channel
        if not channel:
            return None
        return SlackReplyBot(self.slack_token, channel, thread_id, self.proxy, self.slack_api_url)
