"""`python -m bot assess`: judge a case given as facts JSON (from --json or stdin) and print the result."""
from __future__ import annotations

import argparse
import json
import sys

from bot.assessment import Facts, FactsError, assess
from bot.settings import SettingsError, load_organization


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "assess",
        help="事実（JSON）から判断の目安を出します",
        description="事実のJSONオブジェクトを --json か標準入力で受け取り、判断結果をJSONで出力します。",
    )
    parser.add_argument("--json", dest="facts_json", metavar="STRING", help="事実のJSON（省略時は標準入力）")
    parser.add_argument(
        "--time-limit", type=_non_negative, metavar="N", help="対応時間の上限（分）。省略時は organization.yml の値"
    )
    parser.set_defaults(handler=run)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"0以上の整数を指定してください / must be a non-negative integer: {text!r}")
    return value


def parse_facts(text: str | bytes) -> Facts:
    """Facts from JSON text (bytes: UTF-8, a BOM allowed); FactsError on anything else."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FactsError(
            "(json)",
            f"JSONとして読めません（{error.lineno}行{error.colno}列）",
            f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        ) from None
    except (ValueError, RecursionError):  # undecodable bytes, or nested too deep
        raise FactsError("(json)", "JSONとして読めません", "invalid JSON") from None
    return Facts.from_dict(data)


def one_line(text: str) -> str:
    """The message on one printable line: newlines, control characters and lone surrogates from the
    input (a key named "a\\nb", say) shown as escapes, so a terminal neither breaks nor obeys them."""
    return "".join(
        character if character.isprintable() else repr(character)[1:-1]
        for character in text
    )


def run(args: argparse.Namespace) -> int:
    try:
        facts = parse_facts(args.facts_json if args.facts_json is not None else sys.stdin.buffer.read())
        limit = args.time_limit if args.time_limit is not None else load_organization().time_limit_minutes
    except FactsError as error:
        print(one_line(f"エラー: {error.field}: {error.message_ja} / error: {error.field}: {error.message_en}"), file=sys.stderr)
        return 2
    except SettingsError as error:
        print(one_line(f"エラー: 設定 / error: settings: {error}"), file=sys.stderr)
        return 1
    print(json.dumps(assess(facts, limit).to_dict(), ensure_ascii=False, indent=2))
    return 0
