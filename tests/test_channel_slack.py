"""The Slack channel against a loopback Slack Web API: signatures, threads, retries, buttons."""
from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from rasa.shared.exceptions import InvalidConfigException, RasaException

from bot.channels.slack import SeenDeliveries, SlackEventsInput, SlackPushBot
from bot.settings import PROJECT_ROOT
from tests.channel_stand_ins import (
    ChannelServer,
    FakeBot,
    SlackApiStandIn,
    bot_message,
    channels_from_credentials,
    eventually,
    post,
    run,
    slack_headers,
    uncomment_block,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-0000-bot-token"
BOT_USER = "UBOT0001"
MENTION_TS = "1700000000.000100"
CHANNEL_BUTTONS = [
    {"title": title, "payload": f'/inform{{"channel": "{code}"}}'}
    for title, code in [("電話", "phone"), ("窓口・対面", "counter"), ("訪問先", "visit"), ("メール", "email"),
                        ("SNS", "sns"), ("手紙・文書", "letter")]
] + [{"title": "わからない", "payload": "/dont_know"}]


def slack(api: SlackApiStandIn, **settings) -> SlackEventsInput:
    return SlackEventsInput.from_credentials(
        {
            "slack_token": BOT_TOKEN,
            "slack_signing_secret": SECRET,
            "use_threads": True,
            "conversation_granularity": "thread",
            "slack_api_url": api.api_url,
            **settings,
        }
    )


def event_callback(event: dict, event_id: str = "Ev0001") -> dict:
    return {
        "token": "legacy-verification-token",
        "team_id": "T0001",
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000000,
        "authorizations": [{"team_id": "T0001", "user_id": BOT_USER, "is_bot": True}],
    }


def mention(text: str, ts: str = MENTION_TS, thread_ts: str | None = None, event_id: str = "Ev0001") -> dict:
    event = {"type": "app_mention", "user": "U0001", "text": text, "ts": ts, "channel": "C0001", "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_callback(event, event_id)


def direct_message(text: str, ts: str = "1700000100.000200", event_id: str = "Ev0100") -> dict:
    event = {"type": "message", "channel_type": "im", "user": "U0001", "text": text, "ts": ts, "channel": "D0001"}
    return event_callback(event, event_id)


async def signed_post(url: str, body: dict, secret: str = SECRET, timestamp: int | None = None, extra=None):
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return await post(url, raw=raw, headers={**slack_headers(secret, raw, timestamp), **(extra or {})})


async def settled(channel: SlackEventsInput) -> None:
    """Wait until the turns Rasa's Slack channel runs in the background are done."""
    assert await eventually(lambda: not channel._background_tasks)


# --- a signed event is answered in its thread ---------------------------------------------------


def test_a_mention_is_answered_in_a_thread_that_stays_one_conversation():
    bot = FakeBot(
        replies=[
            bot_message("カスハラ対応をお手伝いします。順番に確認しましょう。"),
            bot_message("どこでのやり取りですか？", buttons=CHANNEL_BUTTONS),
        ]
    )

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                status, _, _ = await signed_post(server.url, mention(f"<@{BOT_USER}> 窓口で怒鳴られています"))
                assert status == 200
                await settled(channel)
                follow_up = mention(f"<@{BOT_USER}> 電話です", ts="1700000050.000300", thread_ts=MENTION_TS,
                                    event_id="Ev0002")
                status, _, _ = await signed_post(server.url, follow_up)
                assert status == 200
                await settled(channel)
            return api

    api = run(scenario())
    first, second = bot.received
    assert first.text == "窓口で怒鳴られています"  # the bot's own mention is removed
    assert first.sender_id == second.sender_id == f"U0001_C0001_{MENTION_TS}"
    assert first.input_channel == "slack"

    assert len(api.calls) == 4
    for call in api.calls:
        assert call["authorization"] == f"Bearer {BOT_TOKEN}"
        assert call["args"]["channel"] == "C0001"
        assert call["args"]["thread_ts"] == MENTION_TS  # every reply in the mention's thread
        assert "as_user" not in call["args"]
    assert api.calls[0]["args"]["text"] == "カスハラ対応をお手伝いします。順番に確認しましょう。"
    blocks = api.calls[1]["args"]["blocks"]
    assert blocks[0] == {"type": "section", "text": {"type": "plain_text", "text": "どこでのやり取りですか？"}}
    (actions,) = blocks[1:]
    assert actions["type"] == "actions"
    assert [(e["type"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("button", b["title"], b["payload"]) for b in CHANNEL_BUTTONS
    ]


def test_a_direct_message_and_a_button_click_stay_in_one_dm_conversation():
    bot = FakeBot(replies=[bot_message("いま、まさに対応中ですか？", buttons=CHANNEL_BUTTONS[:2])])

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                await signed_post(server.url, direct_message("窓口で怒鳴られています"))
                await settled(channel)
                click = {
                    "type": "block_actions",
                    "user": {"id": "U0001"},
                    "channel": {"id": "D0001"},
                    "container": {"type": "message", "message_ts": "1700000101.000300", "channel_id": "D0001"},
                    "message": {"type": "message", "ts": "1700000101.000300", "text": "いま、まさに対応中ですか？"},
                    "actions": [{"type": "button", "value": "/affirm", "action_ts": "1700000110.123456",
                                 "block_id": "b1", "action_id": "a1"}],
                }
                raw = urlencode({"payload": json.dumps(click, ensure_ascii=False)}).encode()
                headers = slack_headers(SECRET, raw, content_type="application/x-www-form-urlencoded")
                status, _, _ = await post(server.url, raw=raw, headers=headers)
                assert status == 200
                await settled(channel)
            return api

    api = run(scenario())
    assert [(m.text, m.sender_id) for m in bot.received] == [
        ("窓口で怒鳴られています", "U0001_D0001"),
        ("/affirm", "U0001_D0001"),
    ]
    assert [call["args"]["channel"] for call in api.calls] == ["D0001", "D0001"]
    assert all("thread_ts" not in call["args"] for call in api.calls)  # a DM is answered in the DM


# --- refused requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_headers",
    [
        lambda raw: slack_headers("another-signing-secret", raw),
        lambda raw: {**slack_headers(SECRET, raw), "X-Slack-Signature": "v0=" + "0" * 64},
        lambda raw: {"Content-Type": "application/json"},
        lambda raw: {**slack_headers(SECRET, raw), "X-Slack-Request-Timestamp": str(int(time.time()) + 1)},
        lambda raw: slack_headers(SECRET, raw + b" "),  # signed another body
    ],
    ids=["other secret", "forged signature", "no signature", "timestamp not the signed one", "body changed"],
)
def test_a_badly_signed_event_is_refused_and_nothing_reaches_the_bot(make_headers):
    bot = FakeBot()

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                raw = json.dumps(mention(f"<@{BOT_USER}> 窓口で怒鳴られています")).encode()
                status, _, _ = await post(server.url, raw=raw, headers=make_headers(raw))
                await settled(channel)
            return api, status

    api, status = run(scenario())
    assert status in (400, 401)
    assert bot.received == [] and api.calls == []


@pytest.mark.parametrize("age_seconds", [301, 3600])
def test_a_request_older_than_five_minutes_is_refused(age_seconds):
    bot = FakeBot()

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                old = int(time.time()) - age_seconds
                status, _, _ = await signed_post(server.url, mention("古いリクエスト"), timestamp=old)
                await settled(channel)
            return api, status

    api, status = run(scenario())
    assert status == 400
    assert bot.received == [] and api.calls == []


def test_a_request_four_minutes_old_is_still_accepted():
    bot = FakeBot(replies=[])

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                status, _, _ = await signed_post(server.url, mention("相談です"), timestamp=int(time.time()) - 240)
                await settled(channel)
            return status

    assert run(scenario()) == 200
    assert len(bot.received) == 1


# --- retries and duplicates ------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["http_error", "http_timeout", "unknown_error"])
def test_a_retried_event_is_not_answered_twice(reason):
    bot = FakeBot(replies=[bot_message("カスハラ対応をお手伝いします。")])

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                body = mention(f"<@{BOT_USER}> 窓口で怒鳴られています")
                first = await signed_post(server.url, body)
                await settled(channel)
                retries = [
                    await signed_post(server.url, body, extra={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": reason})
                    for n in (1, 2)
                ]
                await settled(channel)
            return api, first, retries

    api, first, retries = run(scenario())
    assert first[0] == 200
    for status, _, headers in retries:
        assert status == 200
        assert headers.get("X-Slack-No-Retry") == "1"
    assert len(bot.received) == 1
    assert len(api.calls) == 1


def test_a_retry_of_a_delivery_never_received_is_answered_once():
    bot = FakeBot(replies=[bot_message("はい")])

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                body = direct_message("相談です", event_id="EvLost")
                retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
                await signed_post(server.url, body, extra=retry)
                await signed_post(server.url, body, extra={**retry, "X-Slack-Retry-Num": "2"})
                await settled(channel)
            return api

    api = run(scenario())
    assert len(bot.received) == 1 and len(api.calls) == 1


def test_the_same_message_as_two_events_is_answered_once():
    bot = FakeBot(replies=[bot_message("はい")])

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                as_mention = mention(f"<@{BOT_USER}> 相談です", event_id="EvA")
                as_message = json.loads(json.dumps(as_mention))
                as_message["event"]["type"] = "message"
                as_message["event_id"] = "EvB"
                as_message["event"]["channel_type"] = "channel"
                await signed_post(server.url, as_mention)
                await signed_post(server.url, as_message)
                await settled(channel)
            return api

    api = run(scenario())
    assert len(bot.received) == 1 and len(api.calls) == 1


def test_seen_deliveries_are_forgotten_after_their_time():
    seen = SeenDeliveries(ttl_seconds=0.05, max_entries=2)
    assert seen.check_and_add(["event:1", "message:C:1"]) is False
    assert seen.check_and_add(["message:C:1"]) is True
    time.sleep(0.06)
    assert seen.check_and_add(["event:1"]) is False
    assert seen.check_and_add(["event:2"]) is False
    assert seen.check_and_add(["event:3"]) is False
    assert len(seen._seen) <= 2


# --- URL verification, configuration -----------------------------------------------------------------


def test_url_verification_answers_the_challenge_when_signed():
    bot = FakeBot()
    body = {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}

    async def scenario():
        async with SlackApiStandIn() as api, ChannelServer(slack(api), bot) as server:
            signed = await signed_post(server.url, body)
            unsigned = await signed_post(server.url, body, secret="wrong")
            return signed, unsigned

    signed, unsigned = run(scenario())
    assert signed[:2] == (200, {"challenge": body["challenge"]})
    assert unsigned[0] == 400
    assert bot.received == []


def test_the_signing_secret_is_mandatory():
    with pytest.raises(InvalidConfigException, match="signing secret"):
        SlackEventsInput.from_credentials({"slack_token": BOT_TOKEN})
    with pytest.raises(InvalidConfigException):
        SlackEventsInput.from_credentials({"slack_token": BOT_TOKEN, "slack_signing_secret": ""})


def test_the_documented_credentials_build_the_channel(tmp_path, monkeypatch):
    enabled = tmp_path / "credentials.yml"
    text = (PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8")
    enabled.write_text(uncomment_block(text, "bot.channels.slack.SlackEventsInput"), encoding="utf-8")
    with pytest.raises(RasaException, match="SLACK_"):
        channels_from_credentials(str(enabled))
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    (channel,) = [c for c in channels_from_credentials(str(enabled)) if isinstance(c, SlackEventsInput)]
    assert channel.url_prefix() == "slack"
    assert (channel.slack_token, channel.slack_signing_secret) == (BOT_TOKEN, SECRET)
    assert channel.use_threads is True and channel.conversation_granularity == "thread"
    assert channel.slack_api_url == "https://slack.com/api/"


def test_without_a_conversation_the_slack_output_channel_pushes_to_the_stored_thread():
    """`trigger_intent?output_channel=latest` asks the channel without a conversation (see test_channel_push)."""
    channel = SlackEventsInput.from_credentials({"slack_token": BOT_TOKEN, "slack_signing_secret": SECRET})
    assert isinstance(channel.get_output_channel(), SlackPushBot)
    assert channel.get_output_channel("D0001").slack_channel == "D0001"


# --- the conduct toggles as Block Kit checkboxes ---------------------------------------------


def toggle_message():
    from bot.codes import Behavior
    from bot.prompts import behavior_question

    prompt = behavior_question(None, [Behavior.VERBAL_ABUSE])
    return bot_message(prompt.reply.text, buttons=[b.to_dict() for b in prompt.reply.buttons],
                       custom={"data": {"choices": prompt.choices.to_dict()}})


def block_actions(action: dict, state: dict | None = None) -> bytes:
    click = {
        "type": "block_actions",
        "user": {"id": "U0001"},
        "channel": {"id": "D0001"},
        "container": {"type": "message", "message_ts": "1700000101.000300", "channel_id": "D0001"},
        "message": {"type": "message", "ts": "1700000101.000300", "text": "相手の言動"},
        "actions": [{"action_ts": "1700000110.12345" + str(len(json.dumps(action)) % 10), **action}],
    }
    if state is not None:
        click["state"] = {"values": state}
    return urlencode({"payload": json.dumps(click, ensure_ascii=False)}).encode()


def test_the_conduct_toggles_are_valid_block_kit_and_only_the_submit_reaches_the_bot():
    from slack_sdk.models.blocks import ActionsBlock, Block, CheckboxesElement, SectionBlock

    bot = FakeBot(replies=[toggle_message()])

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                await signed_post(server.url, direct_message("窓口で怒鳴られています"))
                await settled(channel)
                blocks = api.calls[0]["args"]["blocks"]
                groups = [b for b in blocks if b.get("accessory", {}).get("type") == "checkboxes"]
                checkbox = groups[0]["accessory"]
                toggle = {"type": "checkboxes", "block_id": groups[0]["block_id"], "action_id": checkbox["action_id"],
                          "selected_options": checkbox["options"][:1]}
                sent = []
                for raw in (
                    block_actions(toggle),  # ticking a box: acknowledged, not a turn
                    block_actions(blocks[-1]["elements"][0], state={
                        groups[0]["block_id"]: {checkbox["action_id"]: {
                            "type": "checkboxes", "selected_options": checkbox["options"][:2]}},
                        groups[1]["block_id"]: {checkbox["action_id"]: {"type": "checkboxes", "selected_options": []}},
                    }),
                ):
                    headers = slack_headers(SECRET, raw, content_type="application/x-www-form-urlencoded")
                    status, _, _ = await post(server.url, raw=raw, headers=headers)
                    sent.append(status)
                    await settled(channel)
                unsigned = block_actions(toggle)
                refused, _, _ = await post(server.url, raw=unsigned, headers={
                    "Content-Type": "application/x-www-form-urlencoded"})
            return api, blocks, sent, refused

    api, blocks, statuses, refused = run(scenario())
    assert statuses == [200, 200] and refused == 400
    parsed = Block.parse_all(blocks)
    for block in parsed:
        block.validate_json()  # slack_sdk raises SlackObjectFormationError on a malformed block
    assert isinstance(parsed[0], SectionBlock) and isinstance(parsed[-1], ActionsBlock)
    checkboxes = [b.accessory for b in parsed if isinstance(getattr(b, "accessory", None), CheckboxesElement)]
    assert sorted(o.value for c in checkboxes for o in c.options) == sorted(
        o["code"] for g in toggle_message()["custom"]["data"]["choices"]["groups"] for o in g["options"])
    assert [o.value for c in checkboxes for o in (c.initial_options or [])] == ["verbal_abuse"]
    submit, *others = parsed[-1].elements
    assert submit.text.text == "この内容で確定"
    assert [e.text.text for e in others] == ["特にない", "わからない"]  # the group buttons are the toggles here
    assert [m.text for m in bot.received] == ["窓口で怒鳴られています", '/inform{"behavior":["physical_attack","threat"]}']
