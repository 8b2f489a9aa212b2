"""python -m bot.lexicon --write data/nlu/lookups.yml: regenerate Rasa's lookup file from the tables."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.lexicon import lookups_yml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.lexicon", description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="PATH", required=True, help="file to write (data/nlu/lookups.yml)")
    args = parser.parse_args(argv)
    Path(args.write).write_text(lookups_yml(), encoding="utf-8")
    print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
