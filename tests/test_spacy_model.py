"""models/ja_ginza_tokens (bot/rasa/spacy_model.py) gives the NLU pipeline exactly what ja_ginza gives it."""
from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from bot.nlu_evaluation import load_examples
from bot.rasa.spacy_model import UNUSED_COMPONENTS, build

HOLDOUT = Path(__file__).resolve().parent / "nlu_holdout.yml"
MESSY_TEXTS = ["", "   ", "１２３ＡＢＣ", "えーと…市長を出せって、２時間も！！", "Ｃｌａｉｍ ｍａｉｌ 届いた"]


def _what_rasa_reads(doc):
    # SpacyTokenizer: text, offset, lemma, tag; SpacyFeaturizer: vectors
    return [(t.text, t.idx, t.lemma_, t.tag_, t.vector.tobytes()) for t in doc]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    lean = spacy.load(build(tmp_path_factory.mktemp("spacy") / "ja_ginza_tokens"))
    full = spacy.load("ja_ginza", disable=["parser"])  # as Rasa's SpacyNLP loads a package
    return lean, full


def test_lean_model_has_no_trained_components(models):
    lean, full = models
    assert lean.pipe_names == []
    assert set(UNUSED_COMPONENTS) <= set(full.pipe_names) | set(full.disabled)


def test_lean_model_gives_the_same_tokens_lemmas_tags_and_vectors(models):
    lean, full = models
    texts = [example.text for example in load_examples(HOLDOUT)] + MESSY_TEXTS
    assert len(texts) > 250
    differing = [text for text in texts if _what_rasa_reads(lean(text)) != _what_rasa_reads(full(text))]
    assert differing == []
    assert any(t.vector.any() for t in lean("窓口で怒鳴られています"))  # vectors came along
