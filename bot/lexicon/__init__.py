"""Surface keywords → behaviour and channel codes (pure Python, no Rasa import).

The NLU's DIET model finds behaviour/channel mentions; this module turns whatever it
found into the stable codes of :mod:`bot.codes` and also detects keywords on its own.

Matching works on an NFKC-normalised, lower-cased copy of the text (full-width digits
and Latin letters become ASCII, half-width katakana becomes full-width, 「ﾄﾞ」 becomes
「ド」); match offsets are mapped back to the original text
(see :func:`_normalise_with_offsets`).

Design choices (tested in tests/test_lexicon.py):
- Patterns are regular expressions per code; a longer match of one code that overlaps a
  shorter match of another code wins (「机を叩かれた」 is intimidation, not an assault).
- A match directly followed by a negation (「殴られてはいない」「暴言はありません」) is
  reported with ``negated=True`` and ignored by :func:`behaviors_in`.
- A behaviour match that is not the customer's conduct toward staff (a hypothetical, a
  quoted prohibition 「クマを殺すな」, a victim's complaint 「転んでケガをしたという苦情」, the
  employee's own act; see :mod:`bot.conduct`) carries the reason in ``not_conduct`` and is
  ignored as well.
- Anger alone (怒っている・激怒・大声で怒って) maps to nothing: a loud but reasonable
  complainant is not harassment; aggressive loudness (大声を出される・叫ぶ・怒鳴る) is
  intimidation.
- Something that has not happened is not a behaviour (「殴られそう」「殴られそうになった」);
  an attack that missed is (「殴りかかってきた」「殴ろうとした」).
- Repetition is ``persistent`` only when repeating is the conduct itself (calls, visits,
  mails, the same demand); a frequency word on another behaviour (「何度も食事に誘われる」
  「下ネタを延々と」) is that behaviour only.
- Threatening to expose someone online (「ネットに晒すぞ」) is ``sns_exposure``; ``threat``
  is reserved for harm to life, body, home and property (殺すぞ・家に行くぞ・刃物・押しかける).
- 「電話番号」「携帯番号」「メールアドレス」 are not a channel (they are usually what a customer
  demands to know about an employee); 「SNSに晒す」 is exposure, not the channel.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.codes import Behavior, SituationChannel
from bot.conduct import not_conduct_reason
from bot.lexicon.tables import (
    BARE_BEHAVIOR,
    BARE_CHANNEL,
    BEHAVIOR_PATTERNS,
    CHANNEL_PATTERNS,
    LOOKUP_TABLES,
    NOT_BEHAVIOR_PATTERNS,
    SYNONYMS,
)

# --------------------------------------------------------------------------------------
# Negation right after a match: 「殴られてはいない」「暴言はありません」「怒鳴ってない」.
# --------------------------------------------------------------------------------------
_NEGATION_AFTER = re.compile(
    r"^[^。、]{0,8}?(?:わけ|訳)(?:では|じゃ)(?:ない|なく|ありません|なかった)|"  # 「脅されたわけではない」
    # a list before the negation: 「暴言や脅しはありません」「暴力とか暴言は一切ない」
    r"^(?:(?:や|とか|、|・)[^。、,.!?！？]{1,8}?(?:は|も|など(?:は|も)?)(?:一切|特に|全く|まったく|全然|ぜんぜん|何も)?"
    r"(?:ありません|ない|なかった|ありませんでした|無い|無かった|されていない|されてない|していない|してない|受けていない|受けてない))|^(?:[らりるれろられさしせっいかきくけこ]{0,3})"
    r"(?:たり|だり|て|で)?"
    r"(?:は|も|とは|とも|と|まで(?:は)?|など(?:は)?|とか(?:は)?|(?:的な|みたいな|のような|っぽい)(?:こと|の|発言|言葉|行為|態度)?(?:は|も)?|(?:する|される)?ような(?:こと)?(?:は|も)?|(?:する|される)?こと(?:は|も))?"
    r"(?:一切|全く|まったく|全然|ぜんぜん|特に|何も)?"
    r"(?:(?:要求|強要|求め|言わ|言っ|言|受け|さ|し|あり|あ|い|お|来|き)(?:ら|られ|れ|さ|され|し|て|で)?(?:て|で)?(?:は|も)?(?:い|お)?)?"
    r"(?:ない|ません|なかった|ねえ|ねー|ず(?!っ)|無い|無かった|なし|無し)(?!と(?!思|おも)|なら|んなら|限り|かぎり|うちに)"
)


@dataclass(frozen=True)
class LexiconMatch:
    code: str
    start: int
    end: int
    surface: str
    negated: bool = False
    not_conduct: str | None = None  # why this is not the customer's conduct (bot.conduct)

    @property
    def counts(self) -> bool:
        """True when the match is a mention of the customer's conduct (or a channel)."""
        return not self.negated and self.not_conduct is None


_SOUND_MARKS = {"\uff9e", "\uff9f", "\u309b", "\u309c", "\u3099", "\u309a"}


def _normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """NFKC + lower case, and for every output character the index of its source character.

    Half-width katakana with a separate sound mark (「ﾄﾞ」) is composed into one character.
    """
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _SOUND_MARKS and out:
            combined = unicodedata.normalize("NFKC", out[-1] + char)
            if len(combined) == 1:
                out[-1] = combined
                continue
        for folded in unicodedata.normalize("NFKC", char).lower():
            out.append(folded)
            origin.append(index)
    return "".join(out), origin


def normalise(text: str) -> str:
    """The copy of the text every pattern is matched on (NFKC, lower case)."""
    return _normalise_with_offsets(text)[0]


_normalise = normalise


@lru_cache(maxsize=None)
def _compiled(kind: str) -> tuple[tuple[str, re.Pattern], ...]:
    table = BEHAVIOR_PATTERNS if kind == "behavior" else CHANNEL_PATTERNS
    return tuple((code.value, re.compile("|".join(f"(?:{p})" for p in patterns))) for code, patterns in table.items())


# A keyword used as a legal/category term in a question is not a reported behaviour:
# 「脅迫にあたりますか」「暴行罪になる？」.
_CATEGORY_AFTER = re.compile(r"^(?:罪(?:に|で|です|が|は|と|[?？]|$)|にあた|に当た|になり(?:ます|え)|になる(?:の)?[?？か]|って(?:なに|何)(?:ですか|[?？]|$)|とは|の定義|かどうか)")


# 「殴られそう」 has not happened; 「殴られそうになった」 is an attempt and counts.
_NOT_YET_AFTER = re.compile(r"^(?:ら|られ|れ|か|かれ|さ|され|り)?(?:そう(?:に(?!な)|で|です|だ|な|。|、|!|！|[」』]|$)|かけ(?:た|て|ました))")
_MAYBE_AFTER = re.compile(r"^[^。、,.!?！？]{0,6}?(?:かもしれ|かもわから|かも知れ)")


def is_negated(norm: str, end: int) -> bool:
    """True when what ends at ``norm[end]`` is negated, a category term or has not happened."""
    return _is_negated(norm, end)


def _is_negated(norm: str, end: int) -> bool:
    rest = norm[end : end + 16]
    if _MAYBE_AFTER.match(rest):  # 「殺されるかもしれない」 is not a negation
        return False
    hearsay = norm[end - 1 : end] in ("た", "だ") and rest.startswith("そう")  # 「投げたそうです」 happened
    return bool(_NEGATION_AFTER.match(rest) or _CATEGORY_AFTER.match(rest) or (_NOT_YET_AFTER.match(rest) and not hearsay))


def _find(text: str, kind: str) -> list[LexiconMatch]:
    norm, origin = _normalise_with_offsets(text)
    raw: list[LexiconMatch] = []
    for code, pattern in _compiled(kind):
        for m in pattern.finditer(norm):
            if m.end() > m.start():
                start = origin[m.start()]
                end = origin[m.end() - 1] + 1
                if m.end() < len(origin) and origin[m.end()] > end:  # a merged sound mark
                    end = origin[m.end()]
                elif m.end() == len(origin):
                    end = len(text)
                reason = not_conduct_reason(norm, m.start(), m.end(), code) if kind == "behavior" else None
                raw.append(LexiconMatch(code, start, end, text[start:end], _is_negated(norm, m.end()), reason))
    # Longer matches win over overlapping shorter matches of another code.
    raw.sort(key=lambda x: (-(x.end - x.start), x.start))
    kept: list[LexiconMatch] = []
    for cand in raw:
        if any(k.code != cand.code and cand.start < k.end and k.start < cand.end for k in kept):
            continue
        kept.append(cand)
    kept.sort(key=lambda x: (x.start, -(x.end - x.start)))
    return kept


def find_behaviors(text: str) -> list[LexiconMatch]:
    """Every behaviour keyword match (negated ones flagged), in order of appearance.

    Matches inside a phrase that names no behaviour (see NOT_BEHAVIOR_PATTERNS) are left out.
    """
    matches = _find(text or "", "behavior")
    vetoed = non_behavior_spans(text or "")
    if not vetoed:
        return matches
    return [m for m in matches if not any(s <= m.start and m.end <= e for s, e in vetoed)]


def span_not_conduct(text: str, start: int, end: int, code: str | None = None) -> str | None:
    """:func:`bot.conduct.not_conduct_reason` for a span of the original text (a model entity)."""
    norm, origin = _normalise_with_offsets(text or "")
    norm_start = next((i for i, o in enumerate(origin) if o >= start), len(norm))
    norm_end = next((i for i, o in enumerate(origin) if o >= end), len(norm))
    if norm_end <= norm_start:
        return None
    return not_conduct_reason(norm, norm_start, norm_end, code)


def find_channels(text: str) -> list[LexiconMatch]:
    """Every channel keyword match (negated ones flagged), in order of appearance."""
    return _find(text or "", "channel")


def _codes(matches: list[LexiconMatch]) -> list[str]:
    seen: list[str] = []
    for m in matches:
        if m.counts and m.code not in seen:
            seen.append(m.code)
    return seen


def behaviors_in(text: str) -> list[Behavior]:
    """All behaviour codes mentioned (not negated) in a message, in order, no duplicates."""
    return [Behavior(code) for code in _codes(find_behaviors(text))]


def channel_in(text: str) -> SituationChannel | None:
    """The first channel mentioned in a message (None when none)."""
    codes = _codes(find_channels(text))
    return SituationChannel(codes[0]) if codes else None


def _value_code(value: str, kind: str, enum):
    if not value:
        return None
    stripped = value.strip()
    try:
        return enum(stripped)
    except ValueError:
        pass
    matches = [m for m in _find(stripped, kind)]
    if not matches:
        return None
    # An extracted value is short: ignore the negation flag (the caller judges context),
    # and take the longest match.
    best = max(matches, key=lambda m: (m.end - m.start, -m.start))
    return enum(best.code)


def behavior_code(text: str) -> Behavior | None:
    """The code for a behaviour surface form or code (None when it names none)."""
    value = _value_code(text, "behavior", Behavior)
    if value is not None:
        return value
    # Words that name a behaviour only in context (「外国人は帰れ」); as an extracted value
    # the model has already judged the context.
    return BARE_BEHAVIOR.get(_normalise((text or "").strip()))


def channel_code(text: str) -> SituationChannel | None:
    """The code for a channel surface form or code (None when it names none)."""
    value = _value_code(text, "channel", SituationChannel)
    if value is not None:
        return value
    # Bare names that only make sense as an extracted value (「sns」「x」「line」).
    bare = _normalise((text or "").strip())
    return BARE_CHANNEL.get(bare)


_NOT_BEHAVIOR = re.compile("|".join(f"(?:{p})" for p in NOT_BEHAVIOR_PATTERNS))


# A frequency word alone: persistent only if the lexicon also finds a repeated act.
_FREQUENCY_ONLY = re.compile(
    r"^(?:何度も|何回も|なんども|毎日(?:のように)?|毎回|毎週|連日|繰り?返し?|くりかえし|しつこ(?:く|い)|執拗に?|延々(?:と)?|再三|何度|何回|\d+回(?:目|も|以上)?)$"
)


def is_frequency_only(surface: str) -> bool:
    """True for a bare frequency word (「何度も」「毎日」「繰り返し」)."""
    return bool(_FREQUENCY_ONLY.match(_normalise((surface or "").strip())))


def non_behavior_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of phrases that name no behaviour although they contain such words."""
    norm, origin = _normalise_with_offsets(text or "")
    spans = []
    for m in _NOT_BEHAVIOR.finditer(norm):
        if m.end() > m.start():
            spans.append((origin[m.start()], origin[m.end() - 1] + 1))
    return spans


# --------------------------------------------------------------------------------------
# Refusal to leave: asked to leave (退去・帰って) and still there.
# --------------------------------------------------------------------------------------
_ASKED_TO_LEAVE = re.compile(
    r"(?:退去|退出|退庁|退館|お引き?取り|おひきとり|引き取|帰って(?:ください|下さい|もらえ|いただ|くれ|ほしい|欲しい)|お帰り(?:ください|下さい|いただ|願)"
    r"|帰るよう(?:に)?(?:言|お願い|求め|促|伝え)|帰れと(?:言|伝)|出て(?:いって|行って)(?:ください|下さい|くれ|ほしい|もらう)|出ていくよう|出て行くよう"
    r"|立ち去(?:って|るよう)|退去命令|退去を(?:求め|命じ|お願い|要請|促)|閉庁(?:です|なので|時間))"
)
_STILL_THERE = re.compile(
    r"(?:帰らない|帰らず|帰ろうとしない|帰ろうとせず|帰ってくれない|帰ってくれません|帰りません|帰らなく|居座|いすわ|居すわ|居残|座り込|動かない|動こうとしない|動きません"
    r"|出て(?:いか|行か)(?:ない|ず|ません)|出ていこうとしない|出て行こうとしない|立ち去らない|立ち去ろうとしない|応じない|応じず|応じません|聞かない|聞き入れ|無視|まだいる|まだ居る|まだいます|まだ居ます|残って(?:いる|る|います)|居続け|拒否|拒ま|拒んで)"
)


def mentions_refusal_to_leave(text: str) -> bool:
    """True when the customer was asked to leave and is still there.

    「退去をお願いしても帰らない」「帰ってくださいと言ったのに居座っている」 → True;
    「居座っている」 alone (never asked) or 「帰ってくださいと言ったら帰った」 → False.
    """
    norm = _normalise(text or "")
    asked = _ASKED_TO_LEAVE.search(norm)
    if not asked:
        return False
    still = _STILL_THERE.search(norm, asked.end())
    if still:
        return not _is_negated(norm, still.end())
    # 「居座っているので退去を求めたが応じない」: the still-there part comes first.
    before = _STILL_THERE.search(norm[: asked.start()])
    after_refusal = re.search(r"(?:応じ|聞き入れ|従わ|従い)(?:ない|ず|ません)|無視|拒", norm[asked.end():])
    return bool(before and after_refusal)


# --------------------------------------------------------------------------------------
# Export for Rasa: data/nlu/lookups.yml is generated by ``python -m bot.lexicon --write``
# (``make data/nlu/lookups.yml``) and a test keeps the two in sync.
# --------------------------------------------------------------------------------------
def rasa_regex_features() -> dict[str, str]:
    """One regex per code, named ``behavior_<code>`` / ``channel_<code>``."""
    features: dict[str, str] = {}
    for prefix, table in (("behavior", BEHAVIOR_PATTERNS), ("channel", CHANNEL_PATTERNS)):
        for code, patterns in table.items():
            features[f"{prefix}_{code.value}"] = "|".join(f"(?:{p})" for p in patterns)
    return features


def _yaml_string(value: str) -> str:
    """A YAML block-list item; every pattern is written verbatim inside a literal block."""
    return f"    - {value}"


def lookups_yml() -> str:
    """The text of data/nlu/lookups.yml: regex features, lookup tables and synonyms."""
    lines = [
        'version: "3.1"',
        "",
        "# GENERATED by `python -m bot.lexicon --write data/nlu/lookups.yml` (make data/nlu/lookups.yml)",
        "# from bot/lexicon/tables.py; edit the tables, not this file.",
        "",
        "nlu:",
    ]
    for kind, items in (
        ("regex", rasa_regex_features().items()),
        ("lookup", ((name, "\n".join(_yaml_string(w) for w in words)) for name, words in LOOKUP_TABLES.items())),
        ("synonym", ((name, "\n".join(_yaml_string(w) for w in words)) for name, words in SYNONYMS.items())),
    ):
        for name, body in items:
            lines += [f"- {kind}: {name}", "  examples: |", body if kind != "regex" else _yaml_string(body)]
    return "\n".join(lines) + "\n"
