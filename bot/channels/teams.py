"""Microsoft Teams through the Bot Framework: POST /webhooks/teams/webhook.

A subclass of Rasa's botframework channel that changes what a Teams deployment needs:

- single-tenant bots: the connector token comes from
  https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token (Rasa asks the
  multi-tenant endpoint only); multi-tenant only when no tenant_id is configured;
- every incoming activity is authenticated as the Bot Framework specifies: RS256 JWT signed
  by a key of the OpenID metadata's jwks_uri (endorsed for the activity's channel), issuer
  https://api.botframework.com, audience = app id, exp/nbf with a small leeway, and a
  `serviceUrl` claim equal to the activity's serviceUrl (so replies, which carry our
  token, only go where the Bot Framework said). Keys are fetched lazily and without
  blocking the event loop (Rasa fetches them synchronously at start-up);
- `<at>Bot</at>` mentions are removed before NLU; then the text rules of bot/text_input.py (a
  refused message gets a polite Japanese reply);
- conversationUpdate with members added sends a Japanese greeting through Rasa;
- buttons render as a hero card with messageBack actions (Rasa's hero card passes Rasa's
  button dicts through, which Teams does not display);
- optionally, activities from another Entra ID tenant are refused (tenant_id);
- pushes (Rasa's `trigger_intent?output_channel=latest`, the timer's reminders): every
  authenticated message stores the sender's conversation reference (bot/channels/references.py)
  and `get_output_channel()` sends to the stored conversation through the connector.

The metadata URL and the token endpoint are settings, so tests point them at loopback.
"""
from __future__ import annotations

import asyncio
import datetime
import html
import json
import logging
import re
import time
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple
from urllib.parse import quote

import aiohttp
import jwt
from jwt import PyJWTError
from jwt.algorithms import RSAAlgorithm
from rasa.core.channels.botframework import BEARER_REGEX, MICROSOFT_OPEN_ID_URI, BotFramework, BotFrameworkInput
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.references import PushOutputChannel, remember
from bot.prompts import SUBMIT_VALUE, buttons_beside_toggles, choices_of, selection_payload
from bot.text_input import InputError, checked_input, is_sender_id

logger = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
# {tenant} is the configured tenant_id, or botframework.com (multi-tenant) when there is none.
DEFAULT_TOKEN_ENDPOINT = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
MULTI_TENANT = "botframework.com"
DEFAULT_WELCOME_PAYLOAD = "/ask_help"
DEFAULT_LEEWAY_SECONDS = 300  # the Bot Framework's documented clock skew
KEY_CACHE_SECONDS = 24 * 3600
KEY_REFRESH_MIN_INTERVAL = 300  # an unknown key id triggers at most one refetch per 5 minutes
HERO_CARD_MAX_BUTTONS = 6
ADAPTIVE_CARD_VERSION = "1.3"  # labels on inputs; Teams renders up to 1.5
CHOICE_INPUT_PREFIX = "kasuhara_choice_"
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)

_MENTION = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)


class AuthenticationError(Exception):
    """The request is not from the Bot Framework (or not for this bot)."""


def token_endpoint_for(template: Text, tenant_id: Optional[Text]) -> Text:
    """The token URL: the template with {tenant} filled in (single-tenant unless no tenant_id)."""
    return template.replace("{tenant}", tenant_id or MULTI_TENANT)


def strip_mentions(text: Text, activity: Dict[Text, Any]) -> Text:
    """The text without the bot's @mention; other mentions keep the plain name."""
    bot = activity.get("recipient") or {}
    for entity in activity.get("entities") or []:
        mentioned = entity.get("mentioned") or {}
        if entity.get("type") == "mention" and mentioned.get("id") == bot.get("id") and entity.get("text"):
            text = text.replace(entity["text"], " ")

    def unwrap(match: "re.Match[str]") -> str:
        name = html.unescape(match.group(1)).strip()
        return " " if bot.get("name") and name == bot.get("name") else name

    text = html.unescape(_MENTION.sub(unwrap, text)).replace("\xa0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def teams_buttons(buttons: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """Rasa buttons as messageBack actions: Teams shows the title, the bot receives the payload."""
    actions = []
    for button in buttons:
        title = str(button.get("title", ""))
        payload = str(button.get("payload", title))
        if button.get("type") == "web_url" or payload.startswith(("http://", "https://")):
            actions.append({"type": "openUrl", "title": title, "value": button.get("url") or payload})
        else:
            actions.append(
                {"type": "messageBack", "title": title, "text": payload, "displayText": title, "value": {"payload": payload}}
            )
    return actions


def adaptive_card(text: Text, buttons: List[Dict[Text, Any]], choices: Dict[Text, Any]) -> Dict[Text, Any]:
    """The toggles as an Adaptive Card: one multi-select ChoiceSet per group, 「確定」 and the
    buttons as Action.Submit. Teams posts the submitted inputs back as the activity's `value`."""
    body: List[Dict[Text, Any]] = [{"type": "TextBlock", "text": text, "wrap": True}]
    for index, group in enumerate(choices["groups"]):
        options = group.get("options") or []
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": f"{CHOICE_INPUT_PREFIX}{index}",
                "label": str(group.get("title", "")),
                "isMultiSelect": True,
                "style": "expanded",
                "choices": [{"title": str(o["label"]), "value": str(o["code"])} for o in options],
                "value": ",".join(str(o["code"]) for o in options if o.get("selected")),
            }
        )
    actions = [{"type": "Action.Submit", "title": str(choices.get("submit_title", "OK")), "data": {"kasuhara": SUBMIT_VALUE}}]
    actions += [
        {"type": "Action.Submit", "title": str(b.get("title", "")), "data": {"payload": str(b.get("payload", ""))}}
        for b in buttons_beside_toggles(buttons)
    ]
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": ADAPTIVE_CARD_VERSION,
        "body": body,
        "actions": actions,
    }


def submitted_text(activity: Dict[Text, Any]) -> Optional[Text]:
    """What a card's Action.Submit sends the bot (Teams puts the data and inputs in `value`, no
    text): the chosen toggles as a selection payload, or a button's payload; None otherwise."""
    value = activity.get("value")
    if not isinstance(value, dict):
        return None
    if value.get("kasuhara") == SUBMIT_VALUE:
        chosen = [
            code.strip()
            for key, selected in sorted(value.items())
            if key.startswith(CHOICE_INPUT_PREFIX) and isinstance(selected, str)
            for code in selected.split(",")
            if code.strip()
        ]
        return selection_payload(chosen)
    payload = value.get("payload")
    return payload if isinstance(payload, str) and payload and not (activity.get("text") or "").strip() else None


class TeamsBot(BotFramework):
    """Replies to Teams through the connector at {serviceUrl}/v3/conversations/{id}/activities."""

    # (token endpoint, app id) -> (headers, expiry); shared by the replies of all conversations
    _token_cache: Dict[Tuple[Text, Text], Tuple[Dict[Text, Text], float]] = {}

    @classmethod
    def name(cls) -> Text:
        return "teams"

    def __init__(
        self,
        app_id: Text,
        app_password: Text,
        conversation: Dict[Text, Any],
        bot: Dict[Text, Any],
        service_url: Text,
        token_endpoint: Text,
    ) -> None:
        super().__init__(app_id, app_password, conversation, bot, service_url)
        self.token_endpoint = token_endpoint

    async def _get_headers(self) -> Optional[Dict[Text, Any]]:
        key = (self.token_endpoint, self.app_id)
        cached = TeamsBot._token_cache.get(key)
        if cached and cached[1] > time.time():
            return cached[0]
        payload = {
            "client_id": self.app_id,
            "client_secret": self.app_password,
            "grant_type": "client_credentials",
            "scope": BOT_FRAMEWORK_SCOPE,
        }
        try:
            async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
                async with session.post(self.token_endpoint, data=payload) as token_response:
                    if token_response.status != 200:
                        logger.error(
                            "Could not get a Bot Framework token from %s: HTTP %s %s",
                            self.token_endpoint,
                            token_response.status,
                            (await token_response.text())[:500],
                        )
                        return None
                    token_data = await token_response.json(content_type=None)
            access_token = token_data["access_token"]
            # renew five minutes early
            expiry = time.time() + max(0, int(token_data.get("expires_in", 3600)) - 300)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError, TypeError) as error:
            logger.error("Could not get a Bot Framework token from %s: %r", self.token_endpoint, error)
            return None
        headers = {"content-type": "application/json", "Authorization": f"Bearer {access_token}"}
        TeamsBot._token_cache[key] = (headers, expiry)
        return headers

    async def send(self, message_data: Dict[Text, Any]) -> None:
        # quoted like the Bot Framework SDKs do, so that a '/', '?' or '#' in an id cannot change the URL
        conversation_id = quote(str(self.conversation["id"]), safe="")
        post_message_uri = f"{self.global_uri}conversations/{conversation_id}/activities"
        headers = await self._get_headers()
        if headers is None:
            logger.error("Teams reply not sent: no connector token.")
            return
        try:
            async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
                async with session.post(post_message_uri, headers=headers, data=json.dumps(message_data)) as sent:
                    if sent.status >= 300:
                        logger.error("Teams reply rejected: HTTP %s %s", sent.status, (await sent.text())[:500])
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("Teams reply not sent: %r", error)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        choices = choices_of(message)
        if choices is None:
            await super().send_response(recipient_id, message)
            return
        attachment = {
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": adaptive_card(message.get("text") or "", message.get("buttons") or [], choices),
        }
        await self.send(self.prepare_message(recipient_id, {"attachments": [attachment]}))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        actions = teams_buttons(buttons)
        chunks = [actions[i : i + HERO_CARD_MAX_BUTTONS] for i in range(0, len(actions), HERO_CARD_MAX_BUTTONS)]
        attachments = [
            {
                "contentType": "application/vnd.microsoft.card.hero",
                "content": {"text": text, "buttons": chunk} if index == 0 else {"buttons": chunk},
            }
            for index, chunk in enumerate(chunks or [[]])
        ]
        message = self.prepare_message(recipient_id, {"attachmentLayout": "list", "attachments": attachments})
        await self.send(message)


class TeamsPushBot(PushOutputChannel):
    """Sends to the Teams conversation a sender last wrote from (its stored reference)."""

    channel_name = "teams"

    def __init__(self, app_id: Text, app_password: Text, token_endpoint: Text, database_url: Optional[Text] = None) -> None:
        super().__init__(database_url)
        self.app_id = app_id
        self.app_password = app_password
        self.token_endpoint = token_endpoint

    def reply_channel(self, reference: Dict[Text, Any]) -> TeamsBot:
        return TeamsBot(
            self.app_id,
            self.app_password,
            reference["conversation"],
            reference["bot"],
            reference["service_url"],
            self.token_endpoint,
        )


def conversation_reference(activity: Dict[Text, Any]) -> Dict[Text, Any]:
    """What a later message to this activity's conversation needs (serviceUrl is authenticated)."""
    conversation = activity.get("conversation") or {}
    bot = activity.get("recipient") or {}
    return {
        "service_url": activity["serviceUrl"],
        "conversation": {key: conversation[key] for key in ("id", "conversationType", "tenantId") if key in conversation},
        "bot": {key: bot[key] for key in ("id", "name") if key in bot},
        "tenant_id": ((activity.get("channelData") or {}).get("tenant") or {}).get("id") or conversation.get("tenantId"),
    }


class TeamsInput(BotFrameworkInput):
    """Microsoft Teams input channel (Azure Bot, single- or multi-tenant)."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            app_id=credentials.get("app_id"),
            app_password=credentials.get("app_password"),
            tenant_id=credentials.get("tenant_id"),
            openid_metadata_url=credentials.get("openid_metadata_url") or MICROSOFT_OPEN_ID_URI,
            token_endpoint=credentials.get("token_endpoint") or DEFAULT_TOKEN_ENDPOINT,
            leeway_seconds=int(credentials.get("leeway_seconds", DEFAULT_LEEWAY_SECONDS)),
            welcome_payload=credentials.get("welcome_payload", DEFAULT_WELCOME_PAYLOAD),
        )

    def __init__(  # noqa: PLR0913 - one argument per setting
        self,
        app_id: Text,
        app_password: Text,
        tenant_id: Optional[Text] = None,
        openid_metadata_url: Text = MICROSOFT_OPEN_ID_URI,
        token_endpoint: Text = DEFAULT_TOKEN_ENDPOINT,
        leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
        welcome_payload: Optional[Text] = DEFAULT_WELCOME_PAYLOAD,
    ) -> None:
        # Not calling BotFrameworkInput.__init__: it fetches Microsoft's keys synchronously.
        if not app_id or not app_password:
            raise InvalidConfigException(
                "The teams channel needs app_id and app_password (the Azure Bot's Microsoft App ID "
                "and client secret), e.g. app_id: ${TEAMS_APP_ID} in credentials.yml."
            )
        self.app_id = str(app_id)
        self.app_password = str(app_password)
        self.tenant_id = str(tenant_id) if tenant_id else None
        self.openid_metadata_url = openid_metadata_url
        self.token_endpoint = token_endpoint_for(token_endpoint, self.tenant_id)
        self.leeway_seconds = leeway_seconds
        self.welcome_payload = welcome_payload or None
        self.jwt_keys: Dict[Text, Any] = {}
        self.jwt_update_time = datetime.datetime.fromtimestamp(0)
        self._keys_fetched_at = 0.0
        self._last_key_attempt = 0.0
        self._key_lock: Optional[asyncio.Lock] = None
        self.database_url: Optional[Text] = None  # conversation references; None: DATABASE_URL

    # --- authentication -------------------------------------------------------------------

    async def _fetch_keys(self) -> None:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
            async with session.get(self.openid_metadata_url) as metadata_response:
                metadata_response.raise_for_status()
                metadata = await metadata_response.json(content_type=None)
            async with session.get(metadata["jwks_uri"]) as keys_response:
                keys_response.raise_for_status()
                keys = await keys_response.json(content_type=None)
        self.jwt_keys = {key["kid"]: key for key in keys.get("keys", []) if "kid" in key}
        self._keys_fetched_at = time.time()
        self.jwt_update_time = datetime.datetime.now()

    async def _signing_key(self, key_id: Text) -> Optional[Dict[Text, Any]]:
        """The JWK for key_id; keys are refetched daily, and early (rate-limited) for an unknown id."""
        if self._key_lock is None:
            self._key_lock = asyncio.Lock()
        async with self._key_lock:
            now = time.time()
            stale = now - self._keys_fetched_at > KEY_CACHE_SECONDS
            unknown = key_id not in self.jwt_keys
            may_retry = now - self._last_key_attempt > KEY_REFRESH_MIN_INTERVAL
            if not self.jwt_keys or ((stale or unknown) and may_retry):
                self._last_key_attempt = now
                try:
                    await self._fetch_keys()
                except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError):
                    if not self.jwt_keys:
                        raise
                    logger.warning("Could not refresh the Bot Framework keys; using the cached ones.", exc_info=True)
        return self.jwt_keys.get(key_id)

    async def authenticate(self, auth_header: Optional[Text], activity: Dict[Text, Any]) -> Dict[Text, Any]:
        """The token's claims; AuthenticationError unless the Bot Framework sent this activity to this bot."""
        match = BEARER_REGEX.match(auth_header or "")
        if not match:
            raise AuthenticationError("no bearer token")
        token = match.group(1).strip()
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError as error:
            raise AuthenticationError(f"malformed token: {error}") from None
        if header.get("alg") != "RS256":
            raise AuthenticationError(f"unexpected algorithm {header.get('alg')!r}")
        key = await self._signing_key(str(header.get("kid")))
        if key is None:
            raise AuthenticationError(f"unknown signing key {header.get('kid')!r}")
        endorsements = key.get("endorsements")
        if endorsements is not None and activity.get("channelId") not in endorsements:
            raise AuthenticationError(f"key not endorsed for channel {activity.get('channelId')!r}")
        try:
            claims = jwt.decode(
                token,
                key=RSAAlgorithm.from_jwk(json.dumps(key)),
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=BOT_FRAMEWORK_ISSUER,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from None
        service_url = str(activity.get("serviceUrl") or "")
        if not service_url or str(claims.get("serviceUrl", "")).rstrip("/") != service_url.rstrip("/"):
            raise AuthenticationError("serviceUrl claim does not match the activity")
        return claims

    def foreign_tenant(self, activity: Dict[Text, Any]) -> Optional[Text]:
        """The activity's tenant when a tenant_id is configured and the activity comes from another."""
        tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
        if self.tenant_id and tenant and tenant != self.tenant_id:
            return tenant
        return None

    # --- activities -----------------------------------------------------------------------

    def output_channel(self, activity: Dict[Text, Any]) -> TeamsBot:
        return TeamsBot(
            self.app_id,
            self.app_password,
            activity["conversation"],
            activity["recipient"],
            activity["serviceUrl"],
            self.token_endpoint,
        )

    def get_output_channel(self) -> TeamsPushBot:
        """For messages without a user message (trigger_intent?output_channel=latest): sent to the
        conversation stored for the recipient; an unknown recipient gets nothing (logged)."""
        return TeamsPushBot(self.app_id, self.app_password, self.token_endpoint, self.database_url)

    def members_to_greet(self, activity: Dict[Text, Any]) -> List[Text]:
        """Who a conversationUpdate welcomes: the members added other than the bot.

        Installing the bot in a personal chat adds only the bot; the installer (`from`) is greeted.
        Team channels are left alone: a greeting there would be posted to the whole channel.
        """
        conversation_type = (activity.get("conversation") or {}).get("conversationType")
        if conversation_type == "channel" or not self.welcome_payload:
            return []
        bot_id = (activity.get("recipient") or {}).get("id")
        added = [m.get("id") for m in activity.get("membersAdded") or [] if m.get("id")]
        people = [member for member in added if member != bot_id]
        if not people and bot_id in added and conversation_type == "personal":
            sender = (activity.get("from") or {}).get("id")
            people = [sender] if sender and sender != bot_id else []
        return people

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        teams_webhook = Blueprint("teams_webhook", __name__)

        @teams_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @teams_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            auth_header = request.headers.get("Authorization")
            if not auth_header:
                return response.json({"error": "unauthorized", "message": "No authorization header."}, status=401)
            try:
                activity = json.loads((request.body or b"").decode("utf-8"))
                if not isinstance(activity, dict):
                    raise ValueError("not an object")
            except ValueError:
                return response.json({"error": "invalid_body", "message": "Not a JSON activity."}, status=400)
            try:
                await self.authenticate(auth_header, activity)
            except AuthenticationError as error:
                logger.warning("Teams request refused: %s", error)
                return response.json(
                    {"error": "unauthorized", "message": "Could not validate the token."},
                    status=HTTPStatus.UNAUTHORIZED,
                )
            except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError) as error:
                logger.error("Bot Framework signing keys unavailable (%s): %r", self.openid_metadata_url, error)
                return response.json(
                    {"error": "unavailable", "message": "Cannot validate tokens right now."},
                    status=HTTPStatus.SERVICE_UNAVAILABLE,
                )
            tenant = self.foreign_tenant(activity)
            if tenant:
                logger.warning("Teams activity from another tenant (%s) refused.", tenant)
                return response.json({"error": "forbidden", "message": "Tenant not allowed."}, status=403)

            try:
                await self.handle_activity(activity, on_new_message)
            except Exception as error:  # noqa: BLE001 - as Rasa: log, and let the Bot Framework move on
                logger.error(f"Exception when trying to handle a Teams activity. {error!r}")
                logger.debug(error, exc_info=True)
            return response.text("success")

        return teams_webhook

    async def handle_activity(
        self, activity: Dict[Text, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        activity_type = activity.get("type")
        if activity_type == "message":
            try:
                message = checked_input(
                    activity["from"]["id"],
                    submitted_text(activity) or strip_mentions(activity.get("text") or "", activity),
                    self.add_attachments_to_metadata(activity, None),
                )
            except InputError as error:
                logger.info("Teams message refused: %s", error.detail)
                await self.output_channel(activity).send_text_message(str(activity["from"]["id"]), error.reply_ja())
                return
            await remember(self.name(), message.sender_id, conversation_reference(activity), self.database_url)
            await on_new_message(
                UserMessage(
                    text=message.text,
                    output_channel=self.output_channel(activity),
                    sender_id=message.sender_id,
                    input_channel=self.name(),
                    metadata=message.metadata,
                )
            )
        elif activity_type == "conversationUpdate":
            for member_id in filter(is_sender_id, self.members_to_greet(activity)):
                await remember(self.name(), member_id, conversation_reference(activity), self.database_url)
                await on_new_message(
                    UserMessage(
                        text=self.welcome_payload,
                        output_channel=self.output_channel(activity),
                        sender_id=member_id,
                        input_channel=self.name(),
                    )
                )
        else:
            logger.debug("Teams activity of type %r ignored.", activity_type)
