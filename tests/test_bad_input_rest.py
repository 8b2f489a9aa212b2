"""Bad input on the REST channel, one test per class: a clear 4xx with a stable code, or the
message accepted (cleaned) — never a 5xx, and nothing reaches the bot that it should not see."""
from __future__ import annotations

import json

import aiohttp
import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import UserUttered

from bot.channels.rest import MAX_BODY_BYTES, ProtectedRestInput
from bot.rasa.tracker_store import SlotHandoverSQLTrackerStore
from tests.channel_stand_ins import ChannelServer, FakeBot, bot_message, kasuhara_domain, post, run


@pytest.fixture(autouse=True)
def organization(tmp_path, monkeypatch):
    organization_file = tmp_path / "organization.yml"
    organization_file.write_text("name: テスト町役場\n", encoding="utf-8")
    monkeypatch.setenv("ORGANIZATION_FILE", str(organization_file))
    monkeypatch.delenv("REST_CHANNEL_TOKEN", raising=False)
    yield


class StoringBot(FakeBot):
    """Stores the user's message in the tracker store, as Rasa's processor does."""

    async def __call__(self, message):
        self.received.append(message)
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, metadata=message.metadata))
        await self.tracker_store.save(tracker)
        for reply in self.replies:
            await message.output_channel.send_response(message.sender_id, dict(reply))


def bot() -> FakeBot:
    return FakeBot(replies=[bot_message("はい")], tracker_store=InMemoryTrackerStore(kasuhara_domain()))


def send(body=None, raw=None, headers=None, the_bot=None):
    the_bot = the_bot or bot()

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), the_bot) as server:
            return await post(server.url, body, raw=raw, headers=headers)

    status, content, response_headers = run(scenario())
    assert status < 500, content
    assert response_headers["Content-Type"].startswith("application/json")
    return status, content, the_bot


def refused(expected_status, expected_code, **request):
    status, content, the_bot = send(**request)
    assert (status, content["error"]) == (expected_status, expected_code)
    assert isinstance(content["message"], str) and "Traceback" not in content["message"]
    assert the_bot.received == []


@pytest.mark.parametrize("message", ["", " ", "\u3000\n\t", "\x00\x1b"])
def test_empty_and_whitespace_messages(message):
    refused(400, "invalid_message", body={"sender": "e", "message": message})


def test_a_100_kb_message():
    message = "怒" * (100 * 1024 // 3)
    refused(413, "payload_too_large", body={"sender": "e", "message": message})


def test_a_message_just_under_the_body_limit_but_over_the_character_limit():
    refused(400, "message_too_long", body={"sender": "e", "message": "a" * 5000})


def test_control_characters_are_removed_before_the_bot_reads_the_message():
    status, _, the_bot = send(body={"sender": "e", "message": "窓口で\x00怒鳴られて\x07\x1b[2Jいます\u202e"})
    assert status == 200
    assert the_bot.received[0].text == "窓口で怒鳴られて[2Jいます"


@pytest.mark.parametrize(
    "raw,code",
    [
        (b'{"sender": "\\udfff", "message": "x"}', "invalid_sender"),
        (b'{"sender": "e", "message": "\\udfff"}', "invalid_characters"),
        (b'{"sender": "e", "message": "x", "metadata": {"note": "\\ud800"}}', "invalid_characters"),
        (b'{"sender": "e", "message": "x", "metadata": {"\\ud800": 1}}', "invalid_characters"),
    ],
    ids=["sender", "message", "metadata value", "metadata key"],
)
def test_lone_surrogates(raw, code):
    refused(400, code, raw=raw)


@pytest.mark.parametrize(
    "raw",
    [b'{"sender": "e", "message": "\xff\xfe"}', b'{"sender": "e", "message": "\xed\xbf\xbf"}', b"\xef\xbb"],
    ids=["not utf-8", "encoded surrogate", "truncated"],
)
def test_invalid_utf8_bytes(raw):
    refused(400, "invalid_json", raw=raw)


def test_emoji_are_accepted():
    status, _, the_bot = send(body={"sender": "e", "message": "😡 怒鳴られています 👨‍👩‍👧"})
    assert status == 200 and the_bot.received[0].text == "😡 怒鳴られています 👨‍👩‍👧"


@pytest.mark.parametrize("raw", [b"{", b'{"sender": "e", "message": "x",}', b"null", b"NaN"])
def test_malformed_json(raw):
    status, content, the_bot = send(raw=raw)
    assert status == 400 and content["error"] in ("invalid_json", "invalid_body") and the_bot.received == []


def test_deeply_nested_json():
    refused(400, "invalid_json", raw=b'{"sender": "e", "message": "x", "metadata": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")


def test_huge_json():
    body = {"sender": "e", "message": "x", "metadata": {f"k{n}": "v" * 10 for n in range(10_000)}}
    refused(413, "payload_too_large", body=body)


def test_metadata_over_its_own_limit():
    refused(400, "invalid_metadata", body={"sender": "e", "message": "x", "metadata": {"k": "v" * 9000}})


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "",
     "application/json; charset=shift_jis", "text/json"],
)
def test_wrong_content_types(content_type):
    refused(415, "unsupported_media_type", body={"sender": "e", "message": "x"}, headers={"Content-Type": content_type})


@pytest.mark.parametrize("content_type", ["application/json; charset=UTF-8", "application/vnd.api+json"])
def test_json_content_types(content_type):
    status, _, _ = send(body={"sender": "e", "message": "x"}, headers={"Content-Type": content_type})
    assert status == 200


@pytest.mark.parametrize(
    "message",
    ["<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE events; --", "1 OR 1=1; DELETE FROM"],
)
def test_html_and_sql_injection_is_stored_as_plain_text(tmp_path, message):
    store = SlotHandoverSQLTrackerStore(kasuhara_domain(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    the_bot = StoringBot(replies=[bot_message("はい")], tracker_store=store)
    status, replies, _ = send(body={"sender": "employee-1", "message": message}, the_bot=the_bot)
    assert status == 200 and replies[0]["text"] == "はい"
    stored = run(store.retrieve("employee-1"))
    assert stored.latest_message.text == message
    assert run(store.keys()) == ["employee-1"]  # the events table is still there and holds one conversation


@pytest.mark.parametrize("sender", ["../../etc/passwd", "/conversations/other/tracker", "a b", "..", "x\\y", "x?token=1"])
def test_path_like_and_odd_sender_ids(sender):
    refused(400, "invalid_sender", body={"sender": sender, "message": "x"})


def test_is_external_from_a_client_is_not_trusted():
    status, _, the_bot = send(body={"sender": "e", "message": "EXTERNAL: x", "metadata": {"is_external": True, "k": 1}})
    assert status == 200
    (message,) = the_bot.received
    assert message.metadata == {"k": 1} and message.text == "x"


def test_a_thousand_messages_in_one_conversation():
    # The channel's side only: what a long conversation costs Rasa's SQL store (it replays every
    # event each turn, RasaHQ/rasa#11828) is for bench/ to measure.
    the_bot = bot()

    async def scenario():
        statuses = []
        async with ChannelServer(ProtectedRestInput.from_credentials(None), the_bot) as server:
            async with aiohttp.ClientSession() as session:
                for number in range(1000):
                    body = json.dumps({"sender": "employee-1", "message": f"{number}回目です"}).encode()
                    async with session.post(server.url, data=body, headers={"Content-Type": "application/json"}) as r:
                        statuses.append(r.status)
        return statuses

    assert set(run(scenario())) == {200}
    assert [m.text for m in the_bot.received] == [f"{number}回目です" for number in range(1000)]
    assert {m.sender_id for m in the_bot.received} == {"employee-1"}


def test_the_body_limit_leaves_room_for_the_largest_valid_message():
    from bot.text_input import MAX_MESSAGE_CHARS, MAX_METADATA_CHARS

    escaped = json.dumps({"sender": "s" * 128, "message": "😡" * MAX_MESSAGE_CHARS, "metadata": {"k": "😡" * (MAX_METADATA_CHARS // 2 - 10)}})
    assert len(escaped.encode()) < MAX_BODY_BYTES


def test_a_database_refusal_behind_the_checks_is_a_503_for_that_request_only(tmp_path, monkeypatch):
    """The guard behind the input rules: if a sender the database cannot store got through, the
    request gets 503 storage_error and the server answers the next one."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot.text_input import UserInput

    monkeypatch.setattr("bot.channels.rest.checked_input", lambda sender, text, metadata: UserInput(sender, text, {}))
    store = SlotHandoverSQLTrackerStore(kasuhara_domain(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    the_bot = StoringBot(replies=[bot_message("はい")], tracker_store=FailSafeTrackerStore(store))

    async def scenario():
        async with ChannelServer(ProtectedRestInput.from_credentials(None), the_bot) as server:
            refused = await post(server.url, raw=b'{"sender": "\\udfff", "message": "x"}')
            served = await post(server.url, {"sender": "employee-1", "message": "x"})
            return refused, served

    (status, body, _), (next_status, replies, _) = run(scenario())
    assert (status, body["error"]) == (503, "storage_error")
    assert next_status == 200 and replies[0]["text"] == "はい"
