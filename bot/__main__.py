"""Command line: `python -m bot assess`, `python -m bot phrases`, `python -m bot records …` and
`python -m bot training …`."""
from __future__ import annotations

import argparse
import sys

from bot.commands import assess, phrases, records, training
from bot.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="カスハラ相談アシスタントのコマンド")
    subcommands = parser.add_subparsers(dest="command", required=True)
    assess.register(subcommands)
    phrases.register(subcommands)
    records.register(subcommands)
    training.register(subcommands)
    args = parser.parse_args(argv)
    try:
        args.settings = load_settings()
    except SettingsError as error:
        print(f"エラー: 設定が正しくありません / error: {error}", file=sys.stderr)
        return 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
