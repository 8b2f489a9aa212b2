"""Signed web-chat session tokens: the page server issues them, the socket.io channel checks them.

A token is "<session id>.<HMAC-SHA256 of the id, hex>" under a secret the two servers share
(bot.settings.webchat_settings). The session id names the conversation; a client that does not
hold a token for it cannot join it (read its pushed reminders) or write into it.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import Any, Optional

_TOKEN = re.compile(r"([0-9a-f]{32})\.([0-9a-f]{64})")


def _signature(secret: str, session_id: str) -> str:
    return hmac.new(secret.encode("utf-8"), session_id.encode("ascii"), hashlib.sha256).hexdigest()


def issue(secret: str) -> str:
    """A token for a new session."""
    session_id = uuid.uuid4().hex
    return f"{session_id}.{_signature(secret, session_id)}"


def session_of(token: Any, secret: str) -> Optional[str]:
    """The session id a token was issued for, or None when it is not one issued with this secret."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None or not hmac.compare_digest(match.group(2), _signature(secret, match.group(1))):
        return None
    return match.group(1)
