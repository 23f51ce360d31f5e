"""Sessions that end when they should: a row on the server for each signed-in browser.

Flask's session stays a signed cookie for small things (CSRF token, flashed messages, the
searches carried into an incident), but being signed in is a server-side fact: the cookie
holds a random key, the `user_sessions` table holds its hash, and Flask-Login's user loader
accepts the cookie only while that row exists, is not idle too long and the account is
active. Deleting rows ends sessions for good, whichever copies of the cookie exist: at
sign-out, password change or reset, deactivation, and "sign out everywhere". The table is in
the one database, so every worker and node agrees at once; nothing else to install.

Staying signed in needs no write on each request: `last_seen_at` is brought forward through
the write-behind queue at most once a minute, so idle expiry is exact to about a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, select, update

from portal import writebehind
from portal.accounts.audit import announce
from portal.accounts.models import User, UserSession
from portal.extensions import db
from portal.timeutil import as_utc, utcnow

SESSION_KEY = "_sk"
TOUCH_EVERY = timedelta(minutes=1)
_KEPT: set[str] = set()


def keep_across_sign_in(*keys: str) -> None:
    """Let these cookie-session keys survive the reset at sign-in (a higher domain's own data,
    such as the searches an incident will carry), without accounts knowing whose they are."""
    _KEPT.update(keys)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])),
        timedelta(hours=float(config["SESSION_MAX_HOURS"])),
    )


def is_expired(row: UserSession, now: datetime | None = None) -> bool:
    """Idle too long, or signed in too long ago."""
    now = now or utcnow()
    idle, longest = _limits()
    return as_utc(row.last_seen_at) + idle <= now or as_utc(row.created_at) + longest <= now


def sign_in(user: User, method: str, address: str = "", user_agent: str = "") -> UserSession:
    """Start a new session for user in this browser: a fresh cookie, a new server-side row.

    The cookie session is cleared first (so nothing planted before sign-in survives) but for
    the keys registered with `keep_across_sign_in`.
    """
    now = utcnow()
    kept = {key: session[key] for key in _KEPT if key in session}
    session.clear()
    session.update(kept)
    key = secrets.token_urlsafe(32)
    row = UserSession(
        user=user,
        key_hash=_hash(key),
        method=method,
        address=(address or "")[:45],
        user_agent=(user_agent or "")[:200],
        created_at=now,
        last_seen_at=now,
    )
    db.session.add(row)
    _prune(user, now)
    db.session.flush()
    session[SESSION_KEY] = key
    login_user(user)
    user.last_login_at = now
    announce("signin.success", actor=user, target=user.email, detail=method, address=address)
    return row


def _prune(user: User, now: datetime) -> None:
    """Forget this user's expired sessions (they no longer work anyway)."""
    for row in db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        if row.id is not None and is_expired(row, now):
            db.session.delete(row)


def current_row() -> UserSession | None:
    """The server-side session the cookie of this request names, if it is still alive."""
    if "_user_session" in g:
        return g._user_session
    row = None
    key = session.get(SESSION_KEY)
    if key:
        row = db.session.scalars(
            select(UserSession).where(UserSession.key_hash == _hash(key))
        ).first()
        if row is not None and is_expired(row):
            row = None
    g._user_session = row
    return row


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the cookie's user only while its session row is alive."""
    row = current_row()
    if row is None or str(row.user_id) != str(user_id) or not row.user.is_active:
        session.pop(SESSION_KEY, None)
        return None
    now = utcnow()
    if as_utc(row.last_seen_at) + TOUCH_EVERY <= now:
        row_id = row.id
        writebehind.submit(
            lambda s: s.execute(
                update(UserSession).where(UserSession.id == row_id).values(last_seen_at=now)
            )
        )
    return row.user


def sign_out(address: str = "") -> None:
    """End this browser's session on the server and forget the cookie."""
    row = current_row()
    if row is not None:
        announce("signout", actor=row.user, target=row.user.email, address=address)
        db.session.execute(delete(UserSession).where(UserSession.id == row.id))
        db.session.flush()
    logout_user()
    session.clear()
    g.pop("_user_session", None)


def end_sessions(user: User, keep: UserSession | None = None) -> int:
    """End every session of user (but `keep`): how many ended."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    result = db.session.execute(stmt, execution_options={"synchronize_session": False})
    db.session.flush()
    return result.rowcount or 0


def sessions_of(user: User) -> list[UserSession]:
    """The user's live sessions, most recently used first."""
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    now = utcnow()
    return [row for row in rows if not is_expired(row, now)]
