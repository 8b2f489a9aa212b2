"""The first duration in a Japanese message, in minutes (「もう2時間も」→120, 「二時間半」→150).

Choices:
- 「小一時間」 (a little under an hour) counts as 60 and 「半時間」 as 30.
- A vague first duration (「数分」「数十分」「十数分」「何時間も」) gives None: the caller should ask
  rather than use a later, possibly unrelated, number.
- Clock times (「午後3時」「3時半」「3時30分」) are skipped, and so are 「十分に/な/だ/です…」
  (enough), 「不十分」 and fractions (「三分の一」).
- A range (「20〜30分」) gives its upper end, the number the unit is written after.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_NUMBER = r"(?:[0-9]+(?:\.[0-9]+)?|[〇一二三四五六七八九十百]+)"
_TOKEN = re.compile(
    # 数 after another kanji is a counter (「人数分」), not "several"; 約 is the exception.
    r"(?P<vague>(?:(?<=約)|(?<![\u4e00-\u9fff]))(?:数十?|何十?|十数)(?:時間|分))"
    r"|(?P<small>小[一1]時間)"
    r"|(?P<halfhour>半時間)"
    rf"|(?P<hours>{_NUMBER})\s*時間(?:\s*(?P<half>半)|\s*(?P<hm>{_NUMBER})\s*分)?"
    rf"|(?P<clock>{_NUMBER})\s*時(?:\s*{_NUMBER}\s*分|\s*半)?"
    rf"|(?P<minutes>{_NUMBER})\s*分"
)
# After 「十分」 these mean "enough", not ten minutes.
_ENOUGH = re.compile(r"に|な|だ|で[すしは]|じゃ|す?ぎ|過ぎ|間に合")
_FRACTION = re.compile(r"の\s*[0-9〇一二三四五六七八九十百]")
_STRUCTURED_KANJI = re.compile(r"(?:([一二三四五六七八九])?百)?(?:([一二三四五六七八九])?十)?([一二三四五六七八九])?")


def _number(text: str) -> Decimal | None:
    """Arabic (「1.5」) or kanji (「百二十」, 「一二〇」) numeral; None when malformed (「十十」)."""
    if text[0].isascii():
        return Decimal(text)
    if all(c in _KANJI_DIGITS for c in text):
        return Decimal("".join(str(_KANJI_DIGITS[c]) for c in text))
    match = _STRUCTURED_KANJI.fullmatch(text)
    if not match:
        return None
    hundreds, tens, units = match.groups()
    value = 0
    if "百" in text:
        value += 100 * (_KANJI_DIGITS[hundreds] if hundreds else 1)
    if "十" in text:
        value += 10 * (_KANJI_DIGITS[tens] if tens else 1)
    if units:
        value += _KANJI_DIGITS[units]
    return Decimal(value)


def count_of(numeral: str) -> int | None:
    """A count written in Arabic or kanji numerals (「3」「三」「十二」), None when malformed."""
    value = _number(unicodedata.normalize("NFKC", numeral)) if numeral else None
    return int(value) if value is not None and value == value.to_integral_value() else None


def _whole_minutes(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_minutes(text: str) -> int | None:
    """Minutes of the first duration in the text (rounded half up), or None if there is none."""
    text = unicodedata.normalize("NFKC", text)  # full-width digits and 「．」
    for match in _TOKEN.finditer(text):
        if match["vague"]:
            return None
        if match["small"]:
            return 60
        if match["halfhour"]:
            return 30
        if match["hours"]:
            hours = _number(match["hours"])
            extra = Decimal(30) if match["half"] else _number(match["hm"]) if match["hm"] else Decimal(0)
            if hours is not None and extra is not None:
                return _whole_minutes(hours * 60 + extra)
            continue
        if match["minutes"]:
            rest = text[match.end():]
            enough = match["minutes"] == "十" and (
                text[match.start() - 1 : match.start()] == "不" or _ENOUGH.match(rest)
            )
            minutes = _number(match["minutes"])
            if minutes is not None and not enough and not _FRACTION.match(rest):
                return _whole_minutes(minutes)
    return None
