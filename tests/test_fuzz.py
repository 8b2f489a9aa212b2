"""Fuzzing with a fixed budget (derandomized, no example database): the REST channel's payload
through its real Sanic app with the stand-in bot, and `python -m bot assess`.

REST: any body and content type gets a documented 4xx JSON error or 200; never a 5xx; what
reaches the bot follows bot/text_input.py. assess: exit 0 with JSON, or exit 2 with one line on
stderr; never a traceback."""
from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import unicodedata

import pytest
import requests
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.__main__ import main as bot_main
from bot.channels.rest import ProtectedRestInput
from bot.settings import PROJECT_ROOT
from bot.text_input import MAX_MESSAGE_CHARS, has_lone_surrogate, is_sender_id
from tests.channel_stand_ins import ChannelServer, FakeBot, bot_message

FIXED_BUDGET = settings(
    max_examples=100, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ANY_CHARACTER = st.characters(codec=None, categories=None)  # surrogates and controls included
DOCUMENTED_ERRORS = set(
    yaml.safe_load((PROJECT_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))["components"]["schemas"][
        "Error"]["properties"]["error"]["enum"]
)

text = st.one_of(
    st.text(ANY_CHARACTER, max_size=40),
    st.text(st.sampled_from("窓口で怒鳴られ😡 \x00\x07\x1b\u202e\udfff\ud800\n\r\t/.\\:@-_EXTERNAL"), max_size=60),
    st.sampled_from(["", " ", "..", "../x", "EXTERNAL: greet", "a" * 3000, "/affirm", '/inform{"channel":"phone"}']),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
payloads = st.fixed_dictionaries(
    {},
    optional={"sender": st.one_of(text, json_values), "message": st.one_of(text, json_values), "metadata": json_values},
)
bodies = st.one_of(
    payloads.map(lambda body: json.dumps(body).encode("ascii")),  # \\u escapes: surrogates as JSON sends them
    payloads.map(lambda body: json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode("ascii")),
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", None,
     "application/json; charset=latin-1"]
)


@pytest.fixture(scope="module")
def rest_channel():
    """The REST channel's real Sanic app with the stand-in bot, on its own loop and thread."""
    bot = FakeBot(replies=[bot_message("はい")])
    loop = asyncio.new_event_loop()
    server = ChannelServer(ProtectedRestInput(), bot, with_agent=False)
    started = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.__aenter__())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30)
    yield server, bot
    asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _is_clean(text: str) -> bool:
    return not has_lone_surrogate(text) and all(
        character in "\t\n" or unicodedata.category(character) != "Cc" for character in text
    ) and "\u202e" not in text


@settings(FIXED_BUDGET, max_examples=100)
@given(body=bodies, content_type=content_types)
def test_any_rest_payload_gets_a_4xx_or_a_clean_message_to_the_bot(rest_channel, body, content_type):
    server, bot = rest_channel
    received_before = len(bot.received)
    headers = {"Content-Type": content_type} if content_type else {}
    answer = requests.post(server.url, data=body, headers=headers, timeout=30)
    assert answer.status_code < 500, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    content = answer.json()
    if answer.status_code == 200:
        (message,) = bot.received[received_before:]
        assert is_sender_id(message.sender_id)
        assert message.text.strip() and len(message.text) <= MAX_MESSAGE_CHARS and _is_clean(message.text)
        assert "is_external" not in (message.metadata or {})
        assert not message.text.startswith("EXTERNAL:")
    else:
        assert answer.status_code in (400, 413, 415)
        assert content["error"] in DOCUMENTED_ERRORS and isinstance(content["message"], str)
        assert len(bot.received) == received_before


def _assess(argv, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    saved_stdin = sys.stdin
    sys.stdin = fake_stdin
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = bot_main(["assess", *argv])
            except SystemExit as exit_:  # argparse
                code = exit_.code
    finally:
        sys.stdin = saved_stdin
    return code, out.getvalue(), err.getvalue()


def _check_assess_result(code, out: str, err: str) -> None:
    if code == 0:
        assert isinstance(json.loads(out), dict) and err == ""
        out.encode("utf-8")  # printable as the terminal's UTF-8
    else:
        assert code == 2, (code, err)
        assert out == "" and len(err.splitlines()) == 1, err
        assert err.startswith("エラー: ") and "Traceback" not in err
        err.encode("utf-8")


facts = st.fixed_dictionaries(
    {},
    optional={
        "behaviors": st.one_of(st.lists(st.sampled_from(["verbal_abuse", "threat", "nope", "physical_attack"])), json_values),
        "our_fault": st.one_of(st.booleans(), json_values),
        "elapsed_minutes": st.one_of(st.integers(-5, 10**6), json_values),
        "ongoing": st.one_of(st.booleans(), json_values),
        "channel": st.one_of(st.sampled_from(["phone", "counter", "fax"]), json_values),
    },
)
facts_texts = st.one_of(
    facts.map(json.dumps),
    st.dictionaries(text, json_values, max_size=3).map(json.dumps),
    json_values.map(json.dumps),
    text,
)


@settings(FIXED_BUDGET, max_examples=50)
@given(facts_text=facts_texts)
def test_assess_with_any_json_argument_answers_or_gives_one_line(facts_text):
    _check_assess_result(*_assess([f"--json={facts_text}"]))


@settings(FIXED_BUDGET, max_examples=50)
@given(stdin=st.one_of(facts_texts.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=100)))
def test_assess_with_any_standard_input_answers_or_gives_one_line(stdin):
    _check_assess_result(*_assess([], stdin))


@pytest.mark.parametrize("facts_text", ['{"\\ud800": 1}', '{"a\\nb\\u001b[2J": 1}'])
def test_assess_prints_keys_it_refuses_on_one_printable_line_in_a_real_process(facts_text):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "assess", "--json", facts_text], capture_output=True, cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=60,
    )
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 2 and len(stderr.splitlines()) == 1 and "Traceback" not in stderr
    assert "\x1b" not in stderr and ("\\ud800" in stderr or "\\n" in stderr)
