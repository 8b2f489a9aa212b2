"""What every channel checks before a message reaches Rasa: the text, the sender id, the metadata.

One set of rules for REST, Teams, Slack and the web chat, so that nothing a client sends can
break the tracker store, the NLU or the consultation export:

- lone surrogates (JSON "\\udfff") are refused: they cannot be encoded, and Rasa's SQL tracker
  store turned the encoding error into a server exit;
- control characters (C0 and C1: NUL, BEL, ESC, …, but not tab and newline) and the invisible
  bidirectional controls (U+202E and its kin) are removed from the text and the metadata:
  PostgreSQL refuses NUL, terminals obey escapes, and a bidi override disguises what was typed;
- the message is non-empty and at most MAX_MESSAGE_CHARS characters once cleaned;
- a sender id is 1–MAX_SENDER_CHARS letters, digits and `_ . : @ + = ~ -` (no space, no `/`
  or `\\`, not only dots): the ids of every channel fit, and a path-like id cannot reach a URL;
- metadata is a JSON object of bounded size and depth; `is_external`, which Rasa sets on
  messages it triggers itself, is dropped — a client cannot claim to be the timer service;
- text starting with Rasa's "EXTERNAL: " prefix (what triggered intents look like) loses it.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from bot.codes import InputProblem

MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
MAX_METADATA_CHARS = 8000  # as compact JSON
MAX_METADATA_DEPTH = 8
# Rasa marks the messages it triggers itself (trigger_intent, reminders) with these; never a client.
TRUSTED_METADATA_KEYS = frozenset({"is_external"})
EXTERNAL_MESSAGE_PREFIX = "EXTERNAL: "  # rasa.shared.core.constants.EXTERNAL_MESSAGE_PREFIX
SAFETY_HINT = "身の危険があるときは、ためらわず110番してください。"

_SENDER_ID = re.compile(r"[\w.:@+=~-]+")
_KEPT_CONTROLS = {"\t", "\n"}
_INVISIBLE_FORMATTING = {
    "\u061c", "\u200e", "\u200f",  # bidi marks
    *(chr(code) for code in range(0x202A, 0x202F)),  # embeddings and overrides (U+202E)
    *(chr(code) for code in range(0x2066, 0x206A)),  # isolates
    "\ufeff", "\ufffe", "\uffff",  # byte-order mark, non-characters
}
_NEWLINES = re.compile("\r\n|[\r\u2028\u2029\x85]")


class InputError(ValueError):
    """Input a channel must refuse: the problem (its code and Japanese reply) and an English detail."""

    def __init__(self, problem: InputProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail

    @property
    def code(self) -> str:
        return self.problem.value

    def rest_message(self) -> str:
        """For integrators: the Japanese reply and the English detail."""
        return f"{self.problem.label} ({self.detail})"

    def reply_ja(self) -> str:
        """For an employee on a chat channel: what happened, what to do, and the safety hint."""
        return f"{self.problem.label}{SAFETY_HINT}"


@dataclass(frozen=True)
class UserInput:
    """A message as the channels hand it to Rasa once checked."""

    sender_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def has_lone_surrogate(text: str) -> bool:
    return any("\ud800" <= character <= "\udfff" for character in text)


def without_controls(text: str) -> str:
    """The text with newlines unified to \\n and control and invisible bidi characters removed;
    InputError for a lone surrogate."""
    if has_lone_surrogate(text):
        raise InputError(InputProblem.INVALID_CHARACTERS, "the text contains a lone surrogate (not valid Unicode)")
    text = _NEWLINES.sub("\n", text)
    return "".join(
        character
        for character in text
        if character in _KEPT_CONTROLS
        or (unicodedata.category(character) != "Cc" and character not in _INVISIBLE_FORMATTING)
    )


def clean_message(text: Any) -> str:
    """The message as the bot should read it; InputError when there is none or it is too long."""
    if not isinstance(text, str):
        raise InputError(InputProblem.INVALID_MESSAGE, "message must be a non-empty string")
    text = without_controls(text).strip()
    prefix = EXTERNAL_MESSAGE_PREFIX.strip()
    while text.startswith(prefix):
        text = text[len(prefix):].lstrip()
    if not text:
        raise InputError(InputProblem.INVALID_MESSAGE, "message must be a non-empty string")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InputError(
            InputProblem.MESSAGE_TOO_LONG,
            f"message must be at most {MAX_MESSAGE_CHARS} characters, got {len(text)}",
        )
    return text


def is_sender_id(sender_id: Any) -> bool:
    return (
        isinstance(sender_id, str)
        and len(sender_id) <= MAX_SENDER_CHARS
        and _SENDER_ID.fullmatch(sender_id) is not None
        and sender_id.strip(".") != ""
    )


def check_sender_id(sender_id: Any) -> str:
    """The sender id unchanged when it follows the rules; InputError otherwise."""
    if not is_sender_id(sender_id):
        raise InputError(
            InputProblem.INVALID_SENDER,
            f"sender must be 1-{MAX_SENDER_CHARS} letters, digits or _ . : @ + = ~ - (no spaces, no slashes)",
        )
    return sender_id


def _clean_value(value: Any, depth: int) -> Any:
    if depth > MAX_METADATA_DEPTH:
        raise InputError(InputProblem.INVALID_METADATA, f"metadata is nested deeper than {MAX_METADATA_DEPTH} levels")
    if isinstance(value, str):
        return without_controls(value)
    if isinstance(value, Mapping):
        cleaned = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(InputProblem.INVALID_METADATA, "metadata keys must be strings")
            cleaned[without_controls(key)] = _clean_value(item, depth + 1)
        return cleaned
    if isinstance(value, (list, tuple)):
        return [_clean_value(item, depth + 1) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise InputError(InputProblem.INVALID_METADATA, f"metadata cannot hold a {type(value).__name__}")


def clean_metadata(metadata: Any) -> dict[str, Any]:
    """A JSON object's copy with its strings cleaned and the trusted keys dropped ({} for None)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InputError(InputProblem.INVALID_METADATA, "metadata must be a JSON object")
    cleaned = _clean_value(metadata, 1)
    if len(json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))) > MAX_METADATA_CHARS:
        raise InputError(InputProblem.INVALID_METADATA, f"metadata must be at most {MAX_METADATA_CHARS} characters as JSON")
    return {key: value for key, value in cleaned.items() if key not in TRUSTED_METADATA_KEYS}


def is_json_content_type(content_type: Optional[str]) -> bool:
    """application/json (or a +json type), with no charset or UTF-8: what a browser cannot send
    cross-site without asking first (text/plain and form types it can)."""
    media_type, *parameters = (content_type or "").split(";")
    media_type = media_type.strip().lower()
    if media_type != "application/json" and not (media_type.startswith("application/") and media_type.endswith("+json")):
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def checked_input(sender_id: Any, text: Any, metadata: Any = None) -> UserInput:
    """Sender, message and metadata checked in that order; InputError for the first problem."""
    return UserInput(check_sender_id(sender_id), clean_message(text), clean_metadata(metadata))
