"""Pushed messages (the timer's reminders) on Teams and Slack: conversation references and push channels.

A message that arrives stores where its sender can be reached (DATABASE_URL); the channel's
`get_output_channel()` (what Rasa uses for trigger_intent?output_channel=latest) sends there later,
also from a fresh channel instance (as after a restart or on another server).
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from types import SimpleNamespace

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Sanic

from bot.channels.references import ReferenceStore, store_for
from bot.channels.slack import SlackEventsInput, SlackPushBot
from bot.channels.teams import TeamsBot, TeamsInput, TeamsPushBot
from bot.timer_service import RasaTrigger
from bot.timers import TRIGGER_INTENT, ReminderKind
from tests.channel_stand_ins import (
    LOOPBACK,
    post,
    BotFrameworkStandIn,
    ChannelServer,
    FakeBot,
    SlackApiStandIn,
    _loopback_socket,
    bot_message,
    eventually,
    run,
)
from tests.test_channel_slack import BOT_TOKEN, BOT_USER, MENTION_TS, direct_message, mention, settled, signed_post
from tests.test_channel_teams import APP_ID, BOT, BUTTONS, CONVERSATION, TENANT, USER, bearer, message_activity, teams

REMINDER = "対応開始から25分が経ちました。30分を目安に、対応を終える準備をしましょう。"
THREAD_CONVERSATION = f"U0001_C0001_{MENTION_TS}"


@pytest.fixture()
def push_db(tmp_path, monkeypatch) -> str:
    """A temp SQLite DATABASE_URL (what a channel with no explicit database uses)."""
    url = f"sqlite:///{tmp_path / 'consultations.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    store_for(url).dispose()


@pytest.fixture(autouse=True)
def fresh_token_cache():
    TeamsBot._token_cache.clear()
    yield
    TeamsBot._token_cache.clear()


def test_the_reference_store_inserts_and_replaces(database_url):
    """On SQLite and PostgreSQL (conftest's database_url): one row per channel and sender."""
    store, other_server = ReferenceStore(database_url), ReferenceStore(database_url)
    try:
        assert store.get("slack", "U1_C1_1.0") is None
        store.save("slack", "U1_C1_1.0", {"channel": "C1", "thread_ts": "1.0"})
        other_server.save("slack", "U1_C1_1.0", {"channel": "C1", "thread_ts": "2.0"})
        store.save("teams", "U1_C1_1.0", {"service_url": "https://smba.example/", "conversation": {"id": "a:1"}})
        assert store.get("slack", "U1_C1_1.0") == {"channel": "C1", "thread_ts": "2.0"}
        assert other_server.get("teams", "U1_C1_1.0")["conversation"] == {"id": "a:1"}
        assert store.get("teams", "someone-else") is None
    finally:
        store.dispose()
        other_server.dispose()


# --- Teams ---------------------------------------------------------------------------------------


def test_teams_pushes_to_the_stored_conversation_also_after_a_restart(push_db, caplog):
    async def scenario():
        async with BotFrameworkStandIn() as bf:
            async with ChannelServer(teams(bf), FakeBot(replies=[]), database_url=push_db) as server:
                status, _, _ = await post_activity(server.url, bf, "窓口で怒鳴られています")
                assert status == 200
            assert bf.activities == []  # nothing sent yet: the bot had no reply

            push = teams(bf).get_output_channel()
            assert isinstance(push, TeamsPushBot) and push.name() == "teams"
            await push.send_text_message(USER["id"], REMINDER)
            await push.send_text_with_buttons(USER["id"], "続けますか？", BUTTONS)

            TeamsBot._token_cache.clear()  # a new process: a new channel instance, no token in memory
            after_restart = teams(bf).get_output_channel()
            await after_restart.send_response(USER["id"], bot_message("再起動後のリマインダー"))

            with caplog.at_level(logging.WARNING, logger="bot.channels.references"):
                await after_restart.send_text_message("29:someone-never-seen", "届かないはず")
                await after_restart.send_response("29:someone-never-seen", bot_message("届かないはず"))
            return bf

    bf = run(scenario())
    assert [a["conversation_id"] for a in bf.activities] == [CONVERSATION["id"]] * 3
    assert all(a["authorization"] == f"Bearer {bf.access_token}" for a in bf.activities)
    assert [r["tenant"] for r in bf.token_requests] == [TENANT, TENANT]  # one token per process (restart: new one)
    text, card, after_restart = (a["activity"] for a in bf.activities)
    assert text["text"] == REMINDER
    assert text["from"] == BOT and text["recipient"] == {"id": USER["id"]}
    (attachment,) = card["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.hero"
    assert attachment["content"]["text"] == "続けますか？"
    assert [b["text"] for b in attachment["content"]["buttons"]] == ["/affirm", "/deny"]
    assert after_restart["text"] == "再起動後のリマインダー"
    assert "No teams conversation reference for '29:someone-never-seen'" in caplog.text


def test_teams_stores_the_reference_of_the_latest_conversation(push_db):
    group = {"id": "19:group-chat@thread.v2", "conversationType": "groupChat", "tenantId": TENANT, "name": "窓口"}

    async def scenario():
        async with BotFrameworkStandIn() as bf:
            async with ChannelServer(teams(bf), FakeBot(replies=[]), database_url=push_db) as server:
                await post_activity(server.url, bf, "一件目")
                first = ReferenceStore(push_db).get("teams", USER["id"])
                await post_activity(server.url, bf, "二件目", conversation=group)
            await teams(bf).get_output_channel().send_text_message(USER["id"], REMINDER)
            return bf, first

    bf, first = run(scenario())
    assert first == {
        "service_url": bf.service_url,
        "conversation": {key: CONVERSATION[key] for key in ("id", "conversationType", "tenantId")},
        "bot": BOT,
        "tenant_id": TENANT,
    }
    (sent,) = bf.activities
    assert sent["conversation_id"] == group["id"]  # the conversation the employee wrote from last
    assert ReferenceStore(push_db).get("teams", USER["id"])["conversation"]["id"] == group["id"]


def test_a_refused_teams_request_stores_no_reference(push_db):
    async def scenario():
        async with BotFrameworkStandIn() as bf:
            async with ChannelServer(teams(bf), FakeBot(), database_url=push_db) as server:
                forged = message_activity(bf, "x", serviceUrl="http://127.0.0.1:9/")
                status, _, _ = await post_activity(server.url, bf, activity=forged)
                assert status == 401
            await teams(bf).get_output_channel().send_text_message(USER["id"], REMINDER)
            return bf

    bf = run(scenario())
    assert bf.activities == [] and bf.token_requests == []
    assert ReferenceStore(push_db).get("teams", USER["id"]) is None


async def post_activity(url, bf, text=None, activity=None, **fields):
    activity = activity or message_activity(bf, text, **fields)
    return await post(url, activity, headers=bearer(bf.token(APP_ID)))


# --- Slack ---------------------------------------------------------------------------------------


def slack_channel(api: SlackApiStandIn) -> SlackEventsInput:
    from tests.test_channel_slack import slack

    return slack(api)


def test_slack_pushes_into_the_conversations_thread_also_after_a_restart(push_db, caplog):
    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack_channel(api)
            async with ChannelServer(channel, FakeBot(replies=[]), database_url=push_db) as server:
                status, _, _ = await signed_post(server.url, mention(f"<@{BOT_USER}> 窓口で怒鳴られています"))
                assert status == 200
                await settled(channel)
                status, _, _ = await signed_post(server.url, direct_message("電話で怒鳴られています"))
                assert status == 200
                await settled(channel)
            assert api.calls == []

            push = slack_channel(api).get_output_channel()
            assert isinstance(push, SlackPushBot) and push.name() == "slack"
            await push.send_text_message(THREAD_CONVERSATION, REMINDER)
            await push.send_text_with_buttons(THREAD_CONVERSATION, "続けますか？", BUTTONS)
            await push.send_text_message("U0001_D0001", "DM へのリマインダー")

            after_restart = slack_channel(api).get_output_channel()
            await after_restart.send_response(THREAD_CONVERSATION, bot_message("再起動後のリマインダー"))
            with caplog.at_level(logging.WARNING, logger="bot.channels.references"):
                await after_restart.send_text_message("U0404_C0001_1700000000.000999", "届かないはず")
            return api

    api = run(scenario())
    assert all(call["authorization"] == f"Bearer {BOT_TOKEN}" for call in api.calls)
    args = [call["args"] for call in api.calls]
    assert [(a["channel"], a.get("thread_ts")) for a in args] == [
        ("C0001", MENTION_TS),
        ("C0001", MENTION_TS),
        ("D0001", None),  # a DM is not threaded
        ("C0001", MENTION_TS),
    ]
    assert args[0]["text"] == REMINDER
    assert [e["value"] for e in args[1]["blocks"][1]["elements"]] == ["/affirm", "/deny"]
    assert args[2]["text"] == "DM へのリマインダー"
    assert args[3]["text"] == "再起動後のリマインダー"
    assert "No slack conversation reference for 'U0404_C0001_1700000000.000999'" in caplog.text


def test_slack_replies_still_go_to_the_message_channel():
    channel = SlackEventsInput.from_credentials({"slack_token": BOT_TOKEN, "slack_signing_secret": "s"})
    assert channel.get_output_channel("C0001", MENTION_TS).thread_id == MENTION_TS
    assert isinstance(channel.get_output_channel(), SlackPushBot)


def test_a_database_failure_neither_stops_the_reply_nor_raises_into_rasa(tmp_path, caplog):
    """The reference cannot be stored (a directory where the database file should be): the user is still answered."""
    (tmp_path / "db").mkdir()
    broken = f"sqlite:///{tmp_path / 'db'}"
    bot = FakeBot(replies=[bot_message("はい")])

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack_channel(api)
            async with ChannelServer(channel, bot, database_url=broken) as server:
                await signed_post(server.url, mention(f"<@{BOT_USER}> 相談です"))
                await settled(channel)
            channel.database_url = broken
            await channel.get_output_channel().send_text_message(THREAD_CONVERSATION, REMINDER)
            return api

    with caplog.at_level(logging.ERROR, logger="bot.channels.references"):
        api = run(scenario())
    assert [call["args"]["text"] for call in api.calls] == ["はい"]  # the reply, no push
    assert "Could not store the slack conversation reference" in caplog.text
    assert "Could not look up the slack conversation" in caplog.text


# --- end to end: the timer service through Rasa's own trigger_intent route -----------------------


class StandInAgent:
    """The parts of rasa.core.agent.Agent that Rasa's HTTP routes use, without a trained model.

    handle_message logs the UserUttered (with its input channel) as Rasa's processor does;
    trigger_intent sends what action_time_box would say through the output channel Rasa chose.
    """

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()
        self.domain = Domain.from_dict({"intents": [TRIGGER_INTENT]})
        self.processor = SimpleNamespace(fetch_tracker_and_update_session=self.tracker_store.get_or_create_tracker)
        self.triggered: list = []

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message) -> None:
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, input_channel=message.input_channel))
        await self.tracker_store.save(tracker)

    async def trigger_intent(self, intent_name, entities, output_channel, tracker) -> None:
        self.triggered.append((tracker.sender_id, intent_name, type(output_channel).__name__))
        reminder = bot_message(REMINDER)
        tracker.update(BotUttered(REMINDER))
        await output_channel.send_response(tracker.sender_id, reminder)


class RasaServer:
    """Rasa's own HTTP server (rasa.server.create_app) on loopback with the channels registered as
    `rasa run` registers them, and a StandInAgent."""

    def __init__(self, channels) -> None:
        self.channels = channels
        self.agent = StandInAgent()
        self.base_url = ""

    async def __aenter__(self) -> "RasaServer":
        import rasa.server  # loads TensorFlow (a few seconds): only these tests need it
        from rasa.core.channels.channel import register

        app = rasa.server.create_app(agent=self.agent, cors_origins=None)
        register(self.channels, app, route="/webhooks/")
        sock = _loopback_socket()
        self._server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.base_url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()

    async def employee_writes(self, bf: BotFrameworkStandIn, slack: SlackEventsInput) -> None:
        status, _, _ = await post_activity(f"{self.base_url}/webhooks/teams/webhook", bf, "窓口で怒鳴られています")
        assert status == 200
        status, _, _ = await signed_post(f"{self.base_url}/webhooks/slack/webhook", mention(f"<@{BOT_USER}> 相談です"))
        assert status == 200
        await settled(slack)
        assert await eventually(lambda: len(self.agent.tracker_store.store) == 2)


def test_reminders_reach_teams_and_slack_through_rasas_trigger_intent(push_db):
    """The timer service's call (Slack) and the same call with the Teams id as Rasa receives it."""

    async def scenario():
        async with BotFrameworkStandIn() as bf, SlackApiStandIn() as api:
            slack = slack_channel(api)
            async with RasaServer([teams(bf), slack]) as rasa_server:
                await rasa_server.employee_writes(bf, slack)
                trigger = RasaTrigger(rasa_server.base_url)
                slack_result = await asyncio.to_thread(trigger, THREAD_CONVERSATION, ReminderKind.NEAR)
                unknown_result = await asyncio.to_thread(trigger, "never-seen", ReminderKind.NEAR)
                url = f"{rasa_server.base_url}/conversations/{USER['id']}/trigger_intent?output_channel=latest"
                status, body, _ = await post(url, {"name": TRIGGER_INTENT})
                assert status == 200, body
            return bf, api, rasa_server.agent, slack_result, unknown_result

    bf, api, agent, slack_result, unknown_result = run(scenario())
    assert slack_result.ok and unknown_result.ok  # an unknown conversation is no error (Rasa collects)
    assert [(t[0], t[2]) for t in agent.triggered] == [
        (THREAD_CONVERSATION, "SlackPushBot"),
        ("never-seen", "CollectingOutputChannel"),
        (USER["id"], "TeamsPushBot"),
    ]
    (slack_push,) = api.calls
    assert (slack_push["args"]["channel"], slack_push["args"]["thread_ts"]) == ("C0001", MENTION_TS)
    assert slack_push["args"]["text"] == REMINDER
    (teams_push,) = bf.activities
    assert teams_push["conversation_id"] == CONVERSATION["id"]
    assert teams_push["activity"]["text"] == REMINDER
    assert teams_push["activity"]["recipient"] == {"id": USER["id"]}


def test_the_timer_services_call_reaches_teams(push_db):
    async def scenario():
        async with BotFrameworkStandIn() as bf, SlackApiStandIn() as api:
            slack = slack_channel(api)
            async with RasaServer([teams(bf), slack]) as rasa_server:
                await rasa_server.employee_writes(bf, slack)
                result = await asyncio.to_thread(RasaTrigger(rasa_server.base_url), USER["id"], ReminderKind.NEAR)
            return bf, rasa_server.agent, result

    bf, agent, result = run(scenario())
    assert result.ok
    assert [t[0] for t in agent.triggered] == [USER["id"]]
    assert [a["activity"]["text"] for a in bf.activities] == [REMINDER]
