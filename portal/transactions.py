"""How a transaction begins on SQLite: writers wait their turn, readers never wait.

SQLite in WAL mode lets one writer and any number of readers work at once. A transaction
that starts with a plain (deferred) ``BEGIN`` reads from a snapshot; when it later writes and
another connection committed in between, SQLite refuses the upgrade at once
(SQLITE_BUSY_SNAPSHOT) and ``busy_timeout`` is never consulted: the request fails instead of
waiting a few milliseconds. So every transaction that may write starts with
``BEGIN IMMEDIATE``, which takes the write lock first and waits (``busy_timeout``) for it.

Writing is the default: CLI commands, background threads and unsafe requests (POST, PUT,
PATCH, DELETE) begin IMMEDIATE. Safe requests (GET, HEAD, OPTIONS) and explicit
``reading()`` blocks begin DEFERRED and stay concurrent. A GET that must record something
(a search event, a view count) hands it to ``portal.writebehind``, which writes it in its
own transaction. Under TESTING a write inside a safe request's transaction raises, so the
suite finds any GET that writes in the request's own transaction.

PostgreSQL needs none of this: its transactions never fail to upgrade.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

IMMEDIATE = "IMMEDIATE"
DEFERRED = "DEFERRED"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_mode: ContextVar[str] = ContextVar("sqlite_begin_mode", default=IMMEDIATE)
_in_safe_request: ContextVar[bool] = ContextVar("in_safe_request", default=False)
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class ReadOnlyViolation(RuntimeError):
    """A write inside a safe request's transaction (tests only)."""


@contextmanager
def _using(mode: str) -> Iterator[None]:
    token = _mode.set(mode)
    try:
        yield
    finally:
        _mode.reset(token)


def reading() -> contextmanager:
    """Transactions begun inside this block are readers (no write lock, never wait)."""
    return _using(DEFERRED)


def writing() -> contextmanager:
    """Transactions begun inside this block take the write lock first."""
    return _using(IMMEDIATE)


def writes_on_get(view):
    """Mark a view whose GET must write in its own transaction: a sign-in callback, which an
    identity provider sends as a GET redirect (its `state` is what guards it, not the method)."""
    view._writes_on_get = True
    return view


def current_mode() -> str:
    return _mode.get()


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, _record) -> None:
    """SQLite: let SQLAlchemy own transactions (so savepoints work and BEGIN is ours),
    enforce foreign keys, and use WAL so readers never wait for a writer. In WAL mode
    synchronous=NORMAL keeps the database consistent through any crash and syncs at
    checkpoints instead of on every commit (a power cut may lose the last moments; a
    process crash loses nothing)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        mode = _mode.get()
        connection.info["reader_request"] = mode == DEFERRED and _in_safe_request.get()
        connection.exec_driver_sql(f"BEGIN {mode}")


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_write_in_reader(connection, _cursor, statement, _params, _context, _many) -> None:
    if (
        _strict
        and connection.dialect.name == "sqlite"
        and connection.info.get("reader_request")
        and connection.in_transaction()
        and _WRITE.match(statement)
    ):
        raise ReadOnlyViolation(
            "a write inside a read-only transaction: use writebehind.submit() or writing()"
        )


_busy_timeout_ms = 15_000
_strict = False


def init_app(app: Flask) -> None:
    """Readers for safe requests, writers for the rest; strict checking under TESTING."""
    global _busy_timeout_ms, _strict
    _busy_timeout_ms = int(float(app.config["SQLITE_BUSY_TIMEOUT"]) * 1000)
    _strict = bool(app.config.get("TESTING"))

    @app.before_request
    def _begin_mode() -> None:
        view = app.view_functions.get(request.endpoint or "")
        safe = request.method in SAFE_METHODS and not getattr(view, "_writes_on_get", False)
        g._transaction_modes = (
            _mode.set(DEFERRED if safe else IMMEDIATE),
            _in_safe_request.set(safe),
        )

    @app.teardown_request
    def _reset_mode(_exc) -> None:
        tokens = g.pop("_transaction_modes", None)
        if tokens is not None:
            _mode.reset(tokens[0])
            _in_safe_request.reset(tokens[1])
