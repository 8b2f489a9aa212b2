"""The spaCy model the NLU pipeline loads: ja_ginza without the components nothing reads.

Rasa's SpacyTokenizer and SpacyFeaturizer read token texts, lemmas, Sudachi part-of-speech tags
and word vectors, all of which come from GiNZA's tokenizer and vocabulary. GiNZA's trained
components (tok2vec, parser, ner, morphologizer, compound_splitter, bunsetu_recognizer) add
dependency trees, named entities and bunsetu that the bot never reads, and cost about 19 of the
20 ms ja_ginza spends on a message (bench/README.md). SpacyNLP accepts only a package name or a
path, so `make` writes ja_ginza without them to models/ja_ginza_tokens and config.yml names that
path. Built from the installed ja-ginza package: nothing is downloaded.

    python -m bot.rasa.spacy_model models/ja_ginza_tokens
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

SOURCE_PACKAGE = "ja_ginza"
UNUSED_COMPONENTS = ("tok2vec", "parser", "ner", "morphologizer", "compound_splitter", "bunsetu_recognizer")


def build(target: Path, source: str = SOURCE_PACKAGE) -> Path:
    """Writes `source` without UNUSED_COMPONENTS to `target` (replaced if present)."""
    import spacy

    nlp = spacy.load(source, exclude=list(UNUSED_COMPONENTS))
    nlp.meta["name"] = f"{nlp.meta.get('name', source)}_tokens"
    nlp.meta["description"] = f"{source} {nlp.meta.get('version', '')}: tokenizer and vectors only (bot/rasa/spacy_model.py)"
    nlp.to_disk(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.rasa.spacy_model", description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    build(args.target)
    print(f"{args.target}: {SOURCE_PACKAGE} without {', '.join(UNUSED_COMPONENTS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
