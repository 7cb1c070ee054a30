"""Who may read the page: the holder of VILLAGEBOT_WEB_TOKEN, as a bearer token or a session cookie.

Sessions are kept by the server (a random id and its end), and the cookie carries the id with an
HMAC under a key derived from the token: a logout or a restart of the server ends a session for
good (a copied cookie is worth nothing afterwards), and changing the token ends every session.
Every comparison is constant-time (hmac.compare_digest), so the answer's timing tells nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TOKEN_VARIABLE = "VILLAGEBOT_WEB_TOKEN"
COOKIE_NAME = "villagebot_session"
SESSION_SECONDS = 7 * 24 * 3600  # a week: the town office logs in on Monday


class TokenMissing(Exception):
    """The server cannot start without a token; the message says what to set."""


def token_from_environment() -> str:
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise TokenMissing(
            f"{TOKEN_VARIABLE} is not set: set it to the access token the town office will log in with, "
            f'e.g. export {TOKEN_VARIABLE}="$(python3 -c "import secrets; print(secrets.token_urlsafe(24))")"'
        )
    return token


@dataclass
class Sessions:
    """Issues and checks session cookies for one token; a session lives until logout, its end or a restart."""

    token: str
    clock: Callable[[], float] = field(default=time.time, repr=False)
    _live: dict[str, float] = field(default_factory=dict, repr=False)  # session id → when it ends

    def __post_init__(self) -> None:
        self._key = hmac.new(self.token.encode(), b"villagebot web session", hashlib.sha256).digest()

    def _now(self) -> float:
        return self.clock()

    def _signature(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def is_token(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.token.encode())

    def issue(self) -> str:
        now = self._now()
        for ended in [sid for sid, ends in self._live.items() if ends <= now]:
            del self._live[ended]
        session_id = secrets.token_urlsafe(24)
        self._live[session_id] = now + SESSION_SECONDS
        return f"{session_id}.{self._signature(session_id)}"

    def _session_id(self, cookie: str) -> str | None:
        """The cookie's session id when it is signed by us and its session is still live."""
        session_id, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._signature(session_id).encode()):
            return None
        ends = self._live.get(session_id)
        if ends is None or ends <= self._now():
            return None
        return session_id

    def is_valid(self, cookie: str) -> bool:
        return self._session_id(cookie) is not None

    def end(self, cookie: str) -> None:
        session_id = self._session_id(cookie)
        if session_id is not None:
            del self._live[session_id]
