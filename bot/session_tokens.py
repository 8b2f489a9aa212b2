"""Signed web-chat session tokens: the page server issues them, the socket.io channel checks them.

A token is "<session id>.<issued at, Unix seconds>.<HMAC-SHA256 of both, hex>" under a secret the
two servers share (bot.settings.webchat_settings). The session id names the conversation; a client
that does not hold a token for it cannot join it (read its pushed reminders) or write into it.
A token is accepted only for its lifetime after it was issued, so one left in a browser's storage
(or copied from it) stops opening the conversation.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
import uuid
from typing import Any, Optional

_TOKEN = re.compile(r"([0-9a-f]{32})\.([0-9]{1,12})\.([0-9a-f]{64})")
# The page server and the Rasa server may run on hosts whose clocks differ a little.
CLOCK_SKEW_SECONDS = 300


def _signature(secret: str, signed: str) -> str:
    return hmac.new(secret.encode("utf-8"), signed.encode("ascii"), hashlib.sha256).hexdigest()


def issue(secret: str, now: Optional[float] = None) -> str:
    """A token for a new session, issued at `now` (default: the clock)."""
    signed = f"{uuid.uuid4().hex}.{int(time.time() if now is None else now)}"
    return f"{signed}.{_signature(secret, signed)}"


def session_of(token: Any, secret: str, lifetime_seconds: int, now: Optional[float] = None) -> Optional[str]:
    """The session id a token was issued for, or None when it is not one issued with this secret or
    was issued more than `lifetime_seconds` before `now` (default: the clock)."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        return None
    session_id, issued_at, signature = match.groups()
    if not hmac.compare_digest(signature, _signature(secret, f"{session_id}.{issued_at}")):
        return None
    age = (time.time() if now is None else now) - int(issued_at)
    return session_id if -CLOCK_SKEW_SECONDS <= age <= lifetime_seconds else None
