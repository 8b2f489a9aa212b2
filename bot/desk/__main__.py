"""The consultation desk's web app and its commands.

    python -m bot.desk [serve]                 the app on DESK_HOST:DESK_PORT (127.0.0.1:5007), and the
                                               alert e-mails when DESK_SMTP_HOST is set
    python -m bot.desk create-admin --username NAME [--name 表示名] [--password-stdin]
    python -m bot.desk send-alerts             send the due alert e-mails once
    python -m bot.desk purge [--dry-run]       delete records older than the retention period, and
                                               their conversations in the tracker store (exit 1, and
                                               nothing deleted, when it cannot be reached)

Settings: bot/settings.py (load_settings). Errors exit with 2 and one line on stderr.
"""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading

from sqlalchemy.exc import SQLAlchemyError

from bot.desk.alerts import AlertWorker, SmtpSender
from bot.desk.app import create_app
from bot.desk.store import DeskError, DeskStore
from bot.rasa.transcripts import TrackerTranscripts, TranscriptStoreUnavailable
from bot.settings import Settings, SettingsError, load_settings

ALERT_POLL_SECONDS = 5.0
SYSTEM_ACTOR = "system"

log = logging.getLogger("bot.desk")


def _worker(settings: Settings, store: DeskStore) -> AlertWorker | None:
    if settings.smtp is None:
        return None
    return AlertWorker(store, settings.smtp.recipients, SmtpSender(settings.smtp), settings.desk_base_url)


def serve(settings: Settings, store: DeskStore, args: argparse.Namespace) -> int:
    from waitress import create_server

    server = create_server(create_app(settings, store), host=settings.desk_host, port=settings.desk_port, threads=4)
    worker = _worker(settings, store)
    if worker is not None:
        threading.Thread(target=worker.run, args=(ALERT_POLL_SECONDS,), daemon=True, name="alerts").start()
    else:
        log.warning("DESK_SMTP_HOST is not set: alerts show in the app but no e-mail is sent")

    def stop(*_: object) -> None:
        if worker is not None:
            worker.stop()
        server.close()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    print(f"相談窓口: http://{settings.desk_host}:{server.effective_port}/", flush=True)
    try:
        server.run()
    except OSError:  # the listening socket closed by stop()
        pass
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("パスワード（12文字以上）: ")
    if getpass.getpass("もう一度: ") != first:
        raise DeskError("パスワードが一致しません")
    return first


def create_admin(settings: Settings, store: DeskStore, args: argparse.Namespace) -> int:
    user_id = store.create_user(args.username, args.name or args.username, _password(args), "admin")
    store.audit(os.environ.get("USER") or SYSTEM_ACTOR, "user.create", detail=f"user={user_id} username={args.username} role=admin via=cli")
    print(f"管理者 {args.username} を作成しました。http://{settings.desk_host}:{settings.desk_port}/ からログインできます。")
    return 0


def send_alerts(settings: Settings, store: DeskStore, args: argparse.Namespace) -> int:
    worker = _worker(settings, store)
    if worker is None:
        raise DeskError("メールの送信先が設定されていません（DESK_SMTP_HOST, DESK_ALERT_FROM, DESK_ALERT_TO）")
    results = worker.run_once()
    sent = sum(1 for _, status in results if status.value == "sent")
    print(f"送信 {sent} 件、失敗 {len(results) - sent} 件")
    return 0 if sent == len(results) else 1


def purge(settings: Settings, store: DeskStore, args: argparse.Namespace) -> int:
    """Records older than the retention period and their conversations in the tracker store (the
    endpoints file's tracker_store, ENDPOINTS_FILE). When the tracker store cannot be used, nothing
    is deleted: the reason on stderr, exit code 1."""
    days = store.retention_days(settings.retention_days)
    actor = os.environ.get("USER") or SYSTEM_ACTOR
    try:
        transcripts = TrackerTranscripts.from_endpoints(settings.endpoints_file)
        result = store.purge(days, transcripts, dry_run=args.dry_run)
    except TranscriptStoreUnavailable as error:
        if not args.dry_run:
            store.audit(actor, "records.purge_failed", detail=f"days={days} reason=tracker_store_unavailable via=cli")
        print(f"エラー: {error}", file=sys.stderr)
        print("記録も会話履歴も削除していません。tracker store に接続できるようにしてから、もう一度実行してください。",
              file=sys.stderr)
        return 1
    if not args.dry_run:
        store.audit(actor, "records.purge", detail=f"{result.audit_detail()} via=cli")
    print(result.summary_ja())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.desk", description="カスハラ相談窓口の画面とコマンド")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="画面を起動する（既定）").set_defaults(handler=serve)
    admin = commands.add_parser("create-admin", help="最初の管理者を作成する")
    admin.add_argument("--username", required=True)
    admin.add_argument("--name", help="表示名（省略時はユーザー名）")
    admin.add_argument("--password-stdin", action="store_true", help="パスワードを標準入力の1行目から読む")
    admin.set_defaults(handler=create_admin)
    commands.add_parser("send-alerts", help="至急の相談のメールを送る（1回）").set_defaults(handler=send_alerts)
    purging = commands.add_parser("purge", help="保存期間を過ぎた記録を削除する")
    purging.add_argument("--dry-run", action="store_true", help="件数だけ表示する")
    purging.set_defaults(handler=purge)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for name in ("bot.desk", "waitress"):
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        settings = load_settings()
        store = DeskStore(settings.database_url)
    except SettingsError as error:
        print(f"エラー: 設定が正しくありません / error: {error}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError) as error:
        print(f"エラー: データベースを使えません / error: database unavailable: {error}", file=sys.stderr)
        return 2
    try:
        return (args.handler if args.command else serve)(settings, store, args)
    except DeskError as error:
        print(f"エラー: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"エラー: データベースを使えません / error: database unavailable: {error}", file=sys.stderr)
        return 2
    finally:
        store.dispose()


if __name__ == "__main__":
    sys.exit(main())
