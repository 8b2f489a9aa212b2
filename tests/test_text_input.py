"""bot/text_input.py: the rules every channel applies before Rasa sees a message."""
from __future__ import annotations

import pytest

from bot.codes import InputProblem
from bot.text_input import (
    MAX_MESSAGE_CHARS,
    MAX_METADATA_DEPTH,
    MAX_SENDER_CHARS,
    SAFETY_HINT,
    InputError,
    check_sender_id,
    checked_input,
    clean_message,
    clean_metadata,
    without_controls,
)


def problem_of(call, *args) -> InputProblem:
    with pytest.raises(InputError) as refused:
        call(*args)
    return refused.value.problem


@pytest.mark.parametrize(
    "typed,read",
    [
        ("窓口で\x00怒鳴られて\x07います", "窓口で怒鳴られています"),
        ("\x1b[31m赤字\x1b[0m", "[31m赤字[0m"),  # the escape itself is gone, so no terminal obeys it
        ("abc\u202etxt.exe", "abctxt.exe"),
        ("\u2066隔離\u2069と\u200fマーク\ufeff", "隔離とマーク"),
        ("C1\x85改行\x9bCSI", "C1\n改行CSI"),
        ("一行目\r\n二行目\r三行目\u2028四行目", "一行目\n二行目\n三行目\n四行目"),
        ("タブ\tと改行\nは残す", "タブ\tと改行\nは残す"),
    ],
)
def test_control_and_bidi_characters_are_removed(typed, read):
    assert clean_message(typed) == read


@pytest.mark.parametrize("text", ["😡👨‍👩‍👧🏳️‍🌈", "🇯🇵 ＡＢＣ ｶﾀｶﾅ", "<script>alert(1)</script>", "'; DROP TABLE events; --"])
def test_emoji_and_injection_strings_are_plain_text(text):
    assert clean_message(text) == text


@pytest.mark.parametrize("text", ["\udfff", "前\ud800後", "\udc00"])
def test_lone_surrogates_are_refused(text):
    assert problem_of(clean_message, text) is InputProblem.INVALID_CHARACTERS
    assert problem_of(clean_metadata, {"note": text}) is InputProblem.INVALID_CHARACTERS
    assert problem_of(clean_metadata, {text: 1}) is InputProblem.INVALID_CHARACTERS


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\x00\x07\x1b", "\u202e", None, 42, ["x"]])
def test_no_message_is_refused(text):
    assert problem_of(clean_message, text) is InputProblem.INVALID_MESSAGE


def test_the_length_limit_counts_characters_after_cleaning():
    assert clean_message("怒" * MAX_MESSAGE_CHARS + "\x00" * 10) == "怒" * MAX_MESSAGE_CHARS
    assert problem_of(clean_message, "怒" * (MAX_MESSAGE_CHARS + 1)) is InputProblem.MESSAGE_TOO_LONG


def test_a_client_cannot_pass_for_a_triggered_intent():
    assert clean_message("EXTERNAL: ask_time_limit") == "ask_time_limit"
    assert clean_message("EXTERNAL: EXTERNAL: x") == "x"
    assert problem_of(clean_message, "EXTERNAL: ") is InputProblem.INVALID_MESSAGE


@pytest.mark.parametrize(
    "sender_id",
    ["employee-1", "e", "29:1AbC-dEf_gh", "U123_C456_1700000000.000100", "a@example.jp", "職員-0042", "s" * MAX_SENDER_CHARS],
)
def test_the_ids_of_every_channel_are_accepted(sender_id):
    assert check_sender_id(sender_id) == sender_id


@pytest.mark.parametrize(
    "sender_id",
    ["", " ", "a b", "../etc/passwd", "a/b", "a\\b", ".", "..", "x\x00", "x\u202e", "\udfff", "a?b", "a#b", "a%2Fb",
     "s" * (MAX_SENDER_CHARS + 1), None, 42],
)
def test_empty_path_like_and_odd_sender_ids_are_refused(sender_id):
    assert problem_of(check_sender_id, sender_id) is InputProblem.INVALID_SENDER


def test_metadata_is_cleaned_and_the_trusted_keys_dropped():
    metadata = {"is_external": True, "client": "desk\x00-3\u202e", "nested": {"list": ["a\x1b", 1, None, True, 2.5]}}
    assert clean_metadata(metadata) == {"client": "desk-3", "nested": {"list": ["a", 1, None, True, 2.5]}}
    assert clean_metadata(None) == {}
    assert metadata["is_external"] is True  # the caller's dict is not modified


@pytest.mark.parametrize(
    "metadata",
    [[1], "text", {"big": "x" * 9000}, {1: "x"}, {"set": {1, 2}}],
)
def test_metadata_that_is_not_a_small_json_object_is_refused(metadata):
    assert problem_of(clean_metadata, metadata) is InputProblem.INVALID_METADATA


def test_deep_metadata_is_refused():
    deep: dict = {}
    node = deep
    for _ in range(MAX_METADATA_DEPTH):
        node["d"] = {}
        node = node["d"]
    assert problem_of(clean_metadata, deep) is InputProblem.INVALID_METADATA


def test_checked_input_checks_all_three():
    checked = checked_input("employee-1", " 窓口で\x00怒鳴られています ", {"is_external": True, "k": "v"})
    assert (checked.sender_id, checked.text, checked.metadata) == ("employee-1", "窓口で怒鳴られています", {"k": "v"})


def test_every_problem_has_a_polite_reply_with_the_safety_hint():
    for problem in InputProblem:
        reply = InputError(problem, "detail").reply_ja()
        assert reply.endswith(SAFETY_HINT) and "110番" in reply
        assert "ください" in problem.label and len(problem.label) < 80
    assert without_controls("ok") == "ok"


def test_the_prefix_and_trusted_key_are_rasas():
    from rasa.shared.core.constants import EXTERNAL_MESSAGE_PREFIX, IS_EXTERNAL

    from bot import text_input

    assert text_input.EXTERNAL_MESSAGE_PREFIX == EXTERNAL_MESSAGE_PREFIX
    assert IS_EXTERNAL in text_input.TRUSTED_METADATA_KEYS
