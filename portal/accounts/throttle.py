"""Sign-in throttling: per address and per account, counted where every worker sees it.

Flask-Limiter counts in a `limits` storage. Its `memory://` storage is private to one worker,
so four gunicorn workers let four times the limit through. `sqlite:///path` (the default, a
file in the instance folder) is a small `limits` storage that all workers and threads of a
node share with nothing else installed; several nodes share `redis://...` instead.

The per-account limit counts failed attempts only, and a browser that has signed in to that
account before (a signed "known device" cookie) is exempt from it: an attacker guessing one
account's password from many addresses is stopped, while its owner is not locked out (the
OWASP "device cookie" defence). The per-address limit still applies to everyone.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits.storage import Storage

DEVICE_COOKIE = "ff_device"
DEVICE_SALT = "firstfix-known-device"
DEVICE_MAX_AGE = 180 * 24 * 3600
DEVICE_MAX_ACCOUNTS = 5  # a shared computer remembers the last few accounts


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite file: atomic upserts, shared by processes."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = (uri or "sqlite:///ratelimit.sqlite")[len("sqlite://") :] or ":memory:"
        self._local = threading.local()
        self._calls = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS counters "
                "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL)"
            )
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        db = self._db()
        self._calls += 1
        if self._calls % 500 == 0:
            db.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        row = db.execute(
            "INSERT INTO counters (key, count, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET "
            "count = CASE WHEN counters.expires_at <= ? THEN excluded.count "
            "ELSE counters.count + excluded.count END, "
            "expires_at = CASE WHEN counters.expires_at <= ? THEN excluded.expires_at "
            "ELSE counters.expires_at END "
            "RETURNING count",
            (key, amount, now + expiry, now, now),
        ).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        row = (
            self._db()
            .execute(
                "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires_at FROM counters WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counters WHERE key = ?", (key,))


# -- keys and conditions for the sign-in limits ------------------------------------------------


def account_tag(login: str | None) -> str:
    """A short hash of a typed login: the limiter's key and the device cookie's entry."""
    return hashlib.sha256((login or "").strip().lower().encode()).hexdigest()[:24]


def account_key() -> str:
    """Limiter key: the account the form names (whether or not it exists)."""
    return "account:" + account_tag(request.form.get("email"))


def failed(response: Response) -> bool:
    """Only wrong passwords count against an account."""
    return response.status_code == 401


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def known_accounts() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def known_device() -> bool:
    """This browser signed in to the account the form names before."""
    return account_tag(request.form.get("email")) in known_accounts()


def remember_device(response: Response, login: str) -> None:
    """After a successful sign-in: this browser may skip the per-account limit next time."""
    tags = [t for t in known_accounts() if t != account_tag(login)]
    tags = [account_tag(login), *tags][:DEVICE_MAX_ACCOUNTS]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(tags),
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure or bool(current_app.config["SESSION_COOKIE_SECURE"]),
    )


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


TOO_MANY_SIGN_INS = "Too many sign-in attempts. Wait a minute, then try again."
TOO_MANY_RESETS = "Too many reset requests. Wait a while, then try again."
