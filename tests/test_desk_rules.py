"""bot/desk_rules.py and bot/exports.py: the desk's rules with hand-written expectations."""
from __future__ import annotations

from datetime import date

import pytest

from bot.codes import AlertReason, FollowUpState
from bot.desk_rules import alert_email, alert_reason, customer_key_hash, duration_bucket, follow_up_state, trend_counts
from bot.exports import masked, neutralise, render_csv


def record(**fields) -> dict:
    base = {"id": 7, "started_at": "2026-11-20T03:05:00+00:00", "verdict": None, "behaviors": [], "types": [],
            "escalations": [], "police_called": None, "situation_channel": "phone", "employee_department": "市民課",
            "elapsed_minutes": None, "demand": None, "notes": None, "messages": []}
    return base | fields


@pytest.mark.parametrize("fields, expected", [
    ({}, None),
    ({"verdict": "legitimate"}, None),
    ({"verdict": "gray", "behaviors": ["verbal_abuse"]}, None),
    ({"verdict": "harassment"}, AlertReason.HARASSMENT),
    ({"verdict": "criminal"}, AlertReason.CRIMINAL),
    ({"verdict": "criminal", "behaviors": ["physical_attack"]}, AlertReason.DANGER),
    ({"escalations": ["police_110"]}, AlertReason.DANGER),
    ({"verdict": "legitimate", "police_called": True}, AlertReason.DANGER),
    ({"escalations": ["police_9110"]}, None),  # a consultation line, not an emergency
])
def test_which_records_alert_the_desk(fields, expected):
    assert alert_reason(record(**fields)) == expected


@pytest.mark.parametrize("status, assignee, due_on, expected", [
    ("open", None, None, FollowUpState.UNASSIGNED),
    ("open", "desk", None, FollowUpState.ASSIGNED),
    ("open", "desk", date(2026, 11, 20), FollowUpState.ASSIGNED),  # due today is not late
    ("open", "desk", date(2026, 11, 19), FollowUpState.OVERDUE),
    ("open", None, date(2026, 11, 19), FollowUpState.OVERDUE),
    ("closed", "desk", date(2026, 11, 1), FollowUpState.DONE),
])
def test_follow_up_state(status, assignee, due_on, expected):
    assert follow_up_state(status, assignee, due_on, date(2026, 11, 20)) is expected


def test_customer_keys_match_however_they_are_typed_and_depend_on_the_secret():
    key = customer_key_hash(b"s", "Yamada 090-1111-2222")
    assert customer_key_hash(b"s", "  ｙａｍａｄａ　０９０-1111-2222 ") == key
    assert customer_key_hash(b"other", "Yamada 090-1111-2222") != key
    assert customer_key_hash(b"s", "Yamada 090-1111-2223") != key
    assert len(key) == 64 and "090" not in key
    with pytest.raises(ValueError):
        customer_key_hash(b"s", "　 ")


@pytest.mark.parametrize("minutes, bucket", [
    (None, "不明"), (0, "10分未満"), (9, "10分未満"), (10, "10〜30分"), (30, "30〜60分"), (59, "30〜60分"),
    (60, "60分以上"), (300, "60分以上"),
])
def test_duration_buckets(minutes, bucket):
    assert duration_bucket(minutes) == bucket


def test_trend_counts_use_local_time_and_the_codes_order():
    records = [
        record(id=1, verdict="harassment", types=["verbal_abuse"], started_at="2026-10-31T15:30:00+00:00"),  # 11/1 00:30
        record(id=2, verdict="legitimate", elapsed_minutes=45, started_at="2026-11-20T03:00:00+00:00"),
        record(id=3, verdict="harassment", types=["time_restraint", "verbal_abuse"], employee_department=None),
    ]
    counts = {c.title: dict(zip(c.labels, c.values)) for c in trend_counts(records, repeat_ids={1, 3})}
    assert counts["月別の件数"] == {"2026-11": 3}
    assert list(counts["判断別"]) == ["正当なクレーム", "カスタマーハラスメント"]
    assert counts["類型別（厚生労働省の9類型）"] == {"時間拘束型": 1, "暴言型": 2}
    assert counts["部署別"] == {"市民課": 2, "不明": 1}
    assert counts["時間帯別（開始時刻）"] == {"00時": 1, "12時": 2}
    assert counts["対応時間別"] == {"30〜60分": 1, "不明": 2}
    assert counts["繰り返しの相談（同じ顧客）"] == {"繰り返し": 2, "初回・不明": 1}


def test_an_alert_email_says_what_and_where_but_not_the_words():
    subject, body = alert_email(record(verdict="criminal", demand="090-1234-5678 に電話しろ"), AlertReason.CRIMINAL,
                                "http://desk/records/7")
    assert subject == "【至急】カスハラ相談 #7（犯罪の可能性）"
    assert "2026-11-20 12:05（日本時間）" in body and "電話" in body and "市民課" in body
    assert "090-1234-5678" not in body and "http://desk/records/7" in body


@pytest.mark.parametrize("cell, shown", [
    ("=1+1", "'=1+1"), ("+81 90", "'+81 90"), ("-5分", "'-5分"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("返金しろ", "返金しろ"), ("", ""), ("a=b", "a=b"),
])
def test_csv_cells_that_would_be_formulas_are_neutralised(cell, shown):
    assert neutralise(cell) == shown


def test_csv_has_a_bom_and_masked_copies_leave_the_original():
    original = record(demand="山田様 090-1234-5678", messages=[{"sent_at": "x", "text": "a@example.com"}],
                      exact_words=["=HYPERLINK()"])
    copy = masked(original)
    assert copy["demand"] == "●●様 [電話番号]" and copy["messages"][0]["text"] == "[メールアドレス]"
    assert original["demand"] == "山田様 090-1234-5678"
    data = render_csv([copy], ["id", "demand", "exact_words"])
    assert data.startswith(b"\xef\xbb\xbf") and "'=HYPERLINK()" in data.decode("utf-8-sig")
