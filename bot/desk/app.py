"""The consultation desk's web app (Flask, server-rendered Jinja2 pages in Japanese).

Every page needs a signed-in user (server-side session, cookie HttpOnly + SameSite=Strict); every
form carries the session's CSRF token; every view, reveal and export is written to the audit log,
and so is every refusal (wrong password, bad CSRF token, a role or department not allowed).
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any

from flask import Flask, Response, abort, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from bot import codes
from bot.codes import AlertReason, DeliveryStatus, DeskAction, DeskRole, FollowUpState, RecordStatus
from bot.desk.charts import bar_chart_png
from bot.desk.store import DeskError, DeskStore, RecordFilter
from bot.desk_rules import LOCAL_TIME, local_time, trend_counts
from bot.exports import masked, render_csv, render_json
from bot.privacy import mask_personal_data
from bot.rasa.transcripts import TrackerTranscripts, TranscriptStoreUnavailable
from bot.records import RECORD_FIELDS, RecordNotFound
from bot.settings import Settings, customer_key_secret
from bot.training_records import TrainingStore

SESSION_COOKIE = "desk_session"
LOGIN_CSRF_COOKIE = "desk_login_csrf"
LIST_LIMIT = 200
EXAMPLES_IN_REPORT = 5
DESK_STAFF = (DeskRole.DESK, DeskRole.ADMIN)
RECORD_READERS = (DeskRole.DESK, DeskRole.ADMIN, DeskRole.SUPERVISOR)
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
FILTER_CODES: dict[str, type[codes.Coded]] = {
    "verdict": codes.Verdict, "type": codes.HarassmentType, "behavior": codes.Behavior,
    "channel": codes.SituationChannel, "status": RecordStatus, "follow_up": FollowUpState,
}


def _date(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DeskError(f"{name}の日付が正しくありません（例: 2026-04-01）") from None


def parse_filter(args: Any) -> RecordFilter:
    """The list's filters from the query string; DeskError names a bad one."""
    values: dict[str, Any] = {}
    for name, code in FILTER_CODES.items():
        value = args.get(name, "")
        if value:
            try:
                values[name] = code.parse(value).value
            except ValueError:
                raise DeskError("検索条件が正しくありません") from None
    since, until = _date(args.get("since", ""), "開始日"), _date(args.get("until", ""), "終了日")
    if since and until and since > until:
        raise DeskError("期間の開始日が終了日より後になっています")
    return RecordFilter(since=since, until=until, department=args.get("department", "").strip() or None,
                        q=args.get("q", "").strip()[:200], **values)


def _local(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return local_time(value).strftime(pattern)


def create_app(settings: Settings, store: DeskStore, training: TrainingStore | None = None) -> Flask:
    app = Flask(__name__)
    training = training or TrainingStore(settings.database_url)
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    lockout = timedelta(minutes=settings.lockout_minutes)
    session_length = timedelta(hours=settings.session_hours)

    app.jinja_env.filters["local"] = _local
    app.jinja_env.filters["mask"] = mask_personal_data
    app.jinja_env.globals.update(codes=codes, DeskRole=DeskRole, DeskAction=DeskAction, FollowUpState=FollowUpState,
                                 AlertReason=AlertReason, DeliveryStatus=DeliveryStatus, RecordStatus=RecordStatus)

    def actor() -> str:
        user = g.get("user")
        return user.username if user else "anonymous"

    def refuse(status: int, action: str, detail: str, record_id: int | None = None) -> Response:
        store.audit(actor(), action, record_id=record_id, detail=f"{request.method} {request.path} {detail}".strip())
        messages = {400: "この操作は受け付けられません。画面を読み込み直して、もう一度お試しください。",
                    403: "この画面を見る権限がありません。", 404: "見つかりません。"}
        return Response(render_template("error.html", status=status, message=messages.get(status, "エラーです。")),
                        status=status)

    def requires(*roles: DeskRole) -> Callable:
        def decorate(view: Callable) -> Callable:
            @wraps(view)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                if g.user is None:
                    return redirect(url_for("login", next=request.path))
                if g.user.role not in roles:
                    return refuse(403, "access.refused", f"role={g.user.role.value}")
                return view(*args, **kwargs)
            return guarded
        return decorate

    def visible_record(record_id: int) -> dict:
        try:
            record = store.record(record_id)
        except RecordNotFound:
            abort(404)
        if not store.may_see(g.user, record):
            abort(refuse(403, "access.refused", "department", record_id=record_id))
        return record

    @app.before_request
    def load_user() -> Response | None:
        found = store.session(request.cookies.get(SESSION_COOKIE, ""))
        g.user, g.csrf_token = found if found else (None, "")
        if request.method != "POST":
            return None
        if request.endpoint == "login":
            expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        else:
            if g.user is None:
                return redirect(url_for("login"))
            expected = g.csrf_token
        sent = request.form.get("csrf_token", "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return refuse(400, "csrf.refused", "missing" if not sent else "mismatch")
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def page_context() -> dict:
        user = g.get("user")
        unread = store.unread_alert_count(user) if user and user.role in RECORD_READERS else 0
        return {"user": user, "csrf_token": g.get("csrf_token", ""), "unread_alerts": unread}

    @app.errorhandler(DeskError)
    def desk_error(error: DeskError) -> Response:
        return Response(render_template("error.html", status=400, message=str(error)), status=400)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.response is not None:
            return error.response
        message = {404: "見つかりません。", 405: "この操作はできません。", 413: "入力が長すぎます。"}.get(
            error.code or 500, "リクエストを処理できませんでした。")
        return Response(render_template("error.html", status=error.code, message=message), status=error.code)

    # --- sign-in -------------------------------------------------------------------------------
    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response:
        error = ""
        if request.method == "POST":
            username = request.form.get("username", "").strip()
            result = store.sign_in(username, request.form.get("password", ""), settings.max_failed_logins, lockout,
                                   session_length)
            if result.outcome == "ok":
                store.audit(username, "login")
                target = request.args.get("next", "")
                local = target.startswith("/") and not target.startswith("//") and "\\" not in target
                response = redirect(target if local else "/")
                response.set_cookie(SESSION_COOKIE, result.token, max_age=int(session_length.total_seconds()),
                                    httponly=True, samesite="Strict", secure=settings.cookie_secure)
                response.delete_cookie(LOGIN_CSRF_COOKIE)
                return response
            store.audit(username or "(空)", f"login.{result.outcome}", detail=request.remote_addr or "")
            error = {"locked": f"ログインに続けて失敗したため、{settings.lockout_minutes}分間ログインできません。"
                               "お急ぎの場合は管理者に解除を依頼してください。",
                     "inactive": "このアカウントは停止されています。管理者にお問い合わせください。"}.get(
                result.outcome, "ユーザー名またはパスワードが違います。")
        token = secrets.token_urlsafe(32)
        response = Response(render_template("login.html", login_csrf=token, error=error,
                                            max_failures=settings.max_failed_logins),
                            status=401 if error else 200)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=settings.cookie_secure)
        return response

    @app.post("/logout")
    def logout() -> Response:
        store.sign_out(request.cookies.get(SESSION_COOKIE, ""))
        store.audit(actor(), "logout")
        response = redirect(url_for("login"))
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/")
    def home() -> Response:
        if g.user is None:
            return redirect(url_for("login"))
        return redirect(url_for("trends" if g.user.role is DeskRole.TRAINER else "records"))

    # --- records -------------------------------------------------------------------------------
    @app.get("/records")
    @requires(*RECORD_READERS)
    def records() -> str:
        filters = parse_filter(request.args)
        found = store.list_records(g.user, filters)
        store.audit(actor(), "records.list", detail=f"{filters.describe()} count={len(found)}")
        return render_template("records.html", records=found[:LIST_LIMIT], total=len(found), filters=filters,
                               limit=LIST_LIMIT, query=request.query_string.decode())

    @app.get("/records/export.<fmt>")
    @requires(*RECORD_READERS)
    def export(fmt: str) -> Response:
        if fmt not in ("csv", "json"):
            abort(404)
        filters = parse_filter(request.args)
        reveal = request.args.get("reveal") == "1"
        found = store.list_records(g.user, filters)
        rows = found if reveal else [masked(r) for r in found]
        store.audit(actor(), "records.export", detail=f"format={fmt} masked={'no' if reveal else 'yes'} "
                                                      f"{filters.describe()} count={len(found)}")
        stamp = store.clock().astimezone(LOCAL_TIME).strftime("%Y%m%d-%H%M")
        if fmt == "csv":
            body, mimetype = render_csv(rows, RECORD_FIELDS), "text/csv; charset=utf-8"
        else:
            body, mimetype = render_json(rows, RECORD_FIELDS), "application/json; charset=utf-8"
        return Response(body, mimetype=mimetype,
                        headers={"Content-Disposition": f'attachment; filename="consultations-{stamp}.{fmt}"'})

    def show_record(record_id: int, reveal: bool) -> str:
        record = visible_record(record_id)
        store.audit(actor(), "record.reveal" if reveal else "record.view", record_id=record_id)
        if g.user.role in DESK_STAFF:
            store.mark_alert_read(record_id, actor())
            record["alert_unread"] = False
        shown = record if reveal else masked(record)
        notes = [{**n, "text": n["text"] if reveal else mask_personal_data(n["text"])} for n in record["notes_desk"]]
        return render_template("record.html", record=shown, notes=notes, revealed=reveal,
                               assignees=store.user_names(), today=store.clock().astimezone(LOCAL_TIME).date())

    @app.get("/records/<int:record_id>")
    @requires(*RECORD_READERS)
    def record(record_id: int) -> str:
        return show_record(record_id, reveal=False)

    @app.post("/records/<int:record_id>/reveal")
    @requires(*RECORD_READERS)
    def reveal(record_id: int) -> str:
        return show_record(record_id, reveal=True)

    def back(record_id: int) -> Response:
        return redirect(url_for("record", record_id=record_id))

    @app.post("/records/<int:record_id>/notes")
    @requires(*DESK_STAFF)
    def add_note(record_id: int) -> Response:
        visible_record(record_id)
        store.add_note(record_id, actor(), request.form.get("text", ""))
        store.audit(actor(), "record.note", record_id=record_id)
        return back(record_id)

    @app.post("/records/<int:record_id>/assign")
    @requires(*DESK_STAFF)
    def assign(record_id: int) -> Response:
        visible_record(record_id)
        assignee = request.form.get("assignee", "").strip() or None
        due_on = _date(request.form.get("due_on", ""), "期限")
        store.assign(record_id, assignee, due_on, actor())
        store.audit(actor(), "record.assign", record_id=record_id, detail=f"assignee={assignee or '-'} due={due_on or '-'}")
        return back(record_id)

    @app.post("/records/<int:record_id>/actions")
    @requires(*DESK_STAFF)
    def actions(record_id: int) -> Response:
        visible_record(record_id)
        try:
            chosen = {DeskAction.parse(value) for value in request.form.getlist("action")}
        except ValueError:
            raise DeskError("対応の種類が正しくありません") from None
        added, removed = store.set_actions(record_id, chosen, actor())
        store.audit(actor(), "record.actions", record_id=record_id,
                    detail=f"added={','.join(added) or '-'} removed={','.join(removed) or '-'}")
        return back(record_id)

    @app.post("/records/<int:record_id>/close")
    @requires(*DESK_STAFF)
    def close(record_id: int) -> Response:
        visible_record(record_id)
        store.close(record_id)
        store.audit(actor(), "record.close", record_id=record_id)
        return back(record_id)

    @app.post("/records/<int:record_id>/customer")
    @requires(*DESK_STAFF)
    def link_customer(record_id: int) -> Response:
        visible_record(record_id)
        key_id = store.link_customer(record_id, request.form.get("customer_key", ""), customer_key_secret(settings),
                                     actor())
        store.audit(actor(), "record.customer_link", record_id=record_id, detail=f"customer={key_id}")
        return back(record_id)

    # --- repeat customers ------------------------------------------------------------------------
    @app.post("/customers/search")
    @requires(*DESK_STAFF)
    def customer_search() -> Response:
        key_id = store.customer_key_id(request.form.get("customer_key", ""), customer_key_secret(settings))
        store.audit(actor(), "customer.search", detail=f"found={key_id or '-'}")
        if key_id is None:
            return Response(render_template("customer.html", key_id=None, records=[]), status=404)
        return redirect(url_for("customer", key_id=key_id))

    @app.get("/customers/<int:key_id>")
    @requires(*DESK_STAFF)
    def customer(key_id: int) -> str:
        history = store.customer_history(g.user, key_id)
        if not history:
            abort(404)
        store.audit(actor(), "customer.history", detail=f"customer={key_id} count={len(history)}")
        return render_template("customer.html", key_id=key_id, records=history)

    # --- alerts --------------------------------------------------------------------------------
    @app.get("/alerts")
    @requires(*RECORD_READERS)
    def alerts() -> str:
        found = store.alerts(g.user)
        store.audit(actor(), "alerts.list", detail=f"count={len(found)}")
        return render_template("alerts.html", alerts=found, mail_enabled=settings.smtp is not None)

    @app.post("/alerts/deliveries/<int:delivery_id>/retry")
    @requires(*DESK_STAFF)
    def retry_delivery(delivery_id: int) -> Response:
        if not store.retry_delivery(delivery_id):
            raise DeskError("この送信は再送できる状態ではありません")
        store.audit(actor(), "alert.retry", detail=f"delivery={delivery_id}")
        return redirect(url_for("alerts"))

    # --- trends and the monthly report -----------------------------------------------------------
    def counts_for(filters: RecordFilter) -> list:
        return trend_counts(store.list_records(g.user, filters), store.repeat_record_ids())

    def trend_filter() -> RecordFilter:
        filters = parse_filter(request.args)
        if filters.since is None and filters.until is None:
            today = store.clock().astimezone(LOCAL_TIME).date()
            filters = RecordFilter(since=today.replace(day=1) - timedelta(days=365), until=today)
        return filters

    @app.get("/trends")
    @requires(*RECORD_READERS, DeskRole.TRAINER)
    def trends() -> str:
        filters = trend_filter()
        counts = counts_for(filters)
        store.audit(actor(), "trends.view", detail=filters.describe())
        return render_template("trends.html", counts=counts, filters=filters)

    @app.get("/training")
    @requires(DeskRole.TRAINER, DeskRole.ADMIN)
    def training_records() -> str:
        """The rehearsal mode's training records (score sheets, case studies, drills), newest first."""
        kind = request.args.get("kind") or None
        rows = training.list(limit=200, kind=kind if kind in ("roleplay", "case_study", "drill") else None)
        store.audit(actor(), "training.view", detail=f"kind={kind or 'all'} count={len(rows)}")
        return render_template("training.html", rows=rows, kind=kind)

    @app.get("/trends/<int:index>.png")
    @requires(*RECORD_READERS, DeskRole.TRAINER)
    def trend_chart(index: int) -> Response:
        counts = counts_for(trend_filter())
        if not 0 <= index < len(counts):
            abort(404)
        return Response(bar_chart_png(counts[index]), mimetype="image/png")

    def month_range(text: str) -> tuple[date, date]:
        try:
            first = datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise DeskError("月の指定が正しくありません（例: 2026-11）") from None
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first, following - timedelta(days=1)

    @app.get("/report")
    @requires(*RECORD_READERS)
    def report() -> str:
        today = store.clock().astimezone(LOCAL_TIME).date()
        month = request.args.get("month") or (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        first, last = month_range(month)
        filters = RecordFilter(since=first, until=last)
        found = store.list_records(g.user, filters)
        counts = trend_counts(found, store.repeat_record_ids())
        urgent = [r for r in found if r["verdict"] in ("criminal", "harassment")][:EXAMPLES_IN_REPORT]
        store.audit(actor(), "report.view", detail=f"month={month} count={len(found)}")
        return render_template("report.html", month=month, first=first, last=last, records=found,
                               counts=counts, examples=[masked(r) for r in urgent],
                               query=f"since={first}&until={last}")

    # --- admin ---------------------------------------------------------------------------------
    @app.get("/admin/users")
    @requires(DeskRole.ADMIN)
    def users() -> str:
        store.audit(actor(), "users.view")
        return render_template("users.html", users=store.users())

    @app.post("/admin/users")
    @requires(DeskRole.ADMIN)
    def create_user() -> Response:
        form = request.form
        user_id = store.create_user(form.get("username", "").strip(), form.get("display_name", ""),
                                    form.get("password", ""), form.get("role", ""), form.get("department"))
        store.audit(actor(), "user.create", detail=f"user={user_id} username={form.get('username')} role={form.get('role')}")
        return redirect(url_for("users"))

    @app.post("/admin/users/<int:user_id>/<change>")
    @requires(DeskRole.ADMIN)
    def change_user(user_id: int, change: str) -> Response:
        if change == "deactivate" and user_id == g.user.id:
            raise DeskError("自分自身は停止できません")
        changes: dict[str, Callable[[], str]] = {
            "activate": lambda: store.set_active(user_id, True),
            "deactivate": lambda: store.set_active(user_id, False),
            "unlock": lambda: store.unlock(user_id),
            "password": lambda: store.reset_password(user_id, request.form.get("password", "")),
        }
        if change not in changes:
            abort(404)
        username = changes[change]()
        store.audit(actor(), f"user.{change}", detail=f"user={user_id} username={username}")
        return redirect(url_for("users"))

    def retention_page(status: int = 200, error: str = "") -> Response:
        done = {name: request.args.get(name) for name in ("purged", "conversations")}
        page = render_template("retention.html", days=store.retention_days(settings.retention_days),
                               purged=done["purged"], conversations=done["conversations"], error=error)
        return Response(page, status=status)

    @app.get("/admin/retention")
    @requires(DeskRole.ADMIN)
    def retention() -> Response:
        store.audit(actor(), "retention.view")
        return retention_page()

    @app.post("/admin/retention")
    @requires(DeskRole.ADMIN)
    def set_retention() -> Response:
        try:
            days = int(request.form.get("days", ""))
        except ValueError:
            raise DeskError("保存期間は日数（整数）で指定してください") from None
        store.set_retention_days(days, actor())
        store.audit(actor(), "retention.set", detail=f"days={days}")
        return redirect(url_for("retention"))

    @app.post("/admin/purge")
    @requires(DeskRole.ADMIN)
    def purge() -> Response:
        """Records and their conversations in the tracker store (the endpoints file's tracker_store,
        Settings.endpoints_file); when the tracker store cannot be used, nothing is deleted (503)."""
        days = store.retention_days(settings.retention_days)
        try:
            result = store.purge(days, TrackerTranscripts.from_endpoints(settings.endpoints_file))
        except TranscriptStoreUnavailable as error:
            store.audit(actor(), "records.purge_failed", detail=f"days={days} reason=tracker_store_unavailable")
            return retention_page(503, f"削除できませんでした。記録も会話履歴も削除していません。{error}")
        store.audit(actor(), "records.purge", detail=result.audit_detail())
        return redirect(url_for("retention", purged=result.records, conversations=result.transcripts.conversations))

    @app.get("/admin/audit")
    @requires(DeskRole.ADMIN)
    def audit_log() -> str:
        entries = store.audit_entries(limit=300)
        store.audit(actor(), "audit.view")
        return render_template("audit.html", entries=entries)

    return app
