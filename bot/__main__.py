"""Command line: `python -m bot assess`, `python -m bot phrases` and `python -m bot records …`."""
from __future__ import annotations

import argparse
import sys

from bot.commands import assess, phrases, records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="カスハラ相談アシスタントのコマンド")
    subcommands = parser.add_subparsers(dest="command", required=True)
    assess.register(subcommands)
    phrases.register(subcommands)
    records.register(subcommands)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
