"""Who may read the page: the holder of VILLAGEBOT_WEB_TOKEN, as a bearer token or a session cookie.

The cookie carries a random session id, its expiry and an HMAC of both under a key derived from
the token: it survives a restart of the server, and changing the token ends every session. Every
comparison is constant-time (hmac.compare_digest), so the answer's timing tells nothing.
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
    """Issues and checks session cookies for one token; remembers the sessions logged out."""

    token: str
    clock: Callable[[], float] = field(default=time.time, repr=False)
    _ended: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self._key = hmac.new(self.token.encode(), b"villagebot web session", hashlib.sha256).digest()

    def _now(self) -> float:
        return self.clock()

    def _signature(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def is_token(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.token.encode())

    def issue(self) -> str:
        body = f"{secrets.token_urlsafe(24)}.{int(self._now()) + SESSION_SECONDS}"
        return f"{body}.{self._signature(body)}"

    def _session_id(self, cookie: str) -> str | None:
        """The cookie's session id when it is signed by us, unexpired and not logged out."""
        body, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._signature(body).encode()):
            return None
        session_id, _, expires = body.partition(".")
        if not expires.isdigit() or int(expires) <= self._now() or session_id in self._ended:
            return None
        return session_id

    def is_valid(self, cookie: str) -> bool:
        return self._session_id(cookie) is not None

    def end(self, cookie: str) -> None:
        session_id = self._session_id(cookie)
        if session_id is not None:
            self._ended.add(session_id)
