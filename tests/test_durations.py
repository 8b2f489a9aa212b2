"""The first duration in a Japanese message, in minutes."""
from __future__ import annotations

import pytest

from bot.durations import count_of, parse_minutes


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("2時間", 120),
        ("九十分", 90),
        ("１時間半", 90),
        ("もう3時間も居座っています", 180),
        ("30分くらい", 30),
        ("約40分", 40),
        ("1.5時間", 90),
        ("１．５時間", 90),
        ("1.25時間", 75),
        ("2.5分", 3),  # round half up
        ("2時間30分", 150),
        ("２時間　３０分", 150),
        ("二時間三十分", 150),
        ("二時間半", 150),
        ("三十五分", 35),
        ("百二十分", 120),
        ("一二〇分", 120),
        ("半時間", 30),
        ("小一時間ほど怒鳴られました", 60),
        ("45分ほど", 45),
        ("10分間", 10),
        ("0分", 0),
        ("十分", 10),
        ("十分で終わりました", 10),
        ("三十分の遅れ", 30),
        ("十分に説明しましたが、もう2時間です", 120),
        ("午後3時から2時間", 120),
        ("3時30分から1時間", 60),
        ("三時半から四十分", 40),
        ("人数分の資料を出せと1時間", 60),
        ("20〜30分", 30),
        ("昨日の午後3時ごろ、窓口で男性が2時間も居座り、市長を出せと", 120),
        ("1時間、その後30分", 60),  # the first one
    ],
)
def test_durations(text: str, minutes: int) -> None:
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize(
    "text",
    [
        "十分に説明しました",
        "十分な説明をしました",
        "もう十分です",
        "十分間に合います",
        "説明が不十分だと言われました",
        "午後3時",
        "3時から",
        "三時半に来ました",
        "3回",
        "10日",
        "三分の一",
        "長時間",
        "",
        "電話がありました",
        # vague: the caller should ask instead
        "数分",
        "数十分",
        "約数分",
        "十数分",
        "何時間も",
        "数時間、いや3時間",
    ],
)
def test_not_a_duration(text: str) -> None:
    assert parse_minutes(text) is None


@pytest.mark.parametrize("numeral, count", [("3", 3), ("３", 3), ("三", 3), ("十二", 12), ("二十", 20), ("1.5", None), ("十十", None), ("", None)])
def test_count_of(numeral: str, count: int | None) -> None:
    assert count_of(numeral) == count
