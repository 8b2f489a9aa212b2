"""The facts of a case as the employee (or an integrator) reports them, read strictly from JSON.

Today's fields are accepted unchanged and every newer one is optional; anything unknown or of the
wrong kind is a FactsError that names the field, in Japanese and English, on one line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from bot.codes import Behavior, Coded, DemandBasis, DepartureStep, SituationChannel, WarningLevel


class FactsError(ValueError):
    """A facts field that cannot be read; names the field, in Japanese and English."""

    def __init__(self, field: str, message_ja: str, message_en: str) -> None:
        self.field = field
        self.message_ja = message_ja
        self.message_en = message_en
        super().__init__(f"{field}: {message_ja} / {message_en}")


def _shown(value: Any) -> str:
    """A value as it may appear inside a one-line message."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)


def _code(enum: type[Coded], field: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise FactsError(field, "コード（文字列）で指定してください", "must be a code (string)")
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise FactsError(
            field,
            f"不明なコード「{_shown(value)}」です（使用可能: {known}）",
            f"unknown code {_shown(value)!r} (known: {known})",
        ) from None


def _behaviors(field: str, value: Any) -> frozenset[Behavior]:
    if not isinstance(value, (list, tuple)):
        raise FactsError(field, "コードの配列で指定してください", "must be a list of codes")
    return frozenset(_code(Behavior, f"{field}[{index}]", item) for index, item in enumerate(value))


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FactsError(field, "true か false で指定してください", "must be true or false")
    return value


def _optional_flag(field: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise FactsError(field, "true・false・null のいずれかで指定してください", "must be true, false or null")
    return value


def _channel(field: str, value: Any) -> SituationChannel | None:
    return None if value is None else _code(SituationChannel, field, value)


def _optional_code(enum: type[Coded]) -> Callable[[str, Any], Any]:
    return lambda field, value: None if value is None else _code(enum, field, value)


def _minutes(field: str, value: Any) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise FactsError(
            field, "0以上の整数（分）か null で指定してください", "must be a non-negative integer (minutes) or null"
        )
    return value


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "behaviors": _behaviors,
    "our_fault": _optional_flag,
    "demand_related": _optional_flag,
    "channel": _channel,
    "ongoing": _flag,
    "elapsed_minutes": _minutes,
    "refused_to_leave": _flag,
    "danger": _flag,
    "demand_basis": _optional_code(DemandBasis),
    "money_demanded": _optional_flag,
    "warnings_given": _optional_code(WarningLevel),
    "conduct_continued": _optional_flag,
    "deadlock": _optional_flag,
    "departure_step": _optional_code(DepartureStep),
    "public": _optional_flag,
    "injured": _flag,
    "property_damaged": _flag,
    "self_harm": _flag,
    "vulnerable": _flag,
    "police_called": _flag,
    "identified": _optional_flag,
    "recorded": _optional_flag,
    "alone": _optional_flag,
}


@dataclass(frozen=True)
class Facts:
    """What the employee reported. None means not known (yet)."""

    behaviors: frozenset[Behavior] = frozenset()
    our_fault: bool | None = None
    demand_related: bool | None = None
    channel: SituationChannel | None = None
    ongoing: bool = False
    elapsed_minutes: int | None = None
    refused_to_leave: bool = False  # asked to leave and still there
    danger: bool = False  # violence, a weapon or danger to someone now
    # The demand axis as the guidance defines it; None: derived from our_fault / demand_related.
    demand_basis: DemandBasis | None = None
    money_demanded: bool | None = None  # the demand is for money or goods (恐喝 needs it)
    # The means: how far 注意 → 警告 → 中止 has gone, and whether the conduct went on after it.
    warnings_given: WarningLevel | None = None
    conduct_continued: bool | None = None
    deadlock: bool | None = None  # the same point repeated after our explanation (膠着)
    departure_step: DepartureStep | None = None  # the Tokyo sequence for refusal to leave
    public: bool | None = None  # said or posted where others see it (名誉毀損・侮辱 need it)
    injured: bool = False  # someone of ours was hurt
    property_damaged: bool = False  # the office's or staff's property was damaged
    self_harm: bool = False  # the customer speaks of harming or killing themselves
    vulnerable: bool = False  # signs of confusion, dementia or loneliness behind the talk
    police_called: bool = False
    identified: bool | None = None  # the customer's name and contact are known
    recorded: bool | None = None  # a recording or notes are being kept
    alone: bool | None = None  # the employee is dealing with it alone

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Facts":
        """Strict reading of a JSON object: missing keys take the defaults, anything odd is a FactsError."""
        if not isinstance(data, Mapping):
            raise FactsError("(json)", "JSONオブジェクト（{…}）で指定してください", "must be a JSON object")
        for key in data:
            if key not in _PARSERS:
                known = ", ".join(_PARSERS)
                raise FactsError(
                    _shown(key), f"不明な項目です（使用可能: {known}）", f"unknown key (known: {known})"
                )
        return cls(**{key: _PARSERS[key](key, value) for key, value in data.items()})
