"""`python -m bot phrases`: check the phrase file (PHRASES_FILE, else phrases.yml) and list its situations."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.phrases import PhraseFileError, load_phrases
from bot.settings import DEFAULT_PHRASES_FILE, phrases_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "phrases",
        help="フレーズ集（phrases.yml）を検査します",
        description="フレーズ集を読み込んで検査し、場面ごとの件数を表示します。誤りはファイル名と行番号つきで示します。",
    )
    parser.add_argument(
        "--file", type=Path, metavar="PATH",
        help=f"検査するファイル（省略時は PHRASES_FILE か {DEFAULT_PHRASES_FILE.name}）",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path = args.file or phrases_file()
    try:
        library = load_phrases(path)
    except PhraseFileError as error:
        print(f"エラー / error: {error}", file=sys.stderr)
        return 1
    for situation in library.situations():
        count = len([p for p in library.phrases if p.situation == situation])
        print(f"{situation}\t{count}")
    print(f"OK: {path}（{len(library.phrases)}件）")
    return 0
