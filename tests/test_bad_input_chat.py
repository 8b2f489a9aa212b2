"""Bad input on the employees' chat channels (Teams, Slack): the employee gets a polite Japanese
reply in place, nothing reaches the bot, the channel goes on. Loopback stand-ins, signed requests."""
from __future__ import annotations

import json

import pytest

from bot.text_input import SAFETY_HINT
from tests.channel_stand_ins import (
    BotFrameworkStandIn,
    ChannelServer,
    FakeBot,
    SlackApiStandIn,
    bot_message,
    post,
    run,
    slack_headers,
)
from tests.test_channel_slack import BOT_USER, SECRET, direct_message, mention, settled, slack
from tests.test_channel_teams import APP_ID, USER, bearer, message_activity, teams

BAD_TEXTS = [
    ("lone surrogate", "窓口で\udfff", "読み取れない文字"),
    ("only control characters", "\x00\x07\x1b", "メッセージが空でした"),
    ("too long", "怒" * 2001, "メッセージが長すぎる"),
]


def ascii_json(body: dict) -> bytes:
    return json.dumps(body).encode("ascii")  # \\u escapes: lone surrogates travel as JSON allows


# --- Teams ---------------------------------------------------------------------------------------


def teams_exchange(activities):
    bot = FakeBot(replies=[bot_message("はい")])

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            statuses = []
            for make_activity in activities:
                status, _, _ = await post(server.url, raw=ascii_json(make_activity(bf)), headers=bearer(bf.token(APP_ID)))
                statuses.append(status)
            return statuses, [a["activity"].get("text") for a in bf.activities]

    statuses, sent = run(scenario())
    return statuses, sent, bot


@pytest.mark.parametrize("text,reply", [case[1:] for case in BAD_TEXTS], ids=[case[0] for case in BAD_TEXTS])
def test_teams_bad_text_gets_a_polite_reply(text, reply):
    statuses, sent, bot = teams_exchange([lambda bf: message_activity(bf, text)])
    assert statuses == [200] and bot.received == []
    (answer,) = sent
    assert answer.startswith(reply) and answer.endswith(SAFETY_HINT)


def test_teams_sender_with_a_lone_surrogate_is_refused_and_the_next_message_is_answered():
    statuses, sent, bot = teams_exchange([
        lambda bf: message_activity(bf, "窓口です", **{"from": {**USER, "id": "29:\udfff"}}),
        lambda bf: message_activity(bf, "窓口\x00で怒鳴られています\u202e"),
    ])
    assert statuses == [200, 200]
    assert sent[0].startswith("会話を確認できなかった") and sent[1] == "はい"
    (message,) = bot.received
    assert message.text == "窓口で怒鳴られています" and message.sender_id == USER["id"]


def test_teams_metadata_with_a_lone_surrogate_is_refused():
    attachment = [{"contentType": "text/html", "content": "<p>\ud800</p>"}]
    statuses, sent, bot = teams_exchange([lambda bf: message_activity(bf, "窓口です", attachments=attachment)])
    assert statuses == [200] and bot.received == [] and sent[0].startswith("読み取れない文字")


# --- Slack ---------------------------------------------------------------------------------------


def slack_exchange(bodies):
    bot = FakeBot(replies=[bot_message("はい")])

    async def scenario():
        async with SlackApiStandIn() as api:
            channel = slack(api)
            async with ChannelServer(channel, bot) as server:
                statuses = []
                for body in bodies:
                    raw = ascii_json(body)
                    status, _, _ = await post(server.url, raw=raw, headers=slack_headers(SECRET, raw))
                    statuses.append(status)
                    await settled(channel)
            return statuses, [call["args"]["text"] for call in api.calls]

    statuses, sent = run(scenario())
    return statuses, sent, bot


@pytest.mark.parametrize("text,reply", [case[1:] for case in BAD_TEXTS], ids=[case[0] for case in BAD_TEXTS])
def test_slack_bad_text_gets_a_polite_reply_in_place(text, reply):
    statuses, sent, bot = slack_exchange([mention(f"<@{BOT_USER}> {text}")])
    assert statuses == [200] and bot.received == []
    (answer,) = sent
    assert answer.startswith(reply) and answer.endswith(SAFETY_HINT)


def test_slack_control_characters_are_removed_and_the_conversation_goes_on():
    statuses, sent, bot = slack_exchange([
        direct_message("\udfff", event_id="Ev1"),
        direct_message("窓口\x00で\x1b怒鳴られています", ts="1700000200.000300", event_id="Ev2"),
    ])
    assert statuses == [200, 200] and sent[0].startswith("読み取れない文字") and sent[1] == "はい"
    (message,) = bot.received
    assert message.text == "窓口で怒鳴られています"
