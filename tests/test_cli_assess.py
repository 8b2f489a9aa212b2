"""`python -m bot assess`: as a subprocess, and its handler called directly."""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.commands import assess as assess_command
from bot.settings import load_organization

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Today's fields, as existing integrations send them.
HARASSING = {"behaviors": ["sexual"], "our_fault": True, "channel": "phone"}
LONG_CALL = {"demand_related": False, "ongoing": True, "elapsed_minutes": 15}
# The new, optional fields.
CONTINUED_ABUSE = {"behaviors": ["verbal_abuse"], "demand_basis": "our_fault", "channel": "phone", "ongoing": True,
                   "warnings_given": "asked_to_stop", "conduct_continued": True}

BAD_INPUTS = [
    ("これはJSONではない", "(json)"),
    ('{"behaviors": [', "(json)"),
    ("", "(json)"),
    ("[]", "(json)"),
    ('"verbal_abuse"', "(json)"),
    ('{"foo": 1}', "foo"),
    ('{"behaviors": ["nope"]}', "behaviors[0]"),
    ('{"behaviors": ["threat", "nope"]}', "behaviors[1]"),
    ('{"behaviors": "threat"}', "behaviors"),
    ('{"our_fault": "yes"}', "our_fault"),
    ('{"elapsed_minutes": "30"}', "elapsed_minutes"),
    ('{"elapsed_minutes": -5}', "elapsed_minutes"),
    ('{"channel": "fax"}', "channel"),
    ('{"ongoing": null}', "ongoing"),
    ('{"demand_basis": "maybe"}', "demand_basis"),
    ('{"warnings_given": 1}', "warnings_given"),
    ('{"departure_step": "left"}', "departure_step"),
    ('{"self_harm": "yes"}', "self_harm"),
]


def run_cli(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "assess", *args],
        input=stdin,
        capture_output=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
        timeout=60,
    )


def assert_one_line_error(returncode: int, stdout: str, stderr: str, field: str) -> None:
    assert returncode == 2
    assert stdout == ""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"エラー: {field}: ")
    assert f" / error: {field}: " in lines[0]


# --- subprocess ----------------------------------------------------------------------------

def test_cli_reads_json_option() -> None:
    result = run_cli("--json", json.dumps(HARASSING))
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout.decode("utf-8"))
    assert data["verdict"] == "harassment"
    assert data["types"] == ["sexual_harassment"]
    assert data["demand_basis"] == "our_fault" and data["demand_validity"] == "valid"
    assert data["time_limit_minutes"] == load_organization().time_limit_minutes
    assert "カスタマーハラスメント" in result.stdout.decode("utf-8")  # not \u-escaped


def test_cli_reads_the_new_fields() -> None:
    result = run_cli("--json", json.dumps(CONTINUED_ABUSE))
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout)
    assert (data["verdict"], data["types"], data["next_warning"]) == ("harassment", ["verbal_abuse"], "warned")
    first = json.loads(run_cli("--json", json.dumps({**CONTINUED_ABUSE, "warnings_given": "none"})).stdout)
    assert (first["verdict"], first["next_warning"]) == ("caution", "asked_to_stop")


def test_cli_reads_stdin() -> None:
    result = run_cli(stdin=json.dumps({"our_fault": True}).encode())
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout)["verdict"] == "legitimate"


def test_cli_time_limit_option_and_settings_file(tmp_path: Path) -> None:
    settings = tmp_path / "organization.yml"
    settings.write_text("name: テスト市\ntime_limit:\n  minutes: 10\n", encoding="utf-8")
    from_file = json.loads(run_cli("--json", json.dumps(LONG_CALL), env={"ORGANIZATION_FILE": str(settings)}).stdout)
    assert (from_file["time_limit_minutes"], from_file["over_time_limit"]) == (10, True)
    assert from_file["verdict"] == "harassment"
    from_option = json.loads(
        run_cli("--json", json.dumps(LONG_CALL), "--time-limit", "20", env={"ORGANIZATION_FILE": str(settings)}).stdout
    )
    assert (from_option["time_limit_minutes"], from_option["over_time_limit"]) == (20, False)
    assert from_option["verdict"] == "unreasonable_request"


@pytest.mark.parametrize("text, field", BAD_INPUTS)
def test_cli_bad_input_via_option(text: str, field: str) -> None:
    result = run_cli("--json", text)
    assert_one_line_error(result.returncode, result.stdout.decode(), result.stderr.decode("utf-8"), field)


@pytest.mark.parametrize("text, field", BAD_INPUTS[:3] + BAD_INPUTS[6:8])
def test_cli_bad_input_via_stdin(text: str, field: str) -> None:
    result = run_cli(stdin=text.encode("utf-8"))
    assert_one_line_error(result.returncode, result.stdout.decode(), result.stderr.decode("utf-8"), field)


def test_cli_undecodable_stdin() -> None:
    result = run_cli(stdin=b'{"behaviors": ["\xff"]}')
    assert_one_line_error(result.returncode, result.stdout.decode(), result.stderr.decode("utf-8"), "(json)")


# --- the handler directly (no dependency on the other subcommands) -----------------------

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    assess_command.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["assess", *argv])


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_handler_with_json_option(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("--json", json.dumps(LONG_CALL), "--time-limit", "15")
    assert args.handler(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    data = json.loads(out)
    assert (data["verdict"], data["types"], data["time_limit_minutes"]) == ("harassment", ["time_restraint"], 15)
    assert out == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_handler_with_stdin_and_default_limit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, "\ufeff".encode() + json.dumps({"behaviors": ["physical_attack"]}).encode())
    args = parse()
    assert args.handler(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "criminal"
    assert data["escalations"] == ["supervisor", "consultation_desk", "police_9110", "occupational_health"]
    assert data["legal_risks"] == [{"code": "assault", "label": "暴行罪",
                                    "note": "暴行罪：人に対して力を加えること（物を投げつけて当たらなかった場合も含みます）。"}]
    assert data["time_limit_minutes"] == load_organization().time_limit_minutes


@pytest.mark.parametrize("text, field", BAD_INPUTS)
def test_handler_bad_input(
    text: str, field: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("--json", text)
    returncode = args.handler(args)
    out, err = capsys.readouterr()
    assert_one_line_error(returncode, out, err, field)
    feed_stdin(monkeypatch, text.encode("utf-8"))
    args = parse()
    returncode = args.handler(args)
    out, err = capsys.readouterr()
    assert_one_line_error(returncode, out, err, field)


def test_handler_rejects_a_negative_time_limit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse("--json", "{}", "--time-limit", "-1")
    assert caught.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
