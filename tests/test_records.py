"""ConsultationStore on SQLite and PostgreSQL (see conftest.database_url), and privacy masking."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.codes import Behavior, Verdict
from bot.privacy import mask_personal_data
from bot.records import RECORD_FIELDS, ConsultationStore, RecordNotFound, UnknownField

T0 = datetime(2025, 4, 1, 0, 30, tzinfo=timezone.utc)
JST = timezone(timedelta(hours=9))


@pytest.fixture
def store(database_url: str):
    store = ConsultationStore(database_url)
    yield store
    store.dispose()


def test_lifecycle_start_update_messages_close(store: ConsultationStore) -> None:
    record_id = store.start("conv-1", "slack", started_at=datetime(2025, 4, 1, 9, 30, tzinfo=JST))
    fresh = store.get(record_id)
    assert fresh["id"] == record_id
    assert fresh["conversation_id"] == "conv-1"
    assert fresh["source_channel"] == "slack"
    assert fresh["started_at"] == "2025-04-01T00:30:00+00:00"
    assert fresh["updated_at"] == fresh["started_at"]
    assert (fresh["status"], fresh["closed_at"], fresh["deadline_at"]) == ("open", None, None)
    assert fresh["behaviors"] == fresh["types"] == fresh["reasons"] == fresh["legal_risks"] == []
    assert fresh["escalations"] == fresh["messages"] == []
    assert fresh["our_fault"] is None and fresh["alone"] is None and fresh["verdict"] is None

    store.update(
        record_id,
        situation_channel="phone",
        ongoing=True,
        elapsed_minutes=35,
        behaviors=["verbal_abuse", "persistent"],
        types=["verbal_abuse", "time_restraint"],
        demand="土下座して謝れ",
        our_fault=False,
        demand_related=True,
        identified=False,
        recorded=True,
        alone=True,
        verdict="harassment",
        reasons=["暴言が続いている", "30分を超えている"],
        legal_risks=["coercion"],
        escalations=["supervisor", "consultation_desk"],
        notes="上司に報告済み",
        deadline_at=T0 + timedelta(minutes=30),
    )
    store.add_message(record_id, "二通目", sent_at=T0 + timedelta(minutes=2))
    store.add_message(record_id, "一通目", sent_at=T0 + timedelta(minutes=1))
    store.close(record_id, closed_at=T0 + timedelta(minutes=40))

    record = store.get(record_id)
    assert record["status"] == "closed"
    assert record["closed_at"] == "2025-04-01T01:10:00+00:00"
    assert record["situation_channel"] == "phone"
    assert record["ongoing"] is True and record["elapsed_minutes"] == 35
    assert record["behaviors"] == ["verbal_abuse", "persistent"]
    assert record["types"] == ["verbal_abuse", "time_restraint"]
    assert record["demand"] == "土下座して謝れ"
    assert (record["our_fault"], record["demand_related"], record["identified"]) == (False, True, False)
    assert (record["recorded"], record["alone"]) == (True, True)
    assert record["verdict"] == "harassment"
    assert record["reasons"] == ["暴言が続いている", "30分を超えている"]
    assert record["legal_risks"] == ["coercion"]
    assert record["escalations"] == ["supervisor", "consultation_desk"]
    assert record["notes"] == "上司に報告済み"
    assert record["deadline_at"] == "2025-04-01T01:00:00+00:00"
    assert record["messages"] == [
        {"sent_at": "2025-04-01T00:31:00+00:00", "text": "一通目"},
        {"sent_at": "2025-04-01T00:32:00+00:00", "text": "二通目"},
    ]
    assert record["updated_at"] > fresh["updated_at"]

    store.close(record_id, closed_at=T0 + timedelta(hours=5))
    assert store.get(record_id)["closed_at"] == "2025-04-01T01:10:00+00:00"


def test_get_returns_exactly_the_record_fields_in_order(store: ConsultationStore) -> None:
    record = store.get(store.start("conv-1", "rest"))
    assert list(record) == list(RECORD_FIELDS)
    assert datetime.fromisoformat(record["started_at"]).utcoffset() == timedelta(0)


def test_the_fields_the_desk_needs_are_stored(store: ConsultationStore) -> None:
    record_id = store.start("conv-1", "botframework")
    store.update(
        record_id,
        exact_words=["土下座しろ", "ネットに晒すぞ"],
        staff_present=["係長: 山田（途中から同席）"],
        apologised_for="待ち時間が長かったこと",
        answers_given=["規則により返金できません"],
        answer_count=3,
        warnings_given="warned",
        police_called=True,
        injuries="なし",
        employee_condition="動悸がする",
        follow_up_items=["録音を保存する"],
        employee_department="市民課",
    )
    record = store.get(record_id)
    assert record["exact_words"] == ["土下座しろ", "ネットに晒すぞ"]
    assert record["staff_present"] == ["係長: 山田（途中から同席）"]
    assert (record["apologised_for"], record["answers_given"], record["answer_count"]) == (
        "待ち時間が長かったこと", ["規則により返金できません"], 3)
    assert (record["warnings_given"], record["police_called"], record["injuries"]) == ("warned", True, "なし")
    assert (record["employee_condition"], record["follow_up_items"], record["employee_department"]) == (
        "動悸がする", ["録音を保存する"], "市民課")
    store.update(record_id, exact_words=None, police_called=None)
    assert store.get(record_id)["exact_words"] == [] and store.get(record_id)["police_called"] is None


def test_codes_may_be_passed_as_members_and_lists_are_sets(store: ConsultationStore) -> None:
    record_id = store.start("conv-1", "rest")
    store.update(record_id, verdict=Verdict.GRAY, behaviors=[Behavior.THREAT, "threat", "verbal_abuse"])
    record = store.get(record_id)
    assert record["verdict"] == "gray"
    assert record["behaviors"] == ["threat", "verbal_abuse"]
    store.update(record_id, behaviors=None, verdict=None)
    record = store.get(record_id)
    assert record["behaviors"] == [] and record["verdict"] is None


def test_unknown_field_raises_and_stores_nothing(store: ConsultationStore) -> None:
    record_id = store.start("conv-1", "rest")
    before = store.get(record_id)
    with pytest.raises(UnknownField, match="colour"):
        store.update(record_id, demand="返金しろ", colour="red")
    with pytest.raises(UnknownField, match="status"):
        store.update(record_id, status="closed")  # only close() closes
    assert store.get(record_id) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("verdict", "guilty"),
        ("situation_channel", "fax"),
        ("behaviors", ["verbal_abuse", "nope"]),
        ("behaviors", "verbal_abuse"),
        ("reasons", ["ok", 3]),
        ("our_fault", "yes"),
        ("elapsed_minutes", -1),
        ("elapsed_minutes", True),
        ("demand", 42),
        ("deadline_at", datetime(2025, 4, 1, 9, 0)),
        ("exact_words", "土下座しろ"),
        ("staff_present", [{"role": "係長"}]),
        ("answer_count", -1),
        ("police_called", "yes"),
        ("employee_department", 3),
    ],
)
def test_invalid_value_raises_naming_the_field_and_stores_nothing(
    store: ConsultationStore, field: str, value: object
) -> None:
    record_id = store.start("conv-1", "rest")
    before = store.get(record_id)
    with pytest.raises(ValueError, match=field) as raised:
        store.update(record_id, notes="書かれてはいけない", **{field: value})
    assert not isinstance(raised.value, UnknownField)
    assert store.get(record_id) == before


def test_invalid_start_arguments(store: ConsultationStore) -> None:
    with pytest.raises(ValueError, match="source_channel"):
        store.start("conv-1", "fax")
    with pytest.raises(ValueError, match="started_at"):
        store.start("conv-1", "rest", started_at=datetime(2025, 4, 1))
    assert store.list() == []


def test_missing_record_raises_record_not_found(store: ConsultationStore) -> None:
    with pytest.raises(RecordNotFound):
        store.get(999)
    with pytest.raises(RecordNotFound):
        store.update(999, demand="x")
    with pytest.raises(RecordNotFound):
        store.add_message(999, "x")
    with pytest.raises(RecordNotFound):
        store.close(999)
    assert store.list() == []


def test_latest_open(store: ConsultationStore) -> None:
    first = store.start("conv-1", "rest", started_at=T0)
    assert store.latest_open("conv-1") == first
    second = store.start("conv-1", "rest", started_at=T0 + timedelta(hours=1))
    other = store.start("conv-2", "rest", started_at=T0 + timedelta(hours=2))
    assert store.latest_open("conv-1") == second
    store.close(second)
    assert store.latest_open("conv-1") == first
    store.close(first)
    assert store.latest_open("conv-1") is None
    assert store.latest_open("conv-2") == other
    assert store.latest_open("nobody") is None


def test_list_newest_first_with_status_filter_and_limit(store: ConsultationStore) -> None:
    middle = store.start("c-middle", "rest", started_at=T0 + timedelta(hours=1))
    oldest = store.start("c-oldest", "rest", started_at=T0)
    newest = store.start("c-newest", "rest", started_at=T0 + timedelta(hours=2))
    store.add_message(middle, "こんにちは", sent_at=T0 + timedelta(hours=1))
    store.close(middle)

    assert [r["id"] for r in store.list()] == [newest, middle, oldest]
    assert [r["id"] for r in store.list(limit=2)] == [newest, middle]
    assert [r["id"] for r in store.list(limit=None)] == [newest, middle, oldest]
    assert [r["id"] for r in store.list(status="open")] == [newest, oldest]
    assert [r["id"] for r in store.list(status="closed")] == [middle]
    assert store.list(status="closed")[0] == store.get(middle)
    with pytest.raises(ValueError, match="status"):
        store.list(status="pending")
    with pytest.raises(ValueError, match="limit"):
        store.list(limit=0)


def test_open_deadlines_lists_only_open_records_with_a_deadline(store: ConsultationStore) -> None:
    late = store.start("c-late", "rest")
    soon = store.start("c-soon", "rest")
    closed = store.start("c-closed", "rest")
    store.start("c-none", "rest")
    store.update(late, deadline_at=T0 + timedelta(minutes=50))
    store.update(soon, deadline_at=(T0 + timedelta(minutes=20)).astimezone(JST))
    store.update(closed, deadline_at=T0)
    store.close(closed)

    deadlines = store.open_deadlines()
    assert deadlines == [(soon, "c-soon", T0 + timedelta(minutes=20)), (late, "c-late", T0 + timedelta(minutes=50))]
    assert all(deadline.utcoffset() == timedelta(0) for _, _, deadline in deadlines)
    store.update(soon, deadline_at=None)
    assert [d[0] for d in store.open_deadlines()] == [late]


def test_audit_entries_newest_first(store: ConsultationStore) -> None:
    record_id = store.start("conv-1", "rest")
    store.audit("alice", "records.list", detail="count=1")
    store.audit("bob", "record.view", record_id=record_id)
    entries = store.audit_entries()
    assert [(e["actor"], e["action"], e["record_id"], e["detail"]) for e in entries] == [
        ("bob", "record.view", record_id, ""),
        ("alice", "records.list", None, "count=1"),
    ]
    assert datetime.fromisoformat(entries[0]["at"]).utcoffset() == timedelta(0)
    assert len(store.audit_entries(limit=1)) == 1


def test_abandoned_record_stays_open(database_url: str) -> None:
    first = ConsultationStore(database_url)
    record_id = first.start("conv-1", "socketio")
    first.update(record_id, demand="返金しろ", ongoing=True)
    first.add_message(record_id, "途中で切れました")
    first.dispose()

    second = ConsultationStore(database_url)  # e.g. after a restart: tables exist, data kept
    try:
        record = second.get(record_id)
        assert (record["status"], record["closed_at"], record["demand"]) == ("open", None, "返金しろ")
        assert [m["text"] for m in record["messages"]] == ["途中で切れました"]
        assert second.latest_open("conv-1") == record_id
    finally:
        second.dispose()


def test_sqlite_file_folder_is_created(tmp_path) -> None:
    path = tmp_path / "nested" / "var" / "consultations.db"
    store = ConsultationStore(f"sqlite:///{path}")
    try:
        store.start("conv-1", "shell")
    finally:
        store.dispose()
    assert path.is_file()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("090-1234-5678", "[電話番号]"),
        ("携帯は090-1234-5678です", "携帯は[電話番号]です"),
        ("03(1234)5678に電話", "[電話番号]に電話"),
        ("（03）1234-5678", "[電話番号]"),
        ("03-1234-5678", "[電話番号]"),
        ("03 1234 5678", "[電話番号]"),
        ("0120-123-456", "[電話番号]"),
        ("０９０１２３４５６７８", "[電話番号]"),
        ("０９０－１２３４－５６７８", "[電話番号]"),
        ("090ー1234ー5678", "[電話番号]"),
        ("09012345678と0312345678", "[電話番号]と[電話番号]"),
        ("+81-90-1234-5678", "[電話番号]"),
        ("090-1234-5678 03-1234-5678", "[電話番号] [電話番号]"),
        ("taro.yamada+x@example.co.jp まで", "[メールアドレス] まで"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[メールアドレス]"),
        ("taro0312345678@example.com", "[メールアドレス]"),
        ("〒123-4567 東京都", "〒[郵便番号] 東京都"),
        ("〒１２３－４５６７", "〒[郵便番号]"),
        ("〒1234567", "〒[郵便番号]"),
        ("山田様", "●●様"),
        ("鈴木さんが来た", "●●さんが来た"),
        ("山田太郎様", "●●様"),
        ("長谷川由美子様", "●●様"),
        ("スズキさん", "●●さん"),
        ("田中氏によると", "●●氏によると"),
        ("佐藤くんと高橋ちゃん", "●●くんと●●ちゃん"),
        ("課長の山田さまに", "課長の●●さまに"),
        (
            "山田様（090-1234-5678、yamada@example.com）から電話",
            "●●様（[電話番号]、[メールアドレス]）から電話",
        ),
    ],
)
def test_mask_personal_data_masks(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2025-04-01に来庁",
        "２０２５－０４－０１",
        "30分以上話が続いた",
        "３０分",
        "10,000円を返せ",
        "09:30から11:00まで",
        "03-1234-567",
        "090-1234-56789",
        "口座012345678901234",
        "123-4567",
        "お客様",
        "皆様",
        "お疲れ様です",
        "ご主人様",
        "担当者様",
        "店長さん",
        "様々な要求",
        "申請者氏名",
        "たくさん",
        "みなさん",
        "さくらさん",
        "同様に",
        "ちゃんと説明して",
        "example.com",
        "",
    ],
)
def test_mask_personal_data_leaves_ordinary_text(text: str) -> None:
    assert mask_personal_data(text) == text


def test_a_turn_stores_the_message_and_the_facts_together(database_url):
    store = ConsultationStore(database_url)
    record_id = store.start("employee-1", "rest")
    store.record_turn(record_id, "窓口で怒鳴られています", situation_channel="counter", behaviors=["intimidation"])
    store.record_turn(record_id, None, ongoing=True)
    with pytest.raises(UnknownField):
        store.record_turn(record_id, "二度目", mood="bad")
    record = store.get(record_id)
    assert [m["text"] for m in record["messages"]] == ["窓口で怒鳴られています"]
    assert record["situation_channel"] == "counter" and record["ongoing"] is True
    assert record["behaviors"] == ["intimidation"]
    store.dispose()


def test_quoted_words_of_later_turns_are_added_to_those_stored(database_url: str) -> None:
    """The action server sees only the latest messages of a long conversation (bot/rasa/compact_store.py):
    each turn adds the quoted words it sees, after those of earlier turns, each once, masked."""
    store = ConsultationStore(database_url, mask_at_write=True)
    try:
        record_id = store.start("conv-words", "rest")
        store.record_turn(record_id, None, add_exact_words=["土下座しろ", "090-1234-5678に電話しろ"])
        store.record_turn(record_id, None, add_exact_words=["090-1234-5678に電話しろ", "ネットに晒すぞ"])
        store.record_turn(record_id, None, ongoing=True)
        assert store.get(record_id)["exact_words"] == ["土下座しろ", "[電話番号]に電話しろ", "ネットに晒すぞ"]
        store.update(record_id, exact_words=["ネットに晒すぞ"])  # the desk's correction replaces them
        store.record_turn(record_id, None, add_exact_words=["ネットに晒すぞ"])
        assert store.get(record_id)["exact_words"] == ["ネットに晒すぞ"]
        with pytest.raises(ValueError):
            store.record_turn(record_id, "届かない", add_exact_words=[3])
        assert store.get(record_id)["messages"] == []  # nothing written
    finally:
        store.dispose()


def test_masking_at_write_stores_no_phone_number_mail_address_or_name(database_url: str) -> None:
    masking = ConsultationStore(database_url, mask_at_write=True)
    plain = ConsultationStore(database_url)
    try:
        record_id = masking.start("conv-mask", "rest")
        masking.record_turn(
            record_id,
            "山田様から090-1234-5678に折り返せと。連絡先は yamada@example.jp",
            demand="山田様への折り返し",
            exact_words=["090-1234-5678に電話しろ"],
        )
        stored = plain.get(record_id)  # read back without any masking on the way out
        assert stored["messages"][0]["text"] == "●●様から[電話番号]に折り返せと。連絡先は [メールアドレス]"
        assert stored["demand"] == "●●様への折り返し"
        assert stored["exact_words"] == ["[電話番号]に電話しろ"]
        unmasked_id = plain.start("conv-plain", "rest")
        plain.record_turn(unmasked_id, "090-1234-5678")
        assert plain.get(unmasked_id)["messages"][0]["text"] == "090-1234-5678"
    finally:
        masking.dispose()
        plain.dispose()
