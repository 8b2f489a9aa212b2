"""The phrase library: the shipped file, lookup with fallbacks, and errors that name the file and line."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.codes import Situation, SituationChannel as C, Stage
from bot.phrases import PhraseFileError, load_phrases, parse_phrases
from bot.settings import DEFAULT_PHRASES_FILE, load_phrases as load_configured_phrases

SHIPPED = load_phrases(DEFAULT_PHRASES_FILE)


def minimal(extra: str = "", **overrides: str) -> str:
    """A valid file: one default phrase per situation, with some replaced or extended."""
    blocks = []
    for situation in Situation:
        text = "「あと{minutes}分です。」" if situation is Situation.TIME_NOTICE else f"「{situation.label}の例」"
        blocks.append(overrides.get(situation.value, f"  {situation.value}:\n    phrases:\n"
                                                     f"      - code: {situation.value}.one\n        text: {text}\n"))
    return "situations:\n" + "".join(blocks) + extra


def test_the_shipped_file_is_valid_and_has_every_situation() -> None:
    assert DEFAULT_PHRASES_FILE.name == "phrases.yml" and DEFAULT_PHRASES_FILE.parent.name != "data"
    assert set(SHIPPED.situations()) >= {s.value for s in Situation}
    codes = [p.code for p in SHIPPED.phrases]
    assert len(codes) == len(set(codes))
    assert all(p.code.startswith(p.situation + ".") for p in SHIPPED.phrases)


@pytest.mark.parametrize(
    "situation, words",
    [
        (Situation.LIMITED_APOLOGY, "申し訳ございません"),
        (Situation.CLEAR_APOLOGY, "誤り"),
        (Situation.EMPATHY, "ご心配"),
        (Situation.CONFIRM_IDENTITY, "お名前とご連絡先"),
        (Situation.REFUSE, "いたしかねます"),
        (Situation.SUPERVISOR_DEMAND, "担当"),
        (Situation.NAME_DEMAND, "名字"),
        (Situation.RECORDING_OBJECTION, "録音"),
        (Situation.FILMING, "撮影"),
        (Situation.SEXUAL_REMARK, "おやめください"),
        (Situation.DOGEZA_DEMAND, "土下座は、いたしかねます"),
        (Situation.TIME_NOTICE, "5分"),
        (Situation.END_CALL, "失礼いたします"),
        (Situation.LEAVE_VISIT, "失礼いたします"),
        (Situation.CLOSE_OVERLONG, "文書"),
        (Situation.ORDER_TO_LEAVE, "お引き取り"),
        (Situation.FINAL_WARNING, "警察に通報"),
    ],
)
def test_the_shipped_wording_covers_the_guidance(situation: Situation, words: str) -> None:
    texts = "".join(SHIPPED.texts(situation, None, minutes="5"))
    assert words in texts
    assert all(t.startswith("「") and t.endswith("」") for t in SHIPPED.texts(situation, None, minutes="5"))


def test_the_dogeza_and_written_apology_demands_are_both_refused() -> None:
    assert "念書" in "".join(SHIPPED.texts(Situation.DOGEZA_DEMAND))


def test_name_demand_gives_section_and_surname_only() -> None:
    texts = SHIPPED.texts(Situation.NAME_DEMAND)
    assert "課" in texts[0] and "名字" in texts[0]
    assert any("フルネーム" in t and "お伝えしておりません" in t for t in texts)


def test_lookup_puts_the_channels_own_phrases_first_then_the_defaults() -> None:
    library = parse_phrases(minimal(thanks=(
        "  thanks:\n    phrases:\n"
        "      - code: thanks.default\n        text: 「ありがとうございます。」\n"
        "      - code: thanks.phone\n        channels: [phone]\n        text: 「お電話ありがとうございます。」\n"
    )))
    assert library.texts(Situation.THANKS, C.PHONE) == ("「お電話ありがとうございます。」", "「ありがとうございます。」")
    assert library.texts(Situation.THANKS, C.COUNTER) == ("「ありがとうございます。」",)
    assert library.texts(Situation.THANKS, None) == ("「ありがとうございます。」",)
    assert library.text(Situation.THANKS, C.PHONE) == "「お電話ありがとうございます。」"
    assert library.by_code("thanks.phone").channels == frozenset({C.PHONE})


def test_placeholders_are_filled_and_phrases_needing_a_missing_value_are_skipped() -> None:
    assert SHIPPED.text(Situation.CONFIRM_DEMAND, demand="返金") == "「返金をご希望ということで、よろしいでしょうか。」"
    neutral = SHIPPED.text(Situation.CONFIRM_DEMAND)
    assert "{" not in neutral and "ご要望" in neutral
    assert SHIPPED.text(Situation.TIME_NOTICE, C.PHONE, minutes="3") == "「恐れ入りますが、あと3分ほどでお電話を終えさせていただきます。」"


def test_stage_defaults_and_is_read() -> None:
    assert SHIPPED.by_code("end_call.repeating").stage is Stage.TIME_BOX
    library = parse_phrases(minimal())
    assert library.by_code("thanks.one").stage is Stage.INITIAL_RESPONSE


def test_an_organisation_can_add_its_own_situation() -> None:
    extra = "  library_noise:\n    stage: judgement\n    phrases:\n      - code: library_noise.quiet\n        text: 「館内ではお静かにお願いします。」\n"
    library = parse_phrases(minimal(extra))
    assert library.text("library_noise") == "「館内ではお静かにお願いします。」"
    assert "library_noise" in library.situations()


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


# (a broken file, what the error says, a text on the line it points at, and the offset from that line)
def _broken_cases() -> list[tuple[str, str, str, int]]:
    cases = []
    dup = minimal(refuse="  refuse:\n    phrases:\n      - code: thanks.one\n        text: 「いたしかねます。」\n")
    cases.append((dup, "used twice", "「いたしかねます。」", -1))
    bad_channel = minimal(refuse="  refuse:\n    phrases:\n      - code: refuse.one\n        channels: [fax]\n        text: 「x」\n")
    cases.append((bad_channel, "unknown code 'fax'", "fax", 0))
    bad_key = minimal(refuse="  refuse:\n    phrases:\n      - code: refuse.one\n        txt: 「x」\n")
    cases.append((bad_key, "unknown key 'txt'", "txt", 0))
    bad_field = minimal(refuse="  refuse:\n    phrases:\n      - code: refuse.one\n        text: 「{name}様、いたしかねます。」\n")
    cases.append((bad_field, "unknown placeholder {name}", "{name}", 0))
    only_channel = minimal(refuse="  refuse:\n    phrases:\n      - code: refuse.one\n        channels: [phone]\n        text: 「x」\n")
    cases.append((only_channel, "needs a phrase for every channel", "  refuse:", 0))
    bad_stage = minimal(refuse="  refuse:\n    stage: negotiation\n    phrases:\n      - code: refuse.one\n        text: 「x」\n")
    cases.append((bad_stage, "stage: unknown code 'negotiation'", "negotiation", 0))
    not_text = minimal(refuse="  refuse:\n    phrases:\n      - code: refuse.one\n        text: 12\n")
    cases.append((not_text, "text must be a non-empty string", "text: 12", 0))
    bad_code = minimal(refuse="  refuse:\n    phrases:\n      - code: Refuse One\n        text: 「x」\n")
    cases.append((bad_code, "must be lower-case", "Refuse One", 0))
    missing = minimal(refuse="")
    cases.append((missing, "situation 'refuse' (お断り) is missing", "  thanks:", 0))
    yaml_error = minimal(refuse="  refuse:\n    phrases:\n      - code: refuse.one\n        text: 「x」\n       bad: [\n")
    cases.append((yaml_error, "not valid YAML", "bad: [", 0))
    braces = minimal(refuse="  refuse:\n    phrases:\n      - code: refuse.one\n        text: 「{」\n")
    cases.append((braces, "braces", "「{」", 0))
    return cases


@pytest.mark.parametrize("text, message, needle, offset", _broken_cases(), ids=lambda value: str(value)[:24])
def test_errors_name_the_file_and_line(text: str, message: str, needle: str, offset: int) -> None:
    with pytest.raises(PhraseFileError) as caught:
        parse_phrases(text, "custom/phrases.yml")
    error = str(caught.value)
    expected_line = _line_of(text, needle) + offset
    assert error.startswith(f"custom/phrases.yml:{expected_line}: "), error
    assert message in error
    assert "\n" not in error


def test_empty_and_missing_files() -> None:
    with pytest.raises(PhraseFileError, match=r"^p\.yml:1: the file is empty"):
        parse_phrases("", "p.yml")
    with pytest.raises(PhraseFileError, match=r"^p\.yml:1: 'situations' is required"):
        parse_phrases("{}\n", "p.yml")
    with pytest.raises(PhraseFileError, match="phrase file not found"):
        load_phrases(Path("/nonexistent/phrases.yml"))


def test_load_reads_the_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "phrases.yml"
    path.write_text(minimal(), encoding="utf-8")
    assert load_configured_phrases(str(path)).file == str(path)
    path.write_text(textwrap.dedent(minimal()).replace("thanks.one", "refuse.one", 1), encoding="utf-8")
    with pytest.raises(PhraseFileError) as caught:
        load_phrases(path)
    assert str(caught.value).startswith(f"{path}:")


def test_the_phrases_command_checks_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from bot.commands import phrases as phrases_command

    parser = argparse.ArgumentParser()
    phrases_command.register(parser.add_subparsers(dest="command", required=True))
    good = tmp_path / "good.yml"
    good.write_text(minimal(), encoding="utf-8")
    args = parser.parse_args(["phrases", "--file", str(good)])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "thanks\t1" in out and f"OK: {good}" in out
    bad = tmp_path / "bad.yml"
    bad.write_text(minimal().replace("time_notice.one", "thanks.one"), encoding="utf-8")
    args = parser.parse_args(["phrases", "--file", str(bad)])
    assert args.handler(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"エラー / error: {bad}:") and "used twice" in err and len(err.splitlines()) == 1
