"""The desk's storage: users and sessions, follow-up, alerts and their outbox, customer keys,
retention, on the records database (bot/schema.py). Each method is its own transaction."""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.codes import AlertReason, DeliveryStatus, DeskAction, DeskRole
from bot.database import engine_for, upgrade_to_head
from bot.desk_rules import LOCAL_TIME, customer_key_hash, follow_up_state
from bot.rasa.transcripts import ConversationSpan, TrackerTranscripts, TranscriptCount
from bot.records import ConsultationStore, RecordNotFound, as_dict, record_row
from bot.schema import (
    ActionTaken,
    Alert,
    AlertDelivery,
    CaseAssignment,
    Consultation,
    ConversationReference,
    CustomerKey,
    CustomerLink,
    DeskOption,
    DeskSession,
    DeskUser,
    FollowUpNote,
    Message,
    TimerReminder,
)

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_PASSWORD_LENGTH = 12
MAX_NOTE_LENGTH = 4000
MAX_DELIVERY_ATTEMPTS = 8
CLAIM_TIMEOUT = timedelta(minutes=2)
RETENTION_OPTION = "retention_days"


class DeskError(ValueError):
    """A request the desk refuses; the message is Japanese, for the person at the screen."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: DeskRole
    department: str | None

    def can(self, *roles: DeskRole) -> bool:
        return self.role in roles


@dataclass(frozen=True)
class SignIn:
    outcome: str  # ok, wrong, locked, inactive
    user: User | None = None
    token: str = ""


@dataclass(frozen=True)
class RecordFilter:
    since: date | None = None  # local dates, both inclusive
    until: date | None = None
    verdict: str | None = None
    type: str | None = None
    behavior: str | None = None
    channel: str | None = None
    status: str | None = None
    department: str | None = None
    follow_up: str | None = None
    q: str = ""

    def describe(self) -> str:
        """For the audit log: the filters, and the search as its length only (it may be personal data)."""
        parts = [f"{name}={value}" for name, value in vars(self).items() if value not in (None, "") and name != "q"]
        if self.q:
            parts.append(f"q=({len(self.q)}文字)")
        return " ".join(parts) or "all"


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted (with dry_run: would delete)."""

    days: int
    records: int
    transcripts: TranscriptCount
    references: int = 0  # the channels' conversation references (Teams, Slack)
    dry_run: bool = False

    def audit_detail(self) -> str:
        """For the audit log (`records.purge`): counts only."""
        t = self.transcripts
        return (f"days={self.days} deleted={self.records} conversations={t.conversations} "
                f"unrecorded={len(t.unrecorded)} events={t.events} snapshots={t.snapshots} "
                f"references={self.references}")

    def summary_ja(self) -> str:
        t = self.transcripts
        others = f"記録のない会話は {len(t.unrecorded)} 件、チャネルの通知先は {self.references} 件"
        if self.dry_run:
            return (f"{self.days}日より前の記録は {self.records} 件、その会話履歴（Rasa の tracker store）は "
                    f"{t.conversations} 件、{others}です（削除していません）。")
        return (f"{self.days}日より前の記録を {self.records} 件、その会話履歴（Rasa の tracker store）を "
                f"{t.conversations} 件（イベント {t.events} 行・控え {t.snapshots} 行）削除しました。"
                f"{others}削除しました。")


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TIME).astimezone(timezone.utc)


def _user(row: DeskUser) -> User:
    return User(row.id, row.username, row.display_name, DeskRole(row.role), row.department)


class DeskStore:
    def __init__(self, url: str, clock: Callable[[], datetime] = _now, hasher: PasswordHasher | None = None) -> None:
        self._engine = engine_for(url)
        upgrade_to_head(self._engine)
        self.records = ConsultationStore(url)
        self.clock = clock
        self._hasher = hasher or PasswordHasher()  # argon2id, the library's recommended parameters
        # Verified against when the user does not exist, so both answers take as long.
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    def dispose(self) -> None:
        self._engine.dispose()
        self.records.dispose()

    def _session(self) -> Session:
        return Session(self._engine, future=True)

    def audit(self, actor: str, action: str, record_id: int | None = None, detail: str = "") -> None:
        self.records.audit(actor, action, record_id=record_id, detail=detail)

    # --- users ---------------------------------------------------------------------------------
    def create_user(self, username: str, display_name: str, password: str, role: str,
                    department: str | None = None) -> int:
        if not USERNAME.match(username or ""):
            raise DeskError("ユーザー名は半角英数字と . _ - で64文字までです")
        if not (display_name or "").strip():
            raise DeskError("表示名を入力してください")
        try:
            desk_role = DeskRole.parse(role)
        except ValueError:
            raise DeskError("役割が正しくありません") from None
        department = (department or "").strip() or None
        if desk_role is DeskRole.SUPERVISOR and department is None:
            raise DeskError("所属長には部署を指定してください")
        self._check_password(password)
        row = DeskUser(username=username, display_name=display_name.strip(), password_hash=self._hasher.hash(password),
                       role=desk_role.value, department=department, active=True, failed_logins=0,
                       created_at=self.clock())
        try:
            with self._session() as s, s.begin():
                s.add(row)
                s.flush()
                return row.id
        except IntegrityError:
            raise DeskError(f"ユーザー名 {username} はすでに使われています") from None

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise DeskError(f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください")

    def users(self) -> list[dict]:
        with self._session() as s:
            rows = s.execute(select(DeskUser).order_by(DeskUser.username)).scalars()
            return [{"id": r.id, "username": r.username, "display_name": r.display_name, "role": DeskRole(r.role),
                     "department": r.department, "active": r.active, "failed_logins": r.failed_logins,
                     "locked": r.locked_until is not None and r.locked_until > self.clock()} for r in rows]

    def user_names(self) -> list[str]:
        with self._session() as s:
            return list(s.execute(select(DeskUser.username).where(DeskUser.active.is_(True))
                                  .where(DeskUser.role.in_([DeskRole.DESK.value, DeskRole.ADMIN.value]))
                                  .order_by(DeskUser.username)).scalars())

    def _user_row(self, s: Session, user_id: int) -> DeskUser:
        row = s.get(DeskUser, user_id)
        if row is None:
            raise DeskError("そのユーザーはいません")
        return row

    def set_active(self, user_id: int, active: bool) -> str:
        with self._session() as s, s.begin():
            row = self._user_row(s, user_id)
            row.active = active
            if not active:
                s.execute(delete(DeskSession).where(DeskSession.user_id == user_id))
            return row.username

    def reset_password(self, user_id: int, password: str) -> str:
        self._check_password(password)
        with self._session() as s, s.begin():
            row = self._user_row(s, user_id)
            row.password_hash = self._hasher.hash(password)
            row.failed_logins, row.locked_until = 0, None
            s.execute(delete(DeskSession).where(DeskSession.user_id == user_id))
            return row.username

    def unlock(self, user_id: int) -> str:
        with self._session() as s, s.begin():
            row = self._user_row(s, user_id)
            row.failed_logins, row.locked_until = 0, None
            return row.username

    # --- sign-in and sessions --------------------------------------------------------------------
    def sign_in(self, username: str, password: str, max_failures: int, lockout: timedelta,
                session_length: timedelta) -> SignIn:
        """Check the password; too many failures in a row lock the account for `lockout`."""
        now = self.clock()
        with self._session() as s, s.begin():
            row = s.execute(select(DeskUser).where(DeskUser.username == username)).scalar()
            if row is None:
                try:
                    self._hasher.verify(self._dummy_hash, password)
                except VerificationError:
                    pass
                return SignIn("wrong")
            if row.locked_until is not None and row.locked_until > now:
                return SignIn("locked")
            try:
                self._hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                row.failed_logins += 1
                if row.failed_logins >= max_failures:
                    row.locked_until, row.failed_logins = now + lockout, 0
                    return SignIn("locked")
                return SignIn("wrong")
            if not row.active:
                return SignIn("inactive")
            row.failed_logins, row.locked_until = 0, None
            if self._hasher.check_needs_rehash(row.password_hash):
                row.password_hash = self._hasher.hash(password)
            s.execute(delete(DeskSession).where(DeskSession.expires_at <= now))
            token = secrets.token_urlsafe(32)
            s.add(DeskSession(token_hash=_token_hash(token), user_id=row.id, csrf_token=secrets.token_urlsafe(32),
                              created_at=now, expires_at=now + session_length))
            return SignIn("ok", _user(row), token)

    def session(self, token: str) -> tuple[User, str] | None:
        """The signed-in user and the session's CSRF token, or None (unknown, expired, deactivated)."""
        if not token:
            return None
        with self._session() as s, s.begin():
            found = s.execute(
                select(DeskSession, DeskUser).join(DeskUser, DeskUser.id == DeskSession.user_id)
                .where(DeskSession.token_hash == _token_hash(token))
            ).first()
            if found is None:
                return None
            session, user = found
            if session.expires_at <= self.clock() or not user.active:
                s.delete(session)
                return None
            return _user(user), session.csrf_token

    def sign_out(self, token: str) -> None:
        with self._session() as s, s.begin():
            s.execute(delete(DeskSession).where(DeskSession.token_hash == _token_hash(token)))

    # --- records -------------------------------------------------------------------------------
    def _visible(self, query, user: User):
        if user.role is DeskRole.SUPERVISOR:
            return query.where(Consultation.employee_department == user.department)
        return query

    def may_see(self, user: User, record: dict) -> bool:
        if user.role is DeskRole.TRAINER:
            return False
        return user.role is not DeskRole.SUPERVISOR or record["employee_department"] == user.department

    def list_records(self, user: User, filters: RecordFilter) -> list[dict]:
        """Records the user may see that match, newest first, each with its desk state."""
        query = select(Consultation).options(selectinload(Consultation.messages))
        query = self._visible(query, user).order_by(Consultation.started_at.desc(), Consultation.id.desc())
        if filters.since:
            query = query.where(Consultation.started_at >= _local_start(filters.since))
        if filters.until:
            query = query.where(Consultation.started_at < _local_start(filters.until + timedelta(days=1)))
        for column, value in ((Consultation.verdict, filters.verdict), (Consultation.situation_channel, filters.channel),
                              (Consultation.status, filters.status),
                              (Consultation.employee_department, filters.department)):
            if value:
                query = query.where(column == value)
        if filters.q:
            query = query.where(or_(Consultation.demand.contains(filters.q, autoescape=True),
                                    Consultation.messages.any(Message.text.contains(filters.q, autoescape=True))))
        with self._session() as s:
            records = [as_dict(row) for row in s.execute(query).scalars()]
            records = [r for r in records if (not filters.type or filters.type in r["types"])
                       and (not filters.behavior or filters.behavior in r["behaviors"])]
            self._add_desk_state(s, records)
        if filters.follow_up:
            records = [r for r in records if r["follow_up"].value == filters.follow_up]
        return records

    def _add_desk_state(self, s: Session, records: list[dict]) -> None:
        ids = [r["id"] for r in records]
        assignments = {a.consultation_id: a for a in s.execute(
            select(CaseAssignment).where(CaseAssignment.consultation_id.in_(ids))).scalars()}
        alerts = {a.consultation_id: a for a in s.execute(select(Alert).where(Alert.consultation_id.in_(ids))).scalars()}
        links = dict(s.execute(select(CustomerLink.consultation_id, CustomerLink.customer_key_id)
                               .where(CustomerLink.consultation_id.in_(ids))).all())
        today = self.clock().astimezone(LOCAL_TIME).date()
        for record in records:
            assignment = assignments.get(record["id"])
            alert = alerts.get(record["id"])
            record["assignee"] = assignment.assignee if assignment else None
            record["due_on"] = assignment.due_on if assignment else None
            record["follow_up"] = follow_up_state(record["status"], record["assignee"], record["due_on"], today)
            record["alert"] = AlertReason(alert.reason) if alert else None
            record["alert_unread"] = alert is not None and alert.read_at is None
            record["customer_key_id"] = links.get(record["id"])

    def record(self, record_id: int) -> dict:
        """One record with its desk state, follow-up notes and actions taken; RecordNotFound."""
        with self._session() as s:
            row = s.get(Consultation, record_id)
            if row is None:
                raise RecordNotFound(f"consultation record {record_id} not found")
            record = as_dict(row)
            self._add_desk_state(s, [record])
            record["notes_desk"] = [{"author": n.author, "at": n.at, "text": n.text} for n in s.execute(
                select(FollowUpNote).where(FollowUpNote.consultation_id == record_id)
                .order_by(FollowUpNote.at, FollowUpNote.id)).scalars()]
            record["actions"] = {DeskAction(a.action): {"by": a.by, "at": a.at} for a in s.execute(
                select(ActionTaken).where(ActionTaken.consultation_id == record_id)).scalars()}
            if record["customer_key_id"] is not None:
                record["customer_records"] = list(s.execute(
                    select(CustomerLink.consultation_id).where(CustomerLink.customer_key_id == record["customer_key_id"])
                    .order_by(CustomerLink.consultation_id)).scalars())
            return record

    def add_note(self, record_id: int, author: str, text: str) -> None:
        text = (text or "").strip()
        if not text:
            raise DeskError("メモを入力してください")
        if len(text) > MAX_NOTE_LENGTH:
            raise DeskError(f"メモは{MAX_NOTE_LENGTH}文字までです")
        with self._session() as s, s.begin():
            record_row(s, record_id)
            s.add(FollowUpNote(consultation_id=record_id, author=author, at=self.clock(), text=text))

    def assign(self, record_id: int, assignee: str | None, due_on: date | None, by: str) -> None:
        if assignee and assignee not in self.user_names():
            raise DeskError("担当者は相談窓口のユーザーから選んでください")
        with self._session() as s, s.begin():
            record_row(s, record_id)
            row = s.get(CaseAssignment, record_id) or CaseAssignment(consultation_id=record_id)
            row.assignee, row.due_on, row.updated_by, row.updated_at = assignee or None, due_on, by, self.clock()
            s.add(row)

    def set_actions(self, record_id: int, actions: set[DeskAction], by: str) -> tuple[list[str], list[str]]:
        """Mark exactly `actions` as taken; returns (added, removed) codes."""
        with self._session() as s, s.begin():
            record_row(s, record_id)
            current = {DeskAction(a) for a in s.execute(
                select(ActionTaken.action).where(ActionTaken.consultation_id == record_id)).scalars()}
            added, removed = actions - current, current - actions
            for action in added:
                s.add(ActionTaken(consultation_id=record_id, action=action.value, by=by, at=self.clock()))
            if removed:
                s.execute(delete(ActionTaken).where(ActionTaken.consultation_id == record_id)
                          .where(ActionTaken.action.in_([a.value for a in removed])))
            return sorted(a.value for a in added), sorted(a.value for a in removed)

    def close(self, record_id: int) -> None:
        self.records.close(record_id, closed_at=self.clock())

    # --- repeat customers ------------------------------------------------------------------------
    def link_customer(self, record_id: int, key: str, secret: bytes, by: str) -> int:
        """Link the record to the customer of `key` (stored as its HMAC only); returns the key's id."""
        try:
            key_hash = customer_key_hash(secret, key)
        except ValueError:
            raise DeskError("顧客キーを入力してください") from None
        for _ in range(2):  # a concurrent first use of the same key: look it up again
            try:
                with self._session() as s, s.begin():
                    record_row(s, record_id)
                    key_id = s.execute(select(CustomerKey.id).where(CustomerKey.key_hash == key_hash)).scalar()
                    if key_id is None:
                        row = CustomerKey(key_hash=key_hash, created_at=self.clock())
                        s.add(row)
                        s.flush()
                        key_id = row.id
                    link = s.get(CustomerLink, record_id) or CustomerLink(consultation_id=record_id)
                    link.customer_key_id, link.linked_by, link.linked_at = key_id, by, self.clock()
                    s.add(link)
                    return key_id
            except IntegrityError:
                continue
        raise DeskError("顧客キーを保存できませんでした。もう一度お試しください")

    def customer_key_id(self, key: str, secret: bytes) -> int | None:
        try:
            key_hash = customer_key_hash(secret, key)
        except ValueError:
            raise DeskError("顧客キーを入力してください") from None
        with self._session() as s:
            return s.execute(select(CustomerKey.id).where(CustomerKey.key_hash == key_hash)).scalar()

    def customer_history(self, user: User, key_id: int) -> list[dict]:
        with self._session() as s:
            ids = list(s.execute(select(CustomerLink.consultation_id)
                                 .where(CustomerLink.customer_key_id == key_id)).scalars())
            query = self._visible(select(Consultation).options(selectinload(Consultation.messages))
                                  .where(Consultation.id.in_(ids)), user).order_by(Consultation.started_at)
            records = [as_dict(row) for row in s.execute(query).scalars()]
            self._add_desk_state(s, records)
            return records

    def repeat_record_ids(self) -> set[int]:
        """Records whose customer has more than one record."""
        with self._session() as s:
            repeated = (select(CustomerLink.customer_key_id).group_by(CustomerLink.customer_key_id)
                        .having(func.count() > 1))
            return set(s.execute(select(CustomerLink.consultation_id)
                                 .where(CustomerLink.customer_key_id.in_(repeated))).scalars())

    # --- alerts and their outbox -----------------------------------------------------------------
    def alerts(self, user: User, unread_only: bool = False) -> list[dict]:
        query = (select(Alert, Consultation).join(Consultation, Consultation.id == Alert.consultation_id)
                 .order_by(Alert.created_at.desc(), Alert.id.desc()))
        query = self._visible(query, user)
        if unread_only:
            query = query.where(Alert.read_at.is_(None))
        with self._session() as s:
            rows = s.execute(query).all()
            deliveries: dict[int, list[dict]] = {}
            for d in s.execute(select(AlertDelivery).where(AlertDelivery.alert_id.in_([a.id for a, _ in rows]))
                               .order_by(AlertDelivery.id)).scalars():
                deliveries.setdefault(d.alert_id, []).append(
                    {"id": d.id, "recipient": d.recipient, "status": DeliveryStatus(d.status), "attempts": d.attempts,
                     "sent_at": d.sent_at, "last_error": d.last_error, "next_attempt_at": d.next_attempt_at})
            return [{"id": a.id, "record_id": a.consultation_id, "reason": AlertReason(a.reason),
                     "created_at": a.created_at, "read_at": a.read_at, "read_by": a.read_by,
                     "verdict": c.verdict, "department": c.employee_department,
                     "deliveries": deliveries.get(a.id, [])} for a, c in rows]

    def unread_alert_count(self, user: User) -> int:
        query = select(func.count()).select_from(Alert).join(Consultation, Consultation.id == Alert.consultation_id)
        with self._session() as s:
            return s.execute(self._visible(query.where(Alert.read_at.is_(None)), user)).scalar()

    def mark_alert_read(self, record_id: int, by: str) -> bool:
        with self._session() as s, s.begin():
            return s.execute(update(Alert).where(Alert.consultation_id == record_id).where(Alert.read_at.is_(None))
                             .values(read_at=self.clock(), read_by=by)).rowcount == 1

    def queue_deliveries(self, recipients: tuple[str, ...]) -> int:
        """One outbox row per alert and recipient that has none yet; returns how many were added."""
        added = 0
        with self._session() as s:
            pairs = s.execute(
                select(Alert.id, AlertDelivery.recipient).outerjoin(AlertDelivery, AlertDelivery.alert_id == Alert.id)
            ).all()
        have: dict[int, set[str]] = {}
        for alert_id, recipient in pairs:
            have.setdefault(alert_id, set()).add(recipient)
        for alert_id, present in have.items():
            for recipient in recipients:
                if recipient in present:
                    continue
                try:
                    with self._engine.begin() as connection:
                        connection.execute(insert(AlertDelivery.__table__).values(
                            alert_id=alert_id, recipient=recipient, status=DeliveryStatus.PENDING.value, attempts=0,
                            next_attempt_at=self.clock(), last_error=""))
                    added += 1
                except IntegrityError:
                    pass  # another desk process queued it first
        return added

    def claim_deliveries(self, worker: str) -> list[dict]:
        """Deliveries due now, each claimed by `worker` (a claim is exclusive; a stale one is taken over)."""
        now = self.clock()
        due = or_(
            AlertDelivery.status == DeliveryStatus.PENDING.value,
            (AlertDelivery.status == DeliveryStatus.FAILED.value) & (AlertDelivery.next_attempt_at <= now),
            (AlertDelivery.status == DeliveryStatus.CLAIMED.value) & (AlertDelivery.claimed_at <= now - CLAIM_TIMEOUT),
        )
        with self._session() as s:
            candidates = list(s.execute(select(AlertDelivery.id).where(due).order_by(AlertDelivery.id)).scalars())
        claimed = []
        for delivery_id in candidates:
            with self._engine.begin() as connection:
                won = connection.execute(update(AlertDelivery.__table__).where(AlertDelivery.id == delivery_id)
                                         .where(due).values(status=DeliveryStatus.CLAIMED.value, claimed_by=worker,
                                                            claimed_at=now)).rowcount == 1
            if won:
                with self._session() as s:
                    d = s.get(AlertDelivery, delivery_id)
                    alert = s.get(Alert, d.alert_id)
                    claimed.append({"id": d.id, "recipient": d.recipient, "attempts": d.attempts,
                                    "reason": AlertReason(alert.reason), "record": as_dict(s.get(Consultation, alert.consultation_id))})
        return claimed

    def finish_delivery(self, delivery_id: int, worker: str, error: str | None) -> DeliveryStatus:
        """Record the outcome of a claimed delivery: sent, or failed (retried later with back-off)."""
        now = self.clock()
        with self._session() as s, s.begin():
            d = s.get(AlertDelivery, delivery_id)
            if d is None or d.claimed_by != worker:
                return DeliveryStatus.CLAIMED
            d.attempts += 1
            if error is None:
                d.status, d.sent_at, d.last_error = DeliveryStatus.SENT.value, now, ""
            else:
                d.last_error = error[:500]
                d.status = (DeliveryStatus.GAVE_UP if d.attempts >= MAX_DELIVERY_ATTEMPTS else DeliveryStatus.FAILED).value
                d.next_attempt_at = now + timedelta(minutes=min(60, 2 ** (d.attempts - 1)))
            return DeliveryStatus(d.status)

    def retry_delivery(self, delivery_id: int) -> bool:
        """Send a failed delivery again now (the desk's 再送 button)."""
        with self._session() as s, s.begin():
            return s.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id)
                             .where(AlertDelivery.status.in_([DeliveryStatus.FAILED.value, DeliveryStatus.GAVE_UP.value]))
                             .values(status=DeliveryStatus.PENDING.value, attempts=0,
                                     next_attempt_at=self.clock())).rowcount == 1

    # --- retention -------------------------------------------------------------------------------
    def retention_days(self, default: int) -> int:
        with self._session() as s:
            row = s.get(DeskOption, RETENTION_OPTION)
            return int(row.value) if row else default

    def set_retention_days(self, days: int, by: str) -> None:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 36500:
            raise DeskError("保存期間は1〜36500日の整数で指定してください")
        with self._session() as s, s.begin():
            row = s.get(DeskOption, RETENTION_OPTION) or DeskOption(name=RETENTION_OPTION)
            row.value, row.updated_by, row.updated_at = str(days), by, self.clock()
            s.add(row)

    def purge(self, days: int, transcripts: TrackerTranscripts, dry_run: bool = False) -> PurgeResult:
        """Delete records started more than `days` ago, with everything attached, their
        conversations in the tracker store (`transcripts`, bot/rasa/transcripts.py), the tracker
        store's conversations without any record and no event since the cut-off, and the channels'
        conversation references of all of these or not refreshed since the cut-off; with dry_run,
        count what would go and delete nothing.

        The conversations go first, in one transaction of the tracker store's database: when it
        cannot be used, TranscriptStoreUnavailable is raised and nothing at all is deleted. The
        references and records go next; if that fails (the records database went away in between),
        the records are still there with their conversations gone, and the next purge deletes them."""
        cutoff = self.clock() - timedelta(days=days)
        with self._session() as s:
            purged = s.execute(select(Consultation.id, Consultation.conversation_id, Consultation.started_at)
                               .where(Consultation.started_at < cutoff)).all()
            ids = [row.id for row in purged]
            until: dict[str, datetime] = {}  # conversation -> the purged records' last message
            for row in purged:
                until[row.conversation_id] = max(until.get(row.conversation_id, row.started_at), row.started_at)
            if ids:
                last_messages = s.execute(
                    select(Consultation.conversation_id, func.max(Message.sent_at))
                    .join(Message, Message.consultation_id == Consultation.id)
                    .where(Consultation.id.in_(ids)).group_by(Consultation.conversation_id))
                for conversation, sent_at in last_messages:
                    if sent_at is not None:
                        until[conversation] = max(until[conversation], sent_at)
                kept = dict(s.execute(
                    select(Consultation.conversation_id, func.min(Consultation.started_at))
                    .where(Consultation.conversation_id.in_(list(until)), Consultation.started_at >= cutoff)
                    .group_by(Consultation.conversation_id)).all())
            else:
                kept = {}
            recorded = set(s.execute(select(Consultation.conversation_id).distinct()).scalars())
        spans = {conversation: ConversationSpan(max(last, cutoff), kept.get(conversation))
                 for conversation, last in until.items()}
        transcripts_gone = transcripts.purge(spans, cutoff, recorded, dry_run=dry_run)
        # conversations none of whose records stay; a reference not refreshed since the cut-off has had
        # no message within the retention period
        gone = [*transcripts_gone.unrecorded, *(c for c in until if c not in kept)]
        references = or_(ConversationReference.updated_at < cutoff, ConversationReference.sender_id.in_(gone))
        with self._session() as s, s.begin():
            reference_count = s.execute(select(func.count()).select_from(ConversationReference)
                                        .where(references)).scalar_one()
            if not dry_run:
                s.execute(delete(ConversationReference).where(references).execution_options(synchronize_session=False))
        result = PurgeResult(days, len(ids), transcripts_gone, reference_count, dry_run)
        if not ids or dry_run:
            return result
        with self._session() as s, s.begin():
            alert_ids = select(Alert.id).where(Alert.consultation_id.in_(ids))
            statements = [delete(AlertDelivery).where(AlertDelivery.alert_id.in_(alert_ids))]
            statements += [delete(model).where(model.consultation_id.in_(ids)) for model in (
                Alert, FollowUpNote, CaseAssignment, ActionTaken, CustomerLink, Message, TimerReminder)]
            statements += [delete(Consultation).where(Consultation.id.in_(ids)),
                           delete(CustomerKey).where(~CustomerKey.id.in_(select(CustomerLink.customer_key_id)))]
            for statement in statements:
                s.execute(statement.execution_options(synchronize_session=False))
        return result

    # --- the audit log ---------------------------------------------------------------------------
    def audit_entries(self, limit: int = 200) -> list[dict[str, Any]]:
        return self.records.audit_entries(limit=limit)

