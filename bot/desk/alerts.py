"""Alert e-mails: the outbox (alert_deliveries) sent over SMTP by the desk process, or by
`python -m bot.desk send-alerts`. Each e-mail is claimed before it is sent, so two desk processes
never both send it; a failure is retried with back-off and shown on the alerts page."""
from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot.codes import DeliveryStatus
from bot.desk.store import DeskStore
from bot.desk_rules import alert_email
from bot.settings import SmtpSettings

log = logging.getLogger("bot.desk.alerts")

Send = Callable[[str, str, str], None]  # (recipient, subject, body); raises on failure


class SmtpSender:
    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def __call__(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.smtp.sender, recipient, subject
        message["Date"], message["Message-ID"] = formatdate(localtime=True), make_msgid(domain="kasuhara-desk")
        message.set_content(body, charset="utf-8")
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout) as client:
            if self.smtp.starttls:
                client.starttls()
            if self.smtp.username:
                client.login(self.smtp.username, self.smtp.password)
            client.send_message(message)


class AlertWorker:
    def __init__(self, store: DeskStore, recipients: tuple[str, ...], send: Send, base_url: str,
                 name: str | None = None) -> None:
        self.store = store
        self.recipients = recipients
        self.send = send
        self.base_url = base_url
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()

    def run_once(self) -> list[tuple[int, DeliveryStatus]]:
        """Queue an e-mail per new alert and recipient, then send every one that is due."""
        self.store.queue_deliveries(self.recipients)
        results = []
        for delivery in self.store.claim_deliveries(self.name):
            record = delivery["record"]
            subject, body = alert_email(record, delivery["reason"], f"{self.base_url}/records/{record['id']}")
            try:
                self.send(delivery["recipient"], subject, body)
                error = None
            except (OSError, smtplib.SMTPException) as failure:
                error = f"{type(failure).__name__}: {failure}"
                log.warning("alert e-mail %s to %s failed: %s", delivery["id"], delivery["recipient"], error)
            results.append((delivery["id"], self.store.finish_delivery(delivery["id"], self.name, error)))
        return results

    def run(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep going: a database or mail hiccup must not end the alerts
                log.exception("alert delivery pass failed")
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
