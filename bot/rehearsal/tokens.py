"""SudachiPy normalised forms, so patterns match conjugations, okurigana and keigo variants alike.

One tokenizer per thread: SudachiPy 0.6.9+ raises "Already borrowed" when threads share one.
"""
from __future__ import annotations

import threading
import unicodedata

from sudachipy import dictionary, tokenizer

_local = threading.local()
_dictionary_lock = threading.Lock()
_dictionary: dictionary.Dictionary | None = None


def _tokenizer() -> tokenizer.Tokenizer:
    global _dictionary
    found = getattr(_local, "tokenizer", None)
    if found is None:
        with _dictionary_lock:
            if _dictionary is None:
                _dictionary = dictionary.Dictionary()
            found = _local.tokenizer = _dictionary.create(tokenizer.Tokenizer.SplitMode.C)
    return found


def normalise_text(text: str) -> str:
    """NFKC (full-width digits and ？！ become ASCII), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def normalized_forms(text: str) -> tuple[str, ...]:
    """The normalised form of each token (検討させていただきます → 検討 為る せる て 頂く ます)."""
    return tuple(m.normalized_form() for m in _tokenizer().tokenize(normalise_text(text)) if m.surface().strip())
