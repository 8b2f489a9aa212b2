"""The Teams channel against a loopback Bot Framework: JWT checks, replies, greeting, tokens."""
from __future__ import annotations

import time

import pytest
from rasa.shared.exceptions import InvalidConfigException, RasaException

from bot.channels.teams import (
    DEFAULT_TOKEN_ENDPOINT,
    TeamsBot,
    TeamsInput,
    strip_mentions,
    teams_buttons,
    token_endpoint_for,
)
from bot.settings import PROJECT_ROOT
from tests.channel_stand_ins import (
    BotFrameworkStandIn,
    ChannelServer,
    FakeBot,
    bot_message,
    channels_from_credentials,
    post,
    rsa_key,
    run,
    uncomment_block,
)

APP_ID = "0b1c2d3e-aaaa-bbbb-cccc-000000000001"
TENANT = "7f6e5d4c-1111-2222-3333-444444444444"
BOT = {"id": f"28:{APP_ID}", "name": "カスハラ相談"}
USER = {"id": "29:1user-employee", "name": "山田 花子", "aadObjectId": "a0a0a0a0-0000-0000-0000-000000000001"}
CONVERSATION = {"id": "a:1personal-conversation;messageid=1", "conversationType": "personal", "tenantId": TENANT}
BUTTONS = [{"title": "いま対応中です", "payload": "/affirm"}, {"title": "終わった後です", "payload": "/deny"}]
CHANNEL_BUTTONS = [
    {"title": title, "payload": f'/inform{{"channel": "{code}"}}'}
    for title, code in [("電話", "phone"), ("窓口・対面", "counter"), ("訪問先", "visit"), ("メール", "email"),
                        ("SNS", "sns"), ("手紙・文書", "letter")]
] + [{"title": "わからない", "payload": "/dont_know"}]


@pytest.fixture(autouse=True)
def fresh_token_cache():
    TeamsBot._token_cache.clear()
    yield
    TeamsBot._token_cache.clear()


def teams(bf: BotFrameworkStandIn, tenant_id=TENANT, **settings) -> TeamsInput:
    return TeamsInput.from_credentials(
        {
            "app_id": APP_ID,
            "app_password": "client-secret-for-tests",
            "tenant_id": tenant_id,
            "openid_metadata_url": bf.openid_metadata_url,
            "token_endpoint": bf.token_endpoint_template,
            **settings,
        }
    )


def message_activity(bf: BotFrameworkStandIn, text: str, **fields) -> dict:
    activity = {
        "type": "message",
        "id": "1700000000001",
        "timestamp": "2024-11-23T03:00:00.000Z",
        "serviceUrl": bf.service_url,
        "channelId": "msteams",
        "from": USER,
        "conversation": CONVERSATION,
        "recipient": BOT,
        "text": text,
        "textFormat": "plain",
        "entities": [{"type": "mention", "text": "<at>カスハラ相談</at>", "mentioned": BOT}],
        "channelData": {"tenant": {"id": TENANT}},
    }
    activity.update(fields)
    return activity


def members_added(bf: BotFrameworkStandIn, members, conversation_type="personal", sender=USER) -> dict:
    return {
        "type": "conversationUpdate",
        "id": "f:install",
        "serviceUrl": bf.service_url,
        "channelId": "msteams",
        "from": sender,
        "conversation": {**CONVERSATION, "conversationType": conversation_type},
        "recipient": BOT,
        "membersAdded": members,
        "channelData": {"tenant": {"id": TENANT}, "eventType": "teamMemberAdded"},
    }


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- a signed message is answered ------------------------------------------------------------


def test_a_signed_message_is_answered_through_the_connector():
    bot = FakeBot(
        replies=[
            bot_message("カスハラ対応をお手伝いします。順番に確認しましょう。"),
            bot_message("いま、まさに対応中ですか？ それとも対応が終わった後ですか？", buttons=BUTTONS),
        ]
    )

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            activity = message_activity(bf, "<at>カスハラ相談</at> 窓口で1時間も怒鳴られています")
            status, body, _ = await post(server.url, activity, headers=bearer(bf.token(APP_ID)))
            return bf, status, body

    bf, status, body = run(scenario())
    assert (status, body) == (200, "success")

    (message,) = bot.received
    assert message.text == "窓口で1時間も怒鳴られています"
    assert (message.sender_id, message.input_channel) == (USER["id"], "teams")

    assert [a["conversation_id"] for a in bf.activities] == [CONVERSATION["id"]] * 2
    assert all(a["authorization"] == f"Bearer {bf.access_token}" for a in bf.activities)
    text_reply, card_reply = (a["activity"] for a in bf.activities)
    assert text_reply["type"] == "message"
    assert text_reply["text"] == "カスハラ対応をお手伝いします。順番に確認しましょう。"
    assert text_reply["from"] == BOT and text_reply["recipient"] == {"id": USER["id"]}
    (card,) = card_reply["attachments"]
    assert card["contentType"] == "application/vnd.microsoft.card.hero"
    assert card["content"]["text"] == "いま、まさに対応中ですか？ それとも対応が終わった後ですか？"
    assert card["content"]["buttons"] == [
        {"type": "messageBack", "title": "いま対応中です", "text": "/affirm", "displayText": "いま対応中です",
         "value": {"payload": "/affirm"}},
        {"type": "messageBack", "title": "終わった後です", "text": "/deny", "displayText": "終わった後です",
         "value": {"payload": "/deny"}},
    ]


def test_the_single_tenant_token_comes_from_the_tenant_endpoint_once():
    bot = FakeBot(replies=[bot_message("はい")])

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            for text in ("一件目", "二件目"):
                status, _, _ = await post(server.url, message_activity(bf, text), headers=bearer(bf.token(APP_ID)))
                assert status == 200
            return bf

    bf = run(scenario())
    (request,) = bf.token_requests  # cached for the second reply
    assert request["tenant"] == TENANT
    assert request["form"] == {
        "client_id": APP_ID,
        "client_secret": "client-secret-for-tests",
        "grant_type": "client_credentials",
        "scope": "https://api.botframework.com/.default",
    }
    assert len(bf.activities) == 2


def test_without_a_tenant_the_multi_tenant_endpoint_is_used():
    bot = FakeBot(replies=[bot_message("はい")])

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf, tenant_id=None), bot) as server:
            await post(server.url, message_activity(bf, "相談です"), headers=bearer(bf.token(APP_ID)))
            return bf

    bf = run(scenario())
    assert [r["tenant"] for r in bf.token_requests] == ["botframework.com"]
    assert token_endpoint_for(DEFAULT_TOKEN_ENDPOINT, None) == (
        "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    )
    assert token_endpoint_for(DEFAULT_TOKEN_ENDPOINT, TENANT) == (
        f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    )


def test_more_than_six_buttons_are_split_over_cards():
    bot = FakeBot(replies=[bot_message("どこでのやり取りですか？", buttons=CHANNEL_BUTTONS)])

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            await post(server.url, message_activity(bf, "相談です"), headers=bearer(bf.token(APP_ID)))
            return bf

    bf = run(scenario())
    (sent,) = bf.activities
    first, second = sent["activity"]["attachments"]
    assert first["content"]["text"] == "どこでのやり取りですか？"
    assert [b["title"] for b in first["content"]["buttons"] + second["content"]["buttons"]] == [
        b["title"] for b in CHANNEL_BUTTONS
    ]
    assert len(first["content"]["buttons"]) == 6 and "text" not in second["content"]
    assert first["content"]["buttons"][0]["text"] == '/inform{"channel": "phone"}'


# --- refused requests ------------------------------------------------------------------------

OTHER_KEY = rsa_key("attacker")
NOW = int(time.time())


def _refusals():
    # (id, how to build the Authorization header from the stand-in, activity changes)
    return [
        ("no header", lambda bf: {}, {}),
        ("not bearer", lambda bf: {"Authorization": f"Basic {bf.token(APP_ID)}"}, {}),
        ("garbage token", lambda bf: bearer("not.a.jwt"), {}),
        ("signed by another key", lambda bf: bearer(bf.token(APP_ID, key=OTHER_KEY)), {}),
        ("unknown key id", lambda bf: bearer(bf.token(APP_ID, kid="some-other-kid")), {}),
        ("wrong audience", lambda bf: bearer(bf.token("another-bot-app-id")), {}),
        ("no audience", lambda bf: bearer(bf.token(APP_ID, aud=None)), {}),
        ("wrong issuer", lambda bf: bearer(bf.token(APP_ID, iss="https://sts.windows.net/evil/")), {}),
        ("expired", lambda bf: bearer(bf.token(APP_ID, exp=NOW - 3600, nbf=NOW - 7200)), {}),
        ("no expiry", lambda bf: bearer(bf.token(APP_ID, exp=None)), {}),
        ("not yet valid", lambda bf: bearer(bf.token(APP_ID, nbf=NOW + 3600)), {}),
        ("serviceUrl claim of another host", lambda bf: bearer(bf.token(APP_ID, service_url="https://evil.example/")), {}),
        ("no serviceUrl claim", lambda bf: bearer(bf.token(APP_ID, serviceUrl=None)), {}),
        ("activity redirected elsewhere", lambda bf: bearer(bf.token(APP_ID)), {"serviceUrl": "http://127.0.0.1:9/"}),
        ("key not endorsed for the channel", lambda bf: bearer(bf.token(APP_ID)), {"channelId": "webchat"}),
    ]


@pytest.mark.parametrize("authorization,changes", [r[1:] for r in _refusals()], ids=[r[0] for r in _refusals()])
def test_requests_not_from_the_bot_framework_are_refused(authorization, changes):
    bot = FakeBot()

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            activity = message_activity(bf, "窓口で怒鳴られています", **changes)
            status, body, _ = await post(server.url, activity, headers=authorization(bf))
            return bf, status, body

    bf, status, body = run(scenario())
    assert status == 401
    assert body["error"] == "unauthorized"
    assert bot.received == []
    assert bf.activities == [] and bf.token_requests == []


def test_a_token_with_another_algorithm_is_refused():
    """The algorithm is pinned to RS256: the token header's `alg` is not trusted."""
    import jwt

    bot = FakeBot()

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            claims = {"iss": bf.ISSUER, "aud": APP_ID, "exp": NOW + 600, "serviceUrl": bf.service_url}
            forged = jwt.encode(claims, "a-shared-secret-of-at-least-32-bytes!", algorithm="HS256", headers={"kid": bf.KEY_ID})
            return await post(server.url, message_activity(bf, "x"), headers=bearer(forged))

    status, _, _ = run(scenario())
    assert status == 401
    assert bot.received == []


def test_a_token_just_expired_is_within_the_leeway():
    bot = FakeBot(replies=[])

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            token = bf.token(APP_ID, exp=int(time.time()) - 60)
            return await post(server.url, message_activity(bf, "相談です"), headers=bearer(token))

    assert run(scenario())[0] == 200
    assert len(bot.received) == 1


def test_an_activity_from_another_tenant_is_refused():
    bot = FakeBot()

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            activity = message_activity(bf, "x", channelData={"tenant": {"id": "another-tenant"}})
            return await post(server.url, activity, headers=bearer(bf.token(APP_ID)))

    status, body, _ = run(scenario())
    assert (status, body["error"]) == (403, "forbidden")
    assert bot.received == []


def test_signing_keys_out_of_reach_give_503_and_nothing_reaches_the_bot():
    bot = FakeBot()

    async def scenario():
        async with BotFrameworkStandIn() as bf:
            channel = teams(bf, openid_metadata_url="http://127.0.0.1:9/no-metadata")
            async with ChannelServer(channel, bot) as server:
                return await post(server.url, message_activity(bf, "x"), headers=bearer(bf.token(APP_ID)))

    assert run(scenario())[0] == 503
    assert bot.received == []


def test_a_body_that_is_not_an_activity_is_refused():
    bot = FakeBot()

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            return await post(server.url, raw=b"[not json", headers=bearer(bf.token(APP_ID)))

    assert run(scenario())[0] == 400
    assert bot.received == []


# --- conversationUpdate ------------------------------------------------------------------------


def test_a_member_added_is_greeted_in_japanese_through_rasa():
    bot = FakeBot(replies=[bot_message("このアシスタントは、カスタマーハラスメントへの対応を順番にお手伝いします。")])

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            update = members_added(bf, [{"id": "29:new-member"}, BOT], conversation_type="groupChat")
            status, _, _ = await post(server.url, update, headers=bearer(bf.token(APP_ID)))
            return bf, status

    bf, status = run(scenario())
    assert status == 200
    (greeting,) = bot.received
    assert (greeting.text, greeting.sender_id, greeting.input_channel) == ("/ask_help", "29:new-member", "teams")
    (sent,) = bf.activities
    assert sent["activity"]["text"].startswith("このアシスタントは")
    assert sent["activity"]["recipient"] == {"id": "29:new-member"}


def test_installing_the_bot_in_a_personal_chat_greets_the_installer():
    bot = FakeBot(replies=[bot_message("ようこそ")])

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf, welcome_payload="/greet"), bot) as server:
            await post(server.url, members_added(bf, [BOT]), headers=bearer(bf.token(APP_ID)))

    run(scenario())
    assert [(m.text, m.sender_id) for m in bot.received] == [("/greet", USER["id"])]


@pytest.mark.parametrize(
    "members,conversation_type",
    [([BOT], "groupChat"), ([{"id": "29:someone"}], "channel"), ([], "personal")],
    ids=["bot added to a group chat", "member added to a team channel", "nobody added"],
)
def test_no_greeting_where_it_would_reach_nobody_or_everybody(members, conversation_type):
    bot = FakeBot()

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            status, _, _ = await post(
                server.url, members_added(bf, members, conversation_type), headers=bearer(bf.token(APP_ID))
            )
            return bf, status

    bf, status = run(scenario())
    assert status == 200
    assert bot.received == [] and bf.activities == []


def test_other_activity_types_are_acknowledged_and_ignored():
    bot = FakeBot()

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            typing = {**message_activity(bf, ""), "type": "typing"}
            return await post(server.url, typing, headers=bearer(bf.token(APP_ID)))

    assert run(scenario())[0] == 200
    assert bot.received == []


# --- pieces ------------------------------------------------------------------------------------


def test_mentions_are_stripped():
    activity = {"recipient": BOT, "entities": [{"type": "mention", "text": "<at>カスハラ相談</at>", "mentioned": BOT}]}
    assert strip_mentions("<at>カスハラ相談</at>&nbsp;窓口で怒鳴られています", activity) == "窓口で怒鳴られています"
    assert strip_mentions("<at>田中</at>さんが怒鳴られています <at>カスハラ相談</at>", activity) == "田中さんが怒鳴られています"
    # without entities (e.g. a forwarded text), the bot's name still goes
    assert strip_mentions("<at>カスハラ相談</at> 相談です", {"recipient": BOT}) == "相談です"
    assert strip_mentions("相談です", activity) == "相談です"


def test_link_buttons_open_urls():
    assert teams_buttons([{"title": "マニュアル", "payload": "https://example.org/manual"}]) == [
        {"type": "openUrl", "title": "マニュアル", "value": "https://example.org/manual"}
    ]


def test_app_id_and_password_are_mandatory():
    with pytest.raises(InvalidConfigException, match="app_id"):
        TeamsInput.from_credentials({"app_id": "", "app_password": "x"})
    with pytest.raises(InvalidConfigException):
        TeamsInput.from_credentials({"app_id": APP_ID})


def test_the_documented_credentials_build_the_channel(tmp_path, monkeypatch):
    enabled = tmp_path / "credentials.yml"
    text = (PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8")
    enabled.write_text(uncomment_block(text, "bot.channels.teams.TeamsInput"), encoding="utf-8")
    with pytest.raises(RasaException, match="TEAMS_APP_ID"):
        channels_from_credentials(str(enabled))
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("TEAMS_APP_PASSWORD", "secret")
    monkeypatch.setenv("TEAMS_TENANT_ID", TENANT)
    (channel,) = [c for c in channels_from_credentials(str(enabled)) if isinstance(c, TeamsInput)]
    assert channel.url_prefix() == "teams"
    assert (channel.app_id, channel.tenant_id, channel.welcome_payload) == (APP_ID, TENANT, "/ask_help")
    assert channel.token_endpoint == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert channel.openid_metadata_url == "https://login.botframework.com/v1/.well-known/openidconfiguration"


# --- the conduct toggles as an Adaptive Card ------------------------------------------------

def adaptive_card_messages(*cards):
    """What Microsoft's Adaptive Cards library (npm `adaptivecards`) reports for each card."""
    import json
    import subprocess

    checked = subprocess.run(
        ["node", str(PROJECT_ROOT / "tests" / "adaptive_card_check.js")],
        input=json.dumps(cards), capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT, check=True,
    )
    return json.loads(checked.stdout)


def test_microsofts_library_reports_a_broken_card():
    (messages,) = adaptive_card_messages(
        {"type": "AdaptiveCard", "version": "1.3", "body": [{"type": "Bogus"}, {"type": "Input.Toggle", "title": "x"}]}
    )
    assert any("Bogus" in message for message in messages) and any("Id" in message for message in messages)


def toggle_message():
    from bot.codes import Behavior
    from bot.prompts import confirm_behaviors

    prompt = confirm_behaviors([Behavior.INTIMIDATION, Behavior.PERSISTENT])
    return bot_message(prompt.reply.text, buttons=[b.to_dict() for b in prompt.reply.buttons],
                       custom={"data": {"choices": prompt.choices.to_dict()}})


def test_the_conduct_toggles_are_one_valid_adaptive_card_and_the_submission_reaches_the_bot():
    from botbuilder.schema import Activity

    bot = FakeBot(replies=[toggle_message()])

    async def scenario():
        async with BotFrameworkStandIn() as bf, ChannelServer(teams(bf), bot) as server:
            await post(server.url, message_activity(bf, "窓口で何度も怒鳴られています"), headers=bearer(bf.token(APP_ID)))
            card = bf.activities[0]["activity"]["attachments"][0]["content"]
            choice_sets = [item for item in card["body"] if item["type"] == "Input.ChoiceSet"]
            # Teams posts an Action.Submit back as a message with the data and the inputs in `value`
            submitted = {**card["actions"][0]["data"], choice_sets[0]["id"]: "intimidation",
                         choice_sets[1]["id"]: "sns_exposure,persistent"}
            submit = message_activity(bf, None, value=submitted)
            submit.pop("text")
            await post(server.url, submit, headers=bearer(bf.token(APP_ID)))
            button = message_activity(bf, None, value=card["actions"][-1]["data"])
            button.pop("text")
            await post(server.url, button, headers=bearer(bf.token(APP_ID)))
            return bf

    bf = run(scenario())
    sent = bf.activities[0]["activity"]  # the stand-in bot answers every message with the toggles
    parsed = Activity.from_dict(sent)
    assert parsed.validate() == []
    assert parsed.type == "message" and parsed.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"
    card = parsed.attachments[0].content
    assert adaptive_card_messages(card) == [[]]
    choice_sets = [item for item in card["body"] if item["type"] == "Input.ChoiceSet"]
    assert all(item["isMultiSelect"] for item in choice_sets)
    assert sorted(c["value"] for item in choice_sets for c in item["choices"]) == sorted(
        o["code"] for g in toggle_message()["custom"]["data"]["choices"]["groups"] for o in g["options"])
    preselected = {code for item in choice_sets for code in item["value"].split(",") if code}
    assert preselected == {"intimidation", "persistent"}
    assert [a["title"] for a in card["actions"]] == ["この内容で確定", "合っています", "どれも違う"]
    assert [m.text for m in bot.received[1:]] == [
        '/inform{"behavior":["intimidation","sns_exposure","persistent"]}', "/deny"]
