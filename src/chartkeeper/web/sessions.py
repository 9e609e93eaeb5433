"""Workbench sessions: a signed, HttpOnly, SameSite cookie naming the user, and CSRF tokens.

The cookie carries only the user name, the sign-in time and an HMAC; the user is looked up on
every request, so disabling an account or changing a role takes effect at once. CSRF tokens are
an HMAC of the session (the synchronizer pattern without server state): a form without the
right token is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

COOKIE = "chartkeeper_session"
#: A session ends after this long, whatever happens (a workstation left signed in).
MAX_AGE_SECONDS = 8 * 3600
#: ... and after this long without a request (the page warns before it).
IDLE_SECONDS = 30 * 60
KEY_FILE = "session-hmac.key"


@dataclass(frozen=True)
class Session:
    """A signed-in workbench user."""

    user: str
    started: int
    last_seen: int
    nonce: str


def load_session_key(data_dir: Path) -> bytes:
    """The session signing key in ``<data_dir>/keys/``, made on first use (mode 0600)."""
    directory = Path(data_dir) / "keys"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / KEY_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def encode(key: bytes, session: Session) -> str:
    """The cookie value of ``session``."""
    body = f"{session.user}|{session.started}|{session.last_seen}|{session.nonce}"
    return f"{body}|{_sign(key, body)}"


def decode(key: bytes, value: str | None, now: int) -> Session | None:
    """The session in a cookie, or None when absent, forged, expired or idle too long."""
    if not value or value.count("|") != 4:
        return None
    body, _, signature = value.rpartition("|")
    if not hmac.compare_digest(_sign(key, body), signature):
        return None
    user, started, last_seen, nonce = body.split("|")
    if not (started.isdigit() and last_seen.isdigit()):
        return None
    if now - int(started) > MAX_AGE_SECONDS or now - int(last_seen) > IDLE_SECONDS:
        return None
    return Session(user, int(started), int(last_seen), nonce)


def new_session(user: str, now: int) -> Session:
    """A fresh session for ``user`` (a new nonce, so old CSRF tokens die with the old one)."""
    return Session(user, now, now, secrets.token_hex(16))


def csrf_token(key: bytes, session: Session | None, purpose: str = "form") -> str:
    """The CSRF token forms of this session must carry."""
    nonce = session.nonce if session else "anonymous"
    return _sign(key, f"csrf|{purpose}|{nonce}")


def csrf_ok(key: bytes, session: Session | None, token: str | None, purpose: str = "form") -> bool:
    """True when ``token`` is this session's CSRF token."""
    return bool(token) and hmac.compare_digest(csrf_token(key, session, purpose), token or "")
