"""Loopback stand-ins for the channel tests: no network beyond 127.0.0.1, no Rasa server.

- ChannelServer: a real Sanic server on a random loopback port with one input channel's
  blueprint mounted at /webhooks/<name>/ (as Rasa mounts it), and a FakeBot as
  `on_new_message`: it records each UserMessage and sends its replies through the
  message's output channel exactly as Rasa's processor does (`send_response` with the
  BotUttered message dict). `app.ctx.agent.tracker_store` is Rasa's InMemoryTrackerStore.
  Channels that store conversation references (Teams, Slack) write them to `database_url`
  when given, else to a throw-away SQLite file (never to the project's database).
- BotFrameworkStandIn: OpenID metadata + JWKS (an RSA key generated here), the Entra ID
  token endpoint (/{tenant}/oauth2/v2.0/token) and a connector service URL that records
  the activities posted to /v3/conversations/{id}/activities.
- SlackApiStandIn: the Slack Web API's chat.postMessage, recording the calls.

Tests are plain functions that call `run(scenario())`; nothing needs pytest-asyncio.
"""
from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import os
import shutil
import socket
import tempfile
import time
import uuid
import warnings
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, Dict, List, Optional

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from sanic import Sanic

LOOPBACK = "127.0.0.1"
Sanic.test_mode = True  # several apps start in one process (what sanic-testing sets)
KASUHARA_SLOTS = (
    "stage", "verdict", "elapsed_minutes", "case_started_at", "ongoing", "requested_slot", "behaviors", "suggested_behaviors"
)


def run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    return sock


async def eventually(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Wait until predicate() holds (for replies sent from a background task)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def bot_message(text: Optional[str] = None, buttons: Optional[list] = None, custom: Optional[dict] = None) -> dict:
    """A reply as Rasa's processor hands it to `send_response` (BotUttered.message())."""
    return {
        "text": text,
        "elements": None,
        "quick_replies": None,
        "buttons": buttons,
        "attachment": None,
        "image": None,
        "custom": custom,
        "timestamp": time.time(),
        "utter_action": "utter_test",
    }


# --- the bot behind the channel -------------------------------------------------------------


@lru_cache(maxsize=None)
def kasuhara_domain() -> Domain:
    """A domain with the slots the kasuhara payload reads (Rasa 3.6 warns about auto-fill for any slot)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Slot auto-fill has been removed", category=UserWarning)
        return Domain.from_dict(
            {"slots": {name: {"type": "any", "mappings": [{"type": "custom"}]} for name in KASUHARA_SLOTS}}
        )


class FakeBot:
    """`on_new_message` for a mounted channel: records messages, sets slots, sends replies."""

    def __init__(
        self,
        replies: Optional[List[dict]] = None,
        slots: Optional[Dict[str, Any]] = None,
        fail: bool = False,
        tracker_store: Optional[InMemoryTrackerStore] = None,
    ) -> None:
        self.replies = replies if replies is not None else [bot_message("こんにちは")]
        self.slots = slots or {}
        self.fail = fail
        self.tracker_store = tracker_store
        self.received: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("the bot failed (test)")
        if self.tracker_store is not None:
            tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
            for name, value in self.slots.items():
                tracker.update(SlotSet(name, value))
            await self.tracker_store.save(tracker)
        for reply in self.replies:
            await message.output_channel.send_response(message.sender_id, copy.deepcopy(reply))


class ChannelServer:
    """A Sanic server on loopback with one channel mounted at /webhooks/<name>/."""

    def __init__(
        self, channel: InputChannel, bot: FakeBot, with_agent: bool = True, database_url: Optional[str] = None,
        agent: Any = None,
    ) -> None:
        """`agent`: what the app's `ctx.agent` is (default: one with the bot's tracker store)."""
        self.channel = channel
        self.agent = agent
        self.bot = bot
        self.with_agent = with_agent
        self.database_url = database_url
        self.url = ""
        self._server: Any = None
        self._temp_dir: Optional[str] = None
        self._channel_database_url: Optional[str] = None

    def _use_reference_database(self) -> None:
        if not hasattr(self.channel, "database_url"):
            return
        self._channel_database_url = self.channel.database_url
        if self.database_url is None:
            self._temp_dir = tempfile.mkdtemp(prefix="channel_references_")
            self.channel.database_url = f"sqlite:///{os.path.join(self._temp_dir, 'references.db')}"
        else:
            self.channel.database_url = self.database_url

    def _restore_reference_database(self) -> None:
        if not hasattr(self.channel, "database_url"):
            return
        if self._temp_dir is not None:
            from bot.channels.references import store_for

            store_for(self.channel.database_url).dispose()
            shutil.rmtree(self._temp_dir, ignore_errors=True)
        self.channel.database_url = self._channel_database_url

    async def __aenter__(self) -> "ChannelServer":
        self._use_reference_database()
        app = Sanic(f"channel_test_{uuid.uuid4().hex}", configure_logging=False)
        if self.with_agent:
            app.ctx.agent = self.agent if self.agent is not None else SimpleNamespace(tracker_store=self.bot.tracker_store)
        app.blueprint(self.channel.blueprint(self.bot), url_prefix=f"/webhooks/{self.channel.url_prefix()}")
        sock = _loopback_socket()
        port = sock.getsockname()[1]
        self._server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.url = f"http://{LOOPBACK}:{port}/webhooks/{self.channel.url_prefix()}/webhook"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()
        self._restore_reference_database()


async def post(url: str, body: Any = None, raw: Optional[bytes] = None, headers: Optional[dict] = None):
    """POST JSON (or raw bytes); returns (status, parsed JSON or text, response headers)."""
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=data, headers=all_headers) as resp:
            text = await resp.text()
            try:
                content: Any = json.loads(text)
            except ValueError:
                content = text
            return resp.status, content, dict(resp.headers)


# --- loopback HTTP servers ------------------------------------------------------------------


class _AiohttpStandIn:
    def __init__(self) -> None:
        self.app = web.Application()
        self.base_url = ""
        self._runner: Optional[web.AppRunner] = None

    async def __aenter__(self):
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        sock = _loopback_socket()
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.base_url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._runner.cleanup()


@lru_cache(maxsize=None)
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """An RSA key generated for the tests (one per name and test session)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class BotFrameworkStandIn(_AiohttpStandIn):
    """Bot Framework + Entra ID on loopback.

    Routes: GET  /v1/.well-known/openidconfiguration, GET /v1/.well-known/keys
            POST /{tenant}/oauth2/v2.0/token
            POST /teams/v3/conversations/{conversation_id}/activities  (serviceUrl = {base}/teams/)
    """

    KEY_ID = "stand-in-key"
    ISSUER = "https://api.botframework.com"

    def __init__(self, endorsements: Optional[List[str]] = None) -> None:
        super().__init__()
        self.key = rsa_key("botframework")
        self.endorsements = endorsements if endorsements is not None else ["msteams"]
        self.token_requests: List[Dict[str, Any]] = []
        self.activities: List[Dict[str, Any]] = []
        self.access_token = f"connector-token-{uuid.uuid4().hex}"
        self.app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        self.app.router.add_get("/v1/.well-known/keys", self._keys)
        self.app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self.app.router.add_post("/teams/v3/conversations/{conversation_id}/activities", self._activity)

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    @property
    def token_endpoint_template(self) -> str:
        return f"{self.base_url}/{{tenant}}/oauth2/v2.0/token"

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/teams/"

    async def _metadata(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{self.base_url}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.KEY_ID, "use": "sig", "endorsements": self.endorsements})
        return web.json_response({"keys": [jwk]})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests.append({"tenant": request.match_info["tenant"], "form": dict(form)})
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": self.access_token})

    async def _activity(self, request: web.Request) -> web.Response:
        self.activities.append(
            {
                "conversation_id": request.match_info["conversation_id"],
                "authorization": request.headers.get("Authorization"),
                "activity": await request.json(),
            }
        )
        return web.json_response({"id": uuid.uuid4().hex})

    def token(
        self,
        app_id: str,
        service_url: Optional[str] = None,
        key: Optional[rsa.RSAPrivateKey] = None,
        kid: Optional[str] = None,
        **claims: Any,
    ) -> str:
        """A channel-to-bot token as the Bot Framework issues it; claims override the defaults."""
        now = int(time.time())
        payload = {
            "serviceUrl": service_url or self.service_url,
            "nbf": now - 10,
            "exp": now + 3600,
            "iss": self.ISSUER,
            "aud": app_id,
        }
        payload.update(claims)  # a claim given as None is left out
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.KEY_ID})


class SlackApiStandIn(_AiohttpStandIn):
    """Slack Web API on loopback: POST /api/chat.postMessage, recorded.

    Like Slack for apps with granular bot tokens (as reported), a call carrying `as_user` is
    refused with invalid_arguments.
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: List[Dict[str, Any]] = []
        self.app.router.add_post("/api/chat.postMessage", self._post_message)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    async def _post_message(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
        self.calls.append({"authorization": request.headers.get("Authorization"), "args": args})
        if "as_user" in args:
            return web.json_response({"ok": False, "error": "invalid_arguments", "deprecated_argument": "as_user"})
        return web.json_response({"ok": True, "channel": args.get("channel"), "ts": f"{time.time():.6f}"})


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"v0:{timestamp}:".encode("utf-8") + body, hashlib.sha256)
    return f"v0={digest.hexdigest()}"


def slack_headers(secret: str, body: bytes, timestamp: Optional[int] = None, content_type: str = "application/json"):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(secret, ts, body),
    }


# --- credentials.yml ------------------------------------------------------------------------


def uncomment_block(text: str, key: str) -> str:
    """credentials.yml with the block of `key` enabled: "#key:" and the "#  sub: value" lines under it."""
    lines = text.splitlines()
    out: List[str] = []
    in_block = False
    for line in lines:
        if line in (f"#{key}:", f"{key}:"):
            in_block = True
            out.append(f"{key}:")
            continue
        if in_block and line.startswith("#  ") and not line.startswith("#   ") and ":" in line:
            out.append(line[1:])
            continue
        in_block = False
        out.append(line)
    return "\n".join(out) + "\n"


def channels_from_credentials(path: str) -> List[InputChannel]:
    """What `rasa run --credentials path` builds (rasa.core.run.create_http_input_channels and
    _create_single_channel, restated: importing rasa.core.run loads TensorFlow, ~9 s)."""
    from rasa.core.channels import BUILTIN_CHANNELS
    from rasa.shared.utils.common import class_from_module_path
    from rasa.shared.utils.io import read_config_file

    channels = []
    for name, credentials in read_config_file(path).items():
        channel_class = BUILTIN_CHANNELS.get(name) or class_from_module_path(name)
        channels.append(channel_class.from_credentials(credentials))
    return channels
