"""The consultation desk's rules, as pure functions: which records alert the desk, where a
follow-up stands, how customer keys are hashed, and how records are counted for the trends."""
from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.codes import (
    AlertReason,
    Behavior,
    Escalation,
    FollowUpState,
    HarassmentType,
    RecordStatus,
    SituationChannel,
    Verdict,
)

LOCAL_TIME = ZoneInfo("Asia/Tokyo")
# (upper bound in minutes, label): a consultation's duration as the trends count it
DURATION_BUCKETS: tuple[tuple[int, str], ...] = ((10, "10分未満"), (30, "10〜30分"), (60, "30〜60分"))
LONGEST_BUCKET = "60分以上"
UNKNOWN = "不明"


def alert_reason(record: dict) -> AlertReason | None:
    """Why the desk must see this record at once, or None: danger (violence, 110 called or
    advised), a possible crime, or harassment."""
    if (
        Behavior.PHYSICAL_ATTACK.value in record.get("behaviors", [])
        or Escalation.POLICE_110.value in record.get("escalations", [])
        or record.get("police_called") is True
    ):
        return AlertReason.DANGER
    if record.get("verdict") == Verdict.CRIMINAL.value:
        return AlertReason.CRIMINAL
    if record.get("verdict") == Verdict.HARASSMENT.value:
        return AlertReason.HARASSMENT
    return None


def follow_up_state(status: str, assignee: str | None, due_on: date | None, today: date) -> FollowUpState:
    if status == RecordStatus.CLOSED.value:
        return FollowUpState.DONE
    if due_on is not None and due_on < today:
        return FollowUpState.OVERDUE
    return FollowUpState.ASSIGNED if assignee else FollowUpState.UNASSIGNED


def normalise_customer_key(key: str) -> str:
    """The same customer typed twice the same way: width, case and surrounding spaces ignored."""
    return " ".join(unicodedata.normalize("NFKC", key).casefold().split())


def customer_key_hash(secret: bytes, key: str) -> str:
    """HMAC-SHA256 of the normalised key: stored instead of the key, useless without the secret."""
    normalised = normalise_customer_key(key)
    if not normalised:
        raise ValueError("customer key: empty")
    return hmac.new(secret, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def local_time(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TIME)


def duration_bucket(minutes: int | None) -> str:
    if minutes is None:
        return UNKNOWN
    for bound, label in DURATION_BUCKETS:
        if minutes < bound:
            return label
    return LONGEST_BUCKET


@dataclass(frozen=True)
class Count:
    """One chart: labels in display order with their counts."""

    title: str
    labels: tuple[str, ...]
    values: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.values)


def _count(title: str, items: Iterable[str], order: Iterable[str] = ()) -> Count:
    counter = Counter(items)
    labels = [label for label in order if label in counter] + sorted(set(counter) - set(order))
    return Count(title, tuple(labels), tuple(counter[label] for label in labels))


def trend_counts(records: list[dict], repeat_ids: set[int]) -> list[Count]:
    """The charts of the trends page and the monthly report, in that order. `records` as
    ConsultationStore.get() returns them; `repeat_ids` the records linked to a customer who has
    more than one."""
    started = [local_time(datetime.fromisoformat(r["started_at"])) for r in records]
    verdicts = [Verdict(r["verdict"]).label if r["verdict"] else UNKNOWN for r in records]
    return [
        _count("月別の件数", (s.strftime("%Y-%m") for s in started), sorted({s.strftime("%Y-%m") for s in started})),
        _count("判断別", verdicts, [v.label for v in Verdict] + [UNKNOWN]),
        _count("類型別（厚生労働省の9類型）", (HarassmentType(t).label for r in records for t in r["types"]),
               [t.label for t in HarassmentType]),
        _count("行為別", (Behavior(b).label for r in records for b in r["behaviors"]), [b.label for b in Behavior]),
        _count("場面別", (SituationChannel(r["situation_channel"]).label if r["situation_channel"] else UNKNOWN
                       for r in records), [c.label for c in SituationChannel] + [UNKNOWN]),
        _count("部署別", (r["employee_department"] or UNKNOWN for r in records)),
        _count("時間帯別（開始時刻）", (f"{s.hour:02d}時" for s in started), [f"{h:02d}時" for h in range(24)]),
        _count("対応時間別", (duration_bucket(r["elapsed_minutes"]) for r in records),
               [label for _, label in DURATION_BUCKETS] + [LONGEST_BUCKET, UNKNOWN]),
        _count("繰り返しの相談（同じ顧客）", ("繰り返し" if r["id"] in repeat_ids else "初回・不明" for r in records),
               ["繰り返し", "初回・不明"]),
    ]


def alert_email(record: dict, reason: AlertReason, link: str) -> tuple[str, str]:
    """Subject and body of an alert e-mail: what and where, never the customer's words."""
    started = local_time(datetime.fromisoformat(record["started_at"])).strftime("%Y-%m-%d %H:%M")
    verdict = Verdict(record["verdict"]).label if record["verdict"] else "未判断"
    situation = SituationChannel(record["situation_channel"]).label if record["situation_channel"] else UNKNOWN
    subject = f"【至急】カスハラ相談 #{record['id']}（{reason.label}）"
    body = "\n".join([
        "相談窓口の皆さま",
        "",
        f"至急の確認が必要な相談が記録されました（理由: {reason.label}）。",
        f"記録番号: #{record['id']}",
        f"開始: {started}（日本時間）",
        f"判断: {verdict}",
        f"場面: {situation}",
        f"部署: {record['employee_department'] or UNKNOWN}",
        "",
        f"内容は相談窓口の画面で確認してください: {link}",
        "（このメールには個人情報を含めていません）",
    ])
    return subject, body
