"""The phrase library: what an employee can say, per situation and channel, read from phrases.yml.

The file is the organisation's to edit and extend; it is checked when read, and every error names
the file and line. Each phrase has a stable code (the guidance and a future rehearsal mode refer to
phrases by situation and code). Lookup falls back from the channel's own phrases to the defaults.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
import yaml

from bot.codes import Situation, SituationChannel, Stage

# Placeholders a situation's phrases may use; the guidance fills them. A phrase whose
# placeholders are not all given is skipped in favour of the next one.
FIELDS: dict[Situation, frozenset[str]] = {
    Situation.CONFIRM_DEMAND: frozenset({"demand"}),
    Situation.TIME_NOTICE: frozenset({"minutes"}),
}
# Placeholders always given, so every situation needs a default phrase using only these.
ALWAYS_GIVEN: dict[Situation, frozenset[str]] = {Situation.TIME_NOTICE: frozenset({"minutes"})}
_CODE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")
_SITUATION_KEY = re.compile(r"[a-z][a-z0-9_]*")
_SITUATION_KEYS = {"stage", "phrases"}
_PHRASE_KEYS = {"code", "text", "channels"}


class PhraseFileError(ValueError):
    """The phrase file cannot be used; the message starts with "file:line:"."""


@dataclass(frozen=True)
class Phrase:
    code: str
    situation: str  # a Situation code, or the organisation's own
    stage: Stage
    text: str
    channels: frozenset[SituationChannel]  # empty: any channel
    line: int

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.text) if name)

    def render(self, **values: str) -> str:
        return self.text.format(**values)


@dataclass(frozen=True)
class PhraseLibrary:
    file: str
    phrases: tuple[Phrase, ...]

    def situations(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(phrase.situation for phrase in self.phrases))

    def for_situation(self, situation: Situation | str, channel: SituationChannel | None = None) -> tuple[Phrase, ...]:
        """The channel's own phrases for the situation first, then those for every channel."""
        key = str(situation)
        candidates = [p for p in self.phrases if p.situation == key]
        own = [p for p in candidates if channel is not None and channel in p.channels]
        return tuple(own + [p for p in candidates if not p.channels])

    def texts(
        self, situation: Situation | str, channel: SituationChannel | None = None, **values: str
    ) -> tuple[str, ...]:
        """Every usable phrase for the situation, filled in; phrases needing a value not given are left out."""
        given = {name for name, value in values.items() if value}
        return tuple(p.render(**values) for p in self.for_situation(situation, channel) if p.fields <= given)

    def text(self, situation: Situation | str, channel: SituationChannel | None = None, **values: str) -> str:
        """The first usable phrase; the file's checks guarantee one for every Situation."""
        return self.texts(situation, channel, **values)[0]

    def by_code(self, code: str) -> Phrase | None:
        return next((p for p in self.phrases if p.code == code), None)


def _error(file: str, node: yaml.Node | None, message: str) -> PhraseFileError:
    line = node.start_mark.line + 1 if node is not None else 1
    return PhraseFileError(f"{file}:{line}: {message}")


def _scalar(file: str, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value.strip():
        raise _error(file, node, f"{what} must be a non-empty string")
    return node.value.strip()


def _mapping(
    file: str, node: yaml.Node, what: str, allowed: set[str] | None = None
) -> list[tuple[str, yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise _error(file, node, f"{what} must be a mapping")
    entries = []
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = _scalar(file, key_node, f"a key in {what}")
        if key in seen:
            raise _error(file, key_node, f"duplicate key '{key}' in {what}")
        if allowed is not None and key not in allowed:
            raise _error(file, key_node, f"unknown key '{key}' in {what} (known: {', '.join(sorted(allowed))})")
        seen.add(key)
        entries.append((key, key_node, value_node))
    return entries


def _stage(file: str, node: yaml.Node) -> Stage:
    value = _scalar(file, node, "stage")
    try:
        return Stage.parse(value)
    except ValueError as error:
        raise _error(file, node, f"stage: {error}") from None


def _channels(file: str, node: yaml.Node) -> frozenset[SituationChannel]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise _error(file, node, "channels must be a non-empty list of channel codes")
    found = set()
    for item in node.value:
        try:
            found.add(SituationChannel.parse(_scalar(file, item, "a channel")))
        except ValueError as error:
            raise _error(file, item, f"channels: {error}") from None
    return frozenset(found)


def _phrase(file: str, node: yaml.Node, situation: str, stage: Stage) -> Phrase:
    entries = {key: (key_node, value) for key, key_node, value in _mapping(file, node, "a phrase", _PHRASE_KEYS)}
    for required in ("code", "text"):
        if required not in entries:
            raise _error(file, node, f"a phrase of '{situation}' needs '{required}'")
    code_node = entries["code"][1]
    code = _scalar(file, code_node, "code")
    if not _CODE.fullmatch(code):
        raise _error(file, code_node, f"code '{code}' must be lower-case letters, digits, '_' and '.'")
    text_node = entries["text"][1]
    text = _scalar(file, text_node, "text")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise _error(file, text_node, f"text: {error} (write {{{{ and }}}} for braces)") from None
    allowed = next((fields for known, fields in FIELDS.items() if known.value == situation), frozenset())
    unknown = names - allowed
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        first = sorted(unknown)[0]
        raise _error(file, text_node, f"unknown placeholder {{{first}}} in '{situation}' (allowed: {known})")
    channels = _channels(file, entries["channels"][1]) if "channels" in entries else frozenset()
    return Phrase(code=code, situation=situation, stage=stage, text=text, channels=channels,
                  line=node.start_mark.line + 1)


def parse_phrases(text: str, file: str = "phrases.yml") -> PhraseLibrary:
    """Read and check the phrase file's text; PhraseFileError names the file and line."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise PhraseFileError(f"{file}:{line}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if root is None:
        raise PhraseFileError(f"{file}:1: the file is empty (expected 'situations:')")
    top = {key: (key_node, value) for key, key_node, value in _mapping(file, root, "the file", {"situations"})}
    if "situations" not in top:
        raise _error(file, root, "'situations' is required")
    phrases: list[Phrase] = []
    codes: dict[str, int] = {}
    lines: dict[str, yaml.Node] = {}
    for situation, key_node, value in _mapping(file, top["situations"][1], "situations"):
        if not _SITUATION_KEY.fullmatch(situation):
            raise _error(file, key_node, f"situation '{situation}' must be lower-case letters, digits and '_'")
        lines[situation] = key_node
        entries = {key: node for key, _, node in _mapping(file, value, f"situation '{situation}'", _SITUATION_KEYS)}
        if "phrases" not in entries:
            raise _error(file, value, f"situation '{situation}' needs 'phrases'")
        stage = _stage(file, entries["stage"]) if "stage" in entries else Stage.INITIAL_RESPONSE
        items = entries["phrases"]
        if not isinstance(items, yaml.SequenceNode) or not items.value:
            raise _error(file, items, f"phrases of '{situation}' must be a non-empty list")
        for item in items.value:
            phrase = _phrase(file, item, situation, stage)
            if phrase.code in codes:
                first = codes[phrase.code]
                raise _error(file, item, f"phrase code '{phrase.code}' is used twice (first on line {first})")
            codes[phrase.code] = phrase.line
            phrases.append(phrase)
    for situation in Situation:
        if situation.value not in lines:
            raise _error(file, top["situations"][1], f"situation '{situation.value}' ({situation.label}) is missing")
        always = ALWAYS_GIVEN.get(situation, frozenset())
        if not any(p.situation == situation.value and not p.channels and p.fields <= always for p in phrases):
            raise _error(file, lines[situation.value],
                         f"situation '{situation.value}' needs a phrase for every channel (without 'channels')"
                         + (f" using only {{{', '.join(sorted(always))}}}" if always else " and without placeholders"))
    return PhraseLibrary(file=file, phrases=tuple(phrases))


def load_phrases(path: Path) -> PhraseLibrary:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PhraseFileError(f"{path}:1: phrase file not found") from None
    except UnicodeDecodeError:
        raise PhraseFileError(f"{path}:1: the file is not UTF-8") from None
    return parse_phrases(text, str(path))
