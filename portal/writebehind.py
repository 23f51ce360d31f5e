"""Writes that a reading request hands off, applied in the background in small batches.

A search or an article view records an event, but the reader should not queue behind
other writers for the database's one write lock (SQLite) or pay a commit per page (both).
``submit()`` takes a function of a database session, built from values captured in the
request; a thread per process applies the queue in order at least every
``WRITEBEHIND_INTERVAL`` seconds, each batch in one transaction (a failing job is retried on
its own and dropped after a few tries, never taking the batch with it). The queue is
flushed on a normal shutdown (``atexit``); a killed process loses at most one interval of
events, which are statistics, never a user's saved work. With an interval of 0 the queue
is applied at the end of each request (the test suite), still in its own transaction.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from sqlalchemy import insert
from sqlalchemy.orm import Session

from portal.transactions import writing

log = logging.getLogger(__name__)

# A job may return False to be tried again at the next flush (for example, an update whose
# row another process has not written yet); after this many tries it is dropped.
MAX_TRIES = 5

Job = Callable[[Session], object]


@dataclass
class _Item:
    job: Job
    tries: int = 0
    table: object = None  # an insert (see ``insert``): its model and row
    row: dict | None = None


class WriteBehind:
    """One process's queue of pending writes and the thread that applies them."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.app = app
        self.interval = interval
        self._queue: deque[_Item] = deque()
        self._lock = threading.Lock()
        self._flush_lock = threading.RLock()  # a flush's own app context may flush again
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = None
        self.dropped = 0

    def submit(self, job: Job) -> None:
        with self._lock:
            self._queue.append(_Item(job))
        if self.interval > 0:
            self._ensure_thread()

    def insert(self, model, row: dict) -> None:
        """Queue one new row. Rows for one table queued one after another are written by
        one multi-row INSERT: one ORM flush and savepoint per search event took a
        worker's background thread 1 to 2 ms each, as much as a search."""
        with self._lock:
            self._queue.append(_Item(lambda s: s.execute(insert(model), [row]), 0, model, row))
        if self.interval > 0:
            self._ensure_thread()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def flush(self) -> int:
        """Apply every queued job now; returns how many were applied."""
        if not self._queue:
            return 0
        with self._flush_lock:
            with self._lock:
                items = list(self._queue)
                self._queue.clear()
            if not items:
                return 0
            with self.app.app_context():
                return self._apply(items)

    def _apply(self, items: list[_Item]) -> int:
        from portal.extensions import db

        retry: list[_Item] = []
        done = 0
        with writing(), Session(db.engine) as session:
            try:
                for run in _runs(items):
                    with session.begin_nested():
                        if run[0].table is not None:
                            session.execute(insert(run[0].table), [i.row for i in run])
                            done += len(run)
                        elif run[0].job(session) is False:
                            retry.append(run[0])
                        else:
                            done += 1
                session.commit()
            except Exception:
                session.rollback()
                log.warning("a batch of background writes failed; applying them one by one")
                done, retry = self._apply_each(session, items)
        self._requeue(retry)
        return done

    def _apply_each(self, session: Session, items: list[_Item]) -> tuple[int, list[_Item]]:
        done = 0
        retry: list[_Item] = []
        for item in items:
            try:
                if item.job(session) is False:
                    retry.append(item)
                else:
                    done += 1
                session.commit()
            except Exception:
                session.rollback()
                log.exception("a background write failed")
                retry.append(item)
        return done, retry

    def _requeue(self, items: list[_Item]) -> None:
        keep = []
        for item in items:
            item.tries += 1
            if item.tries < MAX_TRIES:
                keep.append(item)
            else:
                self.dropped += 1
        if keep:
            with self._lock:
                self._queue.extendleft(reversed(keep))

    # -- the thread ----------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        import os

        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked worker starts its own thread
            self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database is away: the jobs wait for the next round
                log.exception("background writes failed")
                time.sleep(self.interval)


def _runs(items: list[_Item]) -> list[list[_Item]]:
    """The queue in order, cut into runs: inserts into one table together, any other job
    alone."""
    runs: list[list[_Item]] = []
    for item in items:
        last = runs[-1][0] if runs else None
        if item.table is not None and last is not None and last.table is item.table:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def init_app(app: Flask) -> None:
    """One queue per app; flushed after each request when the interval is 0, and at exit."""
    queue = WriteBehind(app, float(app.config["WRITEBEHIND_INTERVAL"]))
    app.extensions["writebehind"] = queue
    if queue.interval > 0:
        atexit.register(_flush_at_exit, queue)
    else:

        @app.teardown_appcontext
        def _flush_now(_exc) -> None:
            queue.flush()


def _flush_at_exit(queue: WriteBehind) -> None:
    try:
        queue.flush()
    except Exception:
        log.exception("could not apply background writes at shutdown")


def submit(job: Job) -> None:
    """Queue a write for this process's background writer (applied within an interval)."""
    if not has_app_context():
        raise RuntimeError("writebehind.submit() needs an app context")
    current_app.extensions["writebehind"].submit(job)


def insert_row(model, row: dict) -> None:
    """Queue a new row of ``model`` for this process's background writer."""
    if not has_app_context():
        raise RuntimeError("writebehind.insert_row() needs an app context")
    current_app.extensions["writebehind"].insert(model, row)


def flush() -> int:
    """Apply this process's queued writes now (before reading them back, and at shutdown)."""
    return current_app.extensions["writebehind"].flush()
