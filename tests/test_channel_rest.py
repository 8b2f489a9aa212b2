"""The protected REST channel on a loopback Sanic server, the kasuhara payload, credentials.yml."""
from __future__ import annotations

import copy
import time

import pytest
from rasa.core.channels.channel import register
from rasa.shared.exceptions import InvalidConfigException, RasaException
from sanic import Sanic

from bot.channels.payload import reply_metadata, with_metadata
from bot.channels.rest import ProtectedRestInput
from bot.text_input import MAX_MESSAGE_CHARS, MAX_SENDER_CHARS
from bot.settings import PROJECT_ROOT, OrganizationSettings, load_organization
from bot.rasa.tracker_store import SlotHandoverSQLTrackerStore
from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.events import SlotSet
from tests.channel_stand_ins import (
    ChannelServer,
    channels_from_credentials,
    FakeBot,
    bot_message,
    kasuhara_domain,
    post,
    run,
    uncomment_block,
)

TOKEN = "rest-token-for-tests-0123456789"
LIMIT = 20  # the test organisation's time limit (minutes)
BUTTONS = [{"title": "いま対応中です", "payload": "/affirm"}, {"title": "終わった後です", "payload": "/deny"}]


@pytest.fixture(autouse=True)
def organization(tmp_path, monkeypatch):
    organization_file = tmp_path / "organization.yml"
    organization_file.write_text(
        f"name: テスト町役場\ntime_limit: {{minutes: {LIMIT}, warn_before_minutes: 5}}\n", encoding="utf-8"
    )
    monkeypatch.setenv("ORGANIZATION_FILE", str(organization_file))
    monkeypatch.delenv("REST_CHANNEL_TOKEN", raising=False)


def live_slots(minutes_ago: float, **more):
    return {"ongoing": True, "case_started_at": time.time() - minutes_ago * 60, **more}


def tracked_bot(replies=None, slots=None, fail=False) -> FakeBot:
    return FakeBot(replies=replies, slots=slots, fail=fail, tracker_store=InMemoryTrackerStore(kasuhara_domain()))


# --- reply_metadata ---------------------------------------------------------------------------


def test_metadata_of_a_fresh_conversation():
    assert reply_metadata({}, time.time(), load_organization()) == {
        "stage": None,
        "verdict": None,
        "elapsed_minutes": None,
        "over_time_limit": False,
        "time_limit_minutes": LIMIT,
        "asking": None,
        "understood": NOTHING_UNDERSTOOD,
    }


def test_metadata_of_a_live_exchange_past_the_limit():
    now = time.time()
    slots = {"ongoing": True, "case_started_at": now - 25 * 60, "stage": "time_box", "verdict": "harassment"}
    assert reply_metadata(slots, now, load_organization()) == {
        "stage": "time_box",
        "verdict": "harassment",
        "elapsed_minutes": 25,
        "over_time_limit": True,
        "time_limit_minutes": LIMIT,
        "asking": None,
        "understood": {"behaviors": [], "behaviors_confirmed": False, "facts": {"ongoing": True}},
    }


NOTHING_UNDERSTOOD = {"behaviors": [], "behaviors_confirmed": False, "facts": {}}


def test_metadata_says_what_is_asked_and_what_is_understood():
    slots = {"requested_slot": "our_fault", "behaviors": ["verbal_abuse"], "suggested_behaviors": [],
             "ongoing": True, "situation_channel": "phone", "our_fault": None, "demand_related": "unknown"}
    metadata = reply_metadata(slots, time.time(), load_organization())
    assert metadata["asking"] == "our_fault"
    assert metadata["understood"] == {"behaviors": ["verbal_abuse"], "behaviors_confirmed": True,
                                      "facts": {"ongoing": True, "situation_channel": "phone"}}
    pending = reply_metadata({"suggested_behaviors": ["threat"], "requested_slot": "behaviors"}, time.time(), load_organization())
    assert pending["understood"]["behaviors"] == ["threat"] and pending["understood"]["behaviors_confirmed"] is False


def test_metadata_just_before_and_at_the_limit():
    now = time.time()
    assert reply_metadata({"ongoing": True, "case_started_at": now - (LIMIT * 60 - 1)}, now, load_organization())["over_time_limit"] is False
    assert reply_metadata({"ongoing": True, "case_started_at": now - LIMIT * 60}, now, load_organization())["over_time_limit"] is True


def test_metadata_after_the_fact_reports_minutes_but_no_live_limit():
    metadata = reply_metadata({"ongoing": False, "elapsed_minutes": 90, "stage": "judgement"}, time.time(), load_organization())
    assert metadata["elapsed_minutes"] == 90
    assert metadata["over_time_limit"] is False
    assert metadata["stage"] == "judgement"


def test_metadata_carries_codes_only():
    slots = {"stage": "判断", "verdict": "maybe", "elapsed_minutes": "unknown"}
    assert reply_metadata(slots, time.time(), load_organization()) == {
        "stage": None,
        "verdict": None,
        "elapsed_minutes": None,
        "over_time_limit": False,
        "time_limit_minutes": LIMIT,
        "asking": None,
        "understood": NOTHING_UNDERSTOOD,
    }


def test_metadata_with_explicit_settings():
    settings = OrganizationSettings(name="x", time_limit_minutes=45, warn_before_minutes=10)
    metadata = reply_metadata(live_slots(40), time.time(), settings)
    assert metadata["time_limit_minutes"] == 45
    assert metadata["over_time_limit"] is False


def test_with_metadata_keeps_an_existing_custom_payload():
    metadata = reply_metadata({}, time.time(), load_organization())
    reply = {"recipient_id": "e1", "custom": {"record_id": 7}}
    assert with_metadata(reply, metadata) == {"recipient_id": "e1", "custom": {"record_id": 7, "kasuhara": metadata}}
    assert reply == {"recipient_id": "e1", "custom": {"record_id": 7}}  # not modified
    assert with_metadata({"text": "x"}, metadata) == {"text": "x", "custom": {"kasuhara": metadata}}


# --- the channel with a token -----------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", TOKEN],
)
def test_without_the_right_token_nothing_reaches_the_bot(monkeypatch, authorization):
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)
    bot = tracked_bot()

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            headers = {"Authorization": authorization} if authorization is not None else {}
            return await post(server.url, {"sender": "employee-1", "message": "窓口で怒鳴られています"}, headers=headers)

    status, body, headers = run(scenario())
    assert status == 401
    assert body["error"] == "unauthorized"
    assert "Bearer" in body["message"]
    assert headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert bot.received == []


def test_the_token_is_checked_before_the_body(monkeypatch):
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)
    bot = tracked_bot()

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(server.url, raw=b"not json")

    status, body, _ = run(scenario())
    assert (status, body["error"]) == (401, "unauthorized")


def test_with_the_right_token_every_reply_carries_the_kasuhara_payload(monkeypatch):
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)
    bot = tracked_bot(
        replies=[
            bot_message("カスハラ対応をお手伝いします。順番に確認しましょう。"),
            bot_message("いま、まさに対応中ですか？", buttons=BUTTONS),
            bot_message(custom={"record_id": 12}),
        ],
        slots=live_slots(25, stage="fact_finding", verdict=None),
    )

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(
                server.url,
                {"sender": "employee-1", "message": "窓口で怒鳴られています", "metadata": {"client": "web"}},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )

    status, replies, _ = run(scenario())
    assert status == 200
    expected = {
        "stage": "fact_finding",
        "verdict": None,
        "elapsed_minutes": 25,
        "over_time_limit": True,
        "time_limit_minutes": LIMIT,
        "asking": None,
        "understood": {"behaviors": [], "behaviors_confirmed": False, "facts": {"ongoing": True}},
    }
    assert [reply["custom"]["kasuhara"] for reply in replies] == [expected] * 3
    assert replies[0]["text"] == "カスハラ対応をお手伝いします。順番に確認しましょう。"
    assert replies[0]["recipient_id"] == "employee-1"
    assert replies[1]["buttons"] == BUTTONS
    assert replies[2]["custom"]["record_id"] == 12
    (message,) = bot.received
    assert (message.sender_id, message.text, message.input_channel) == ("employee-1", "窓口で怒鳴られています", "rest")
    assert message.metadata == {"client": "web"}


def test_a_token_in_the_credentials_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("REST_CHANNEL_TOKEN", "from-the-environment")
    bot = tracked_bot()

    async def scenario():
        channel = ProtectedRestInput.from_credentials({"token": TOKEN})
        async with ChannelServer(channel, bot) as server:
            refused = await post(server.url, {"sender": "e", "message": "x"}, headers={"Authorization": "Bearer from-the-environment"})
            accepted = await post(server.url, {"sender": "e", "message": "x"}, headers={"Authorization": f"bearer {TOKEN}"})
            return refused[0], accepted[0]

    assert run(scenario()) == (401, 200)


def test_an_empty_configured_token_refuses_to_start():
    with pytest.raises(InvalidConfigException, match="REST_CHANNEL_TOKEN"):
        ProtectedRestInput.from_credentials({"token": ""})


# --- body validation ---------------------------------------------------------------------------

INVALID_BODIES = [
    ("not json", b"{sender: employee-1", "invalid_json"),
    ("not utf-8", '{"sender": "e", "message": "窓口"}'.encode("shift_jis"), "invalid_json"),
    ("empty body", b"", "invalid_json"),
    ("json array", b'[{"sender": "e", "message": "x"}]', "invalid_body"),
    ("json string", b'"hello"', "invalid_body"),
    ("missing sender", b'{"message": "x"}', "invalid_sender"),
    ("empty sender", b'{"sender": " ", "message": "x"}', "invalid_sender"),
    ("sender not a string", b'{"sender": 42, "message": "x"}', "invalid_sender"),
    ("sender too long", ('{"sender": "%s", "message": "x"}' % ("s" * (MAX_SENDER_CHARS + 1))).encode(), "invalid_sender"),
    ("missing message", b'{"sender": "e"}', "invalid_message"),
    ("message not a string", b'{"sender": "e", "message": 42}', "invalid_message"),
    ("message null", b'{"sender": "e", "message": null}', "invalid_message"),
    ("blank message", b'{"sender": "e", "message": "  "}', "invalid_message"),
    (
        "message too long",
        ('{"sender": "e", "message": "%s"}' % ("怒" * (MAX_MESSAGE_CHARS + 1))).encode("utf-8"),
        "message_too_long",
    ),
    ("metadata not an object", b'{"sender": "e", "message": "x", "metadata": [1]}', "invalid_metadata"),
    ("lone surrogate in sender", b'{"sender": "\\udfff", "message": "x"}', "invalid_sender"),
    ("lone surrogate in message", b'{"sender": "e", "message": "\\ud800 x"}', "invalid_characters"),
]


@pytest.mark.parametrize("raw,code", [case[1:] for case in INVALID_BODIES], ids=[case[0] for case in INVALID_BODIES])
def test_invalid_bodies_are_refused_with_an_explicit_message(raw, code):
    bot = tracked_bot()

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(server.url, raw=raw)

    status, body, headers = run(scenario())
    assert status == 400
    assert body["error"] == code
    assert isinstance(body["message"], str) and len(body["message"]) > 10
    assert headers["Content-Type"].startswith("application/json")
    assert bot.received == []


def test_the_limits_themselves_are_accepted():
    bot = tracked_bot()

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(server.url, {"sender": "s" * MAX_SENDER_CHARS, "message": "怒" * MAX_MESSAGE_CHARS})

    status, replies, _ = run(scenario())
    assert status == 200
    assert len(bot.received[0].text) == MAX_MESSAGE_CHARS


def test_the_message_limit_counts_characters_not_bytes():
    assert len("怒".encode("utf-8")) * MAX_MESSAGE_CHARS > MAX_MESSAGE_CHARS  # 6000 bytes, 2000 characters
    test_the_limits_themselves_are_accepted()


def test_streaming_is_refused_explicitly():
    bot = tracked_bot()

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(server.url + "?stream=true", {"sender": "e", "message": "x"})

    status, body, _ = run(scenario())
    assert (status, body["error"]) == (400, "stream_not_supported")
    assert bot.received == []


# --- without a token, failures ------------------------------------------------------------------


def test_without_a_token_configured_no_authorization_is_needed():
    bot = tracked_bot(slots={"ongoing": False, "elapsed_minutes": 90, "stage": "judgement", "verdict": "harassment"})

    async def scenario():
        channel = ProtectedRestInput.from_credentials(None)
        assert channel.token is None
        async with ChannelServer(channel, bot) as server:
            return await post(server.url, {"sender": "employee-2", "message": "昨日の電話の件です"})

    status, replies, _ = run(scenario())
    assert status == 200
    assert replies[0]["custom"]["kasuhara"] == {
        "stage": "judgement",
        "verdict": "harassment",
        "elapsed_minutes": 90,
        "over_time_limit": False,
        "time_limit_minutes": LIMIT,
        "asking": None,
        "understood": {**NOTHING_UNDERSTOOD, "facts": {"ongoing": False, "elapsed_minutes": 90}},
    }
    assert bot.received[0].text == "昨日の電話の件です"


def test_a_failing_bot_gives_a_json_error_without_a_stack_trace():
    bot = tracked_bot(fail=True)

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(server.url, {"sender": "e", "message": "x"})

    status, body, headers = run(scenario())
    assert status == 500
    assert body["error"] == "internal_error"
    assert "Traceback" not in str(body) and "RuntimeError" not in str(body)
    assert headers["Content-Type"].startswith("application/json")


def test_without_an_agent_the_replies_still_carry_the_payload():
    bot = FakeBot(replies=[bot_message("はい")])

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot, with_agent=False) as server:
            return await post(server.url, {"sender": "e", "message": "x"})

    status, replies, _ = run(scenario())
    assert status == 200
    assert replies[0]["custom"]["kasuhara"]["stage"] is None
    assert replies[0]["custom"]["kasuhara"]["time_limit_minutes"] == LIMIT


def test_no_replies_give_an_empty_list():
    bot = tracked_bot(replies=[])

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(server.url, {"sender": "e", "message": "x"})

    assert run(scenario())[:2] == (200, [])


# --- credentials.yml ---------------------------------------------------------------------------

CREDENTIALS = PROJECT_ROOT / "credentials.yml"


def test_the_local_default_needs_no_secret_and_keeps_the_rest_url():
    channels = channels_from_credentials(str(CREDENTIALS))  # no secret in the environment
    (rest,) = [channel for channel in channels if isinstance(channel, ProtectedRestInput)]
    assert rest.token is None
    assert not any(channel.name() in ("teams", "slack") for channel in channels)  # opt-in only
    app = Sanic(f"credentials_test_{time.time_ns()}", configure_logging=False)
    register(channels, app, route="/webhooks/")  # what `rasa run` does: no clashing routes
    app.router.finalize()
    paths = {route.path for route in app.router.routes}
    assert "webhooks/rest/webhook" in paths


def test_the_documented_rest_token_line_fails_closed(tmp_path, monkeypatch):
    enabled = tmp_path / "credentials.yml"
    enabled.write_text(uncomment_block(CREDENTIALS.read_text(encoding="utf-8"), "bot.channels.rest.ProtectedRestInput"))
    with pytest.raises(RasaException, match="REST_CHANNEL_TOKEN"):
        channels_from_credentials(str(enabled))
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)
    (channel,) = [c for c in channels_from_credentials(str(enabled)) if isinstance(c, ProtectedRestInput)]
    assert channel.token == TOKEN.encode()


# --- docs/openapi.yaml agrees with the code -------------------------------------------------------


def test_the_openapi_description_matches_the_channel():
    import yaml

    from bot.codes import Stage, Verdict

    spec = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.0")
    schemas = spec["components"]["schemas"]
    message = schemas["UserMessage"]["properties"]
    assert message["sender"]["maxLength"] == MAX_SENDER_CHARS
    assert message["message"]["maxLength"] == MAX_MESSAGE_CHARS
    state = schemas["KasuharaState"]
    assert set(state["required"]) == set(reply_metadata({}, time.time(), load_organization()))
    assert state["properties"]["stage"]["enum"] == [s.value for s in Stage] + [None]
    assert state["properties"]["verdict"]["enum"] == [v.value for v in Verdict] + [None]
    documented_codes = set(schemas["Error"]["properties"]["error"]["enum"])
    source = "".join((PROJECT_ROOT / "bot" / name).read_text(encoding="utf-8") for name in ("channels/rest.py", "codes.py"))
    assert documented_codes == {code for code in documented_codes if f'"{code}"' in source}
    assert {case[2] for case in INVALID_BODIES} <= documented_codes
    operation = spec["paths"]["/webhooks/rest/webhook"]["post"]
    assert set(operation["responses"]) == {"200", "400", "401", "413", "415", "500", "503"}
    assert set(operation["responses"]["400"]["content"]["application/json"]["examples"]) == {
        case[2] for case in INVALID_BODIES
    } | {"stream_not_supported"}


def _json_schema(schema, schemas):
    """An OpenAPI 3.0 schema as JSON Schema ($ref inlined, nullable -> a null type)."""
    import copy

    def walk(node):
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = copy.deepcopy(node)
        if "$ref" in node:
            node.update(walk(schemas[node.pop("$ref").rsplit("/", 1)[-1]]))
        if node.pop("nullable", False):
            node["type"] = [node["type"], "null"]
        node.pop("example", None)
        return {key: (value if key == "enum" else walk(value)) for key, value in node.items()}

    return walk(schema)


def test_real_responses_match_the_openapi_schemas(monkeypatch):
    import jsonschema
    import yaml

    spec = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    responses = spec["paths"]["/webhooks/rest/webhook"]["post"]["responses"]
    schemas = spec["components"]["schemas"]
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)
    bot = tracked_bot(
        replies=[bot_message("はい", buttons=BUTTONS), bot_message(custom={"record_id": 3})],
        slots=live_slots(40, stage="judgement", verdict="harassment"),
    )

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            ok = await post(server.url, {"sender": "e", "message": "相談です"}, headers=auth)
            bad = await post(server.url, {"sender": "e"}, headers=auth)
            denied = await post(server.url, {"sender": "e", "message": "x"})
            return ok, bad, denied

    for (status, body, _), code in zip(run(scenario()), ("200", "400", "401")):
        assert str(status) == code
        schema = _json_schema(responses[code]["content"]["application/json"]["schema"], schemas)
        jsonschema.validate(body, schema)


def test_all_documented_channels_register_together(tmp_path, monkeypatch):
    from bot.channels.slack import SlackEventsInput
    from bot.channels.teams import TeamsInput

    text = CREDENTIALS.read_text(encoding="utf-8")
    for key in ("bot.channels.rest.ProtectedRestInput", "bot.channels.teams.TeamsInput", "bot.channels.slack.SlackEventsInput"):
        text = uncomment_block(text, key)
    enabled = tmp_path / "credentials.yml"
    enabled.write_text(text, encoding="utf-8")
    for name, value in {
        "REST_CHANNEL_TOKEN": TOKEN, "TEAMS_APP_ID": "app", "TEAMS_APP_PASSWORD": "pw", "TEAMS_TENANT_ID": "tenant",
        "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret",
    }.items():
        monkeypatch.setenv(name, value)
    channels = channels_from_credentials(str(enabled))  # no network: Teams keys are fetched on first use
    assert {ProtectedRestInput, TeamsInput, SlackEventsInput} <= {type(channel) for channel in channels}
    app = Sanic(f"credentials_all_{time.time_ns()}", configure_logging=False)
    register(channels, app, route="/webhooks/")
    app.router.finalize()
    paths = {route.path for route in app.router.routes}
    assert {"webhooks/rest/webhook", "webhooks/teams/webhook", "webhooks/slack/webhook"} <= paths


# --- the slots bot/rasa/tracker_store.py hands over after the turn ------------------------------------


class CountingStore(SlotHandoverSQLTrackerStore):
    retrievals = 0
    retrievals_when_saved = None

    async def retrieve(self, sender_id):
        CountingStore.retrievals += 1
        return await super().retrieve(sender_id)

    async def save(self, tracker):
        await super().save(tracker)
        CountingStore.retrievals_when_saved = CountingStore.retrievals


class ReplyOnlyBot(FakeBot):
    """A turn that answers without saving the tracker (as when processing stops early)."""

    async def __call__(self, message):
        self.received.append(message)
        for reply in self.replies:
            await message.output_channel.send_response(message.sender_id, copy.deepcopy(reply))


async def _save_slots(store, sender_id, **slots):
    tracker = await store.get_or_create_tracker(sender_id)
    for name, value in slots.items():
        tracker.update(SlotSet(name, value))
    await store.save(tracker)


def _ask(bot):
    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(server.url, {"sender": "employee-1", "message": "どうしたらいいですか"})

    return run(scenario())


@pytest.mark.parametrize("wrapper", [FailSafeTrackerStore, AwaitableTrackerStore])  # what the agent wraps it in
def test_the_payload_comes_from_the_handed_over_slots_without_reading_the_store(tmp_path, wrapper):
    store = CountingStore(kasuhara_domain(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    bot = FakeBot(replies=[bot_message("はい")], slots=live_slots(10, stage="judgement", verdict="harassment"),
                  tracker_store=wrapper(store))
    CountingStore.retrievals, CountingStore.retrievals_when_saved = 0, None
    status, replies, _ = _ask(bot)
    assert status == 200
    payload = replies[0]["custom"]["kasuhara"]
    assert (payload["stage"], payload["verdict"], payload["elapsed_minutes"]) == ("judgement", "harassment", 10)
    assert CountingStore.retrievals_when_saved is not None
    assert CountingStore.retrievals == CountingStore.retrievals_when_saved  # nothing read after the turn


def test_slots_left_by_an_earlier_save_are_not_taken_for_this_turn(tmp_path):
    database = str(tmp_path / "tracker.db")
    store = SlotHandoverSQLTrackerStore(kasuhara_domain(), dialect="sqlite", db=database)
    run(_save_slots(store, "employee-1", stage="fact_finding"))  # e.g. a reminder's turn: handed over, never taken
    other_server = SQLTrackerStore(kasuhara_domain(), dialect="sqlite", db=database)
    run(_save_slots(other_server, "employee-1", stage="judgement"))

    status, replies, _ = _ask(ReplyOnlyBot(replies=[bot_message("はい")], tracker_store=FailSafeTrackerStore(store)))
    assert status == 200
    assert replies[0]["custom"]["kasuhara"]["stage"] == "judgement"  # read back, not the stale hand-over


def test_the_openapi_description_names_every_code_asked_and_understood():
    import yaml

    from bot.codes import CONSULTATION_FORM, DETAILS_FORM, Behavior, DemandBasis, DepartureStep, SituationChannel, WarningLevel
    from bot.conversation import understood_facts

    schemas = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))["components"][
        "schemas"
    ]
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    form_slots = {slot for form in (CONSULTATION_FORM, DETAILS_FORM) for slot in domain["forms"][form]["required_slots"]}
    assert set(schemas["KasuharaState"]["properties"]["asking"]["enum"]) == form_slots | {None}
    understood = schemas["Understood"]["properties"]
    assert understood["behaviors"]["items"]["enum"] == [b.value for b in Behavior]
    every_fact = {name: True for name in ("ongoing", "our_fault", "demand_related", "identified", "recorded",
                                          "alone", "danger", "refused_to_leave", "conduct_continued", "self_harm",
                                          "deadlock", "public", "money_demanded", "injured", "vulnerable",
                                          "property_damaged")}
    codes = {"demand_basis": "opinion", "warnings_given": "warned", "departure_step": "final_warning"}
    facts = understood_facts({**every_fact, **codes, "situation_channel": "phone", "elapsed_minutes": 5, "demand": "x"})
    assert set(facts) == set(understood["facts"]["properties"])
    for name, enum in (("demand_basis", DemandBasis), ("warnings_given", WarningLevel), ("departure_step", DepartureStep)):
        assert understood["facts"]["properties"][name]["enum"] == [c.value for c in enum if c.value != "unknown"]
    assert understood["facts"]["properties"]["situation_channel"]["enum"] == [c.value for c in SituationChannel]


def test_a_message_with_toggles_is_one_reply_that_matches_the_openapi_schema(monkeypatch):
    import jsonschema
    import yaml

    from bot.codes import Behavior
    from bot.prompts import confirm_behaviors

    prompt = confirm_behaviors([Behavior.THREAT])
    toggles = bot_message(prompt.reply.text, buttons=[b.to_dict() for b in prompt.reply.buttons],
                          custom={"data": {"choices": prompt.choices.to_dict()}})
    bot = tracked_bot(replies=[toggles], slots={"requested_slot": "behaviors", "suggested_behaviors": ["threat"]})

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), bot) as server:
            return await post(server.url, {"sender": "e", "message": "殺すぞと言われた"})

    status, replies, _ = run(scenario())
    assert status == 200
    (reply,) = replies
    assert reply["text"] == prompt.reply.text and [b["payload"] for b in reply["buttons"]][0] == "/affirm"
    assert reply["custom"]["data"]["choices"]["name"] == "behaviors"
    assert reply["custom"]["kasuhara"]["asking"] == "behaviors"
    assert reply["custom"]["kasuhara"]["understood"]["behaviors"] == ["threat"]
    spec = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    schema = spec["paths"]["/webhooks/rest/webhook"]["post"]["responses"]["200"]["content"]["application/json"]
    jsonschema.validate(replies, _json_schema(schema["schema"], spec["components"]["schemas"]))


def test_the_documented_reply_examples_match_the_schema():
    import jsonschema
    import yaml

    spec = yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    content = spec["paths"]["/webhooks/rest/webhook"]["post"]["responses"]["200"]["content"]["application/json"]
    schema = _json_schema(content["schema"], spec["components"]["schemas"])
    assert content["examples"]
    for example in content["examples"].values():
        jsonschema.validate(example["value"], schema)
