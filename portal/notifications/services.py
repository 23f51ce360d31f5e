"""The mail outbox: queue in the caller's transaction, send after commit, retry with backoff.

Services call `queue_mail` inside their transaction, so a mail exists exactly when the change
it reports was saved. After the commit a background thread sends it (`init_app`); whatever
could not be sent waits in the outbox for `flask mail send` (cron, or `--watch`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, aliased

from portal.extensions import db
from portal.notifications.models import MailMessage
from portal.notifications.sender import ConnectFailed, SmtpSender, build_message, describe
from portal.timeutil import utcnow
from portal.transactions import reading

log = logging.getLogger(__name__)

__all__ = [
    "queue_mail",
    "new_message_id",
    "mail_domain",
    "send_pending",
    "count_waiting",
    "delivery_summary",
    "undelivered",
    "retry",
    "retry_delay",
    "init_app",
    "wait_for_background_send",
]

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
SUBJECT_MAX = 300  # the column's length
ADDRESS_MAX = 254
ERROR_MAX = 2000
MESSAGE_ID_MAX = 250

_PENDING = "mail_pending"  # session.info flag: this transaction added outbox rows


def queue_mail(
    to: str | Iterable[str],
    subject: str,
    body: str,
    incident_id: int | None = None,
    *,
    html: str = "",
    kind: str = "",
    in_reply_to: str = "",
    references: Iterable[str] = (),
) -> list[MailMessage]:
    """Add one outbox row per distinct address to the caller's transaction and flush.

    Each row gets its Message-ID now, so a reply naming it finds its way back. Empty
    addresses are skipped; a line break or a missing @ is a programming error.
    """
    addresses = [to] if isinstance(to, str) else list(to)
    subject = " ".join(subject.split())[:SUBJECT_MAX]  # a header is one line
    in_reply_to = _one_line(in_reply_to)
    thread = " ".join(dict.fromkeys(_one_line(r) for r in references if r))
    seen: set[str] = set()
    rows: list[MailMessage] = []
    for raw in addresses:
        address = (raw or "").strip()
        if not address or address.lower() in seen:
            continue
        if "@" not in address or any(c in address for c in "\r\n") or len(address) > ADDRESS_MAX:
            raise ValueError(f"not a mail address: {address!r}")
        seen.add(address.lower())
        rows.append(
            MailMessage(
                to_address=address,
                subject=subject,
                body=body,
                html=html,
                kind=kind,
                message_id=new_message_id(),
                in_reply_to=in_reply_to,
                thread_references=thread,
                incident_id=incident_id,
            )
        )
    db.session.add_all(rows)
    db.session.flush()
    return rows


def mail_domain() -> str:
    """The domain of the portal's own address: the right-hand side of its Message-IDs."""
    return parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"


def new_message_id() -> str:
    """A Message-ID no other mail has: random left part, the portal's mail domain."""
    return f"<firstfix.{uuid.uuid4().hex}@{mail_domain()}>"


def _one_line(value: str) -> str:
    return " ".join((value or "").split())[:MESSAGE_ID_MAX]


def retry_delay(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 1 min, 2, 4, ... at most an hour."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 10), LONGEST_RETRY)


def send_pending(limit: int = 100, now: datetime | None = None) -> tuple[int, int]:
    """Send up to `limit` due messages, oldest first; returns (sent, failed).

    Each message is claimed in its own short transaction (SELECT ... FOR UPDATE SKIP LOCKED
    on PostgreSQL, the write lock on SQLite), so concurrent workers never send it twice, and
    no database lock is held while talking to the mail server. SMTP errors never escape: the
    message is rescheduled. Commits its own session, never the caller's.
    """
    config = current_app.config
    now = _utc(now)
    max_attempts = int(config["MAIL_MAX_ATTEMPTS"])
    sent = failed = 0
    unreachable: str | None = None
    with (
        Session(db.engine, expire_on_commit=False) as session,
        SmtpSender(config) as smtp,
    ):
        for _ in range(max(limit, 0)):
            message = _claim(session, now, max_attempts)
            if message is None:
                break
            error = unreachable  # the server was down a moment ago: don't wait for it again
            if error is None:
                try:
                    smtp.send(build_message(message, config["MAIL_FROM"]))
                except ConnectFailed as exc:
                    error = unreachable = describe(exc)
                    log.warning("mail server unreachable: %s", error)
                except Exception as exc:
                    error = describe(exc)
                    log.warning("mail %s to %s failed: %s", message.id, message.to_address, error)
            if error is None:
                _finish(session, message, sent_at=utcnow(), last_error="")
                sent += 1
            else:
                if message.attempts >= max_attempts:
                    log.error("mail %s to %s gave up: %s", message.id, message.to_address, error)
                retry_at = now + retry_delay(message.attempts)
                _finish(session, message, next_attempt_at=retry_at, last_error=error[:ERROR_MAX])
                failed += 1
    return sent, failed


def count_waiting() -> int:
    """Messages not sent yet that will still be tried (due now or later)."""
    max_attempts = int(current_app.config["MAIL_MAX_ATTEMPTS"])
    with reading(), Session(db.engine) as session:
        return session.scalar(
            select(func.count())
            .select_from(MailMessage)
            .where(MailMessage.sent_at.is_(None), MailMessage.attempts < max_attempts)
        )


def delivery_summary() -> dict:
    """Mail not delivered yet: still being tried, and given up; for admins and /healthz."""
    max_attempts = int(current_app.config["MAIL_MAX_ATTEMPTS"])
    unsent = MailMessage.sent_at.is_(None)
    with reading(), Session(db.engine) as session:
        waiting = session.scalar(
            select(func.count(MailMessage.id)).where(unsent, MailMessage.attempts < max_attempts)
        )
        given_up = session.scalar(
            select(func.count(MailMessage.id)).where(unsent, MailMessage.attempts >= max_attempts)
        )
        failing = session.scalar(
            select(func.count(MailMessage.id)).where(unsent, MailMessage.attempts > 0)
        )
        oldest = session.scalar(select(func.min(MailMessage.created_at)).where(unsent))
        last_error = session.scalar(
            select(MailMessage.last_error)
            .where(unsent, MailMessage.last_error != "")
            .order_by(MailMessage.id.desc())
            .limit(1)
        )
    oldest = _utc(oldest) if oldest else None
    return {
        "waiting": waiting,
        "failing": failing,  # tried at least once and not delivered
        "given_up": given_up,
        "oldest_unsent_minutes": int((utcnow() - oldest).total_seconds() // 60) if oldest else None,
        "last_error": last_error or "",
    }


def undelivered(limit: int = 50) -> list[MailMessage]:
    """Messages that failed at least once and are not delivered, newest first."""
    return list(
        db.session.scalars(
            select(MailMessage)
            .where(MailMessage.sent_at.is_(None), MailMessage.attempts > 0)
            .order_by(MailMessage.id.desc())
            .limit(limit)
        )
    )


def retry(message: MailMessage) -> None:
    """Try a message again now, with a fresh set of attempts (the caller commits)."""
    if message.sent_at is None:
        message.attempts = 0
        message.next_attempt_at = utcnow()


def _claim_for() -> timedelta:
    """While a worker sends a claimed message, no other worker may take it. A worker that
    dies mid-send leaves the claim behind; the message is tried again once it runs out."""
    return timedelta(seconds=float(current_app.config["MAIL_CLAIM_SECONDS"]))


def _claim(session: Session, now: datetime, max_attempts: int) -> MailMessage | None:
    """Take the oldest due message for this worker and commit, so others skip it."""

    def due(m):
        return (m.sent_at.is_(None), m.next_attempt_at <= now, m.attempts < max_attempts)

    candidate = aliased(MailMessage)
    oldest_due = (
        select(candidate.id)
        .where(*due(candidate))
        .order_by(candidate.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    # One UPDATE: on SQLite it takes the write lock before reading, so two workers queue up
    # instead of both reading the same row; the repeated conditions make the claim conditional.
    # Counting the attempt here means a message that crashes its worker still runs out.
    claim = (
        update(MailMessage)
        .where(MailMessage.id == oldest_due, *due(MailMessage))
        .values(
            attempts=MailMessage.attempts + 1,
            next_attempt_at=max(now, utcnow()) + _claim_for(),
        )
        .returning(MailMessage)
        .execution_options(synchronize_session=False)
    )
    message = session.scalars(claim).one_or_none()
    session.commit()
    return message


def _finish(session: Session, message: MailMessage, **values) -> None:
    session.execute(
        update(MailMessage)
        .where(MailMessage.id == message.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


# After-commit sending ---------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Send new mail from a background thread after each commit that queued some."""
    app.extensions["mail"] = _BackgroundSender(app)
    for name, listener in (
        ("after_flush", _note_new_mail),
        ("after_commit", _send_after_commit),
        ("after_rollback", _forget_new_mail),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def wait_for_background_send(timeout: float = 5.0) -> bool:
    """Wait until this app's background sender is idle (tests, shutdown); False on timeout."""
    background = current_app.extensions.get("mail")
    return background is None or background.wait(timeout)


def _note_new_mail(session: Session, _flush_context) -> None:
    if any(isinstance(obj, MailMessage) for obj in session.new):
        session.info[_PENDING] = True


def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the real commit comes later
        return
    if not session.info.pop(_PENDING, False) or not has_app_context():
        return
    background = current_app.extensions.get("mail")
    if background is not None and current_app.config["MAIL_SEND_AFTER_COMMIT"]:
        background.kick()


def _forget_new_mail(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


class _BackgroundSender:
    """At most one sending thread per app; a commit during a round asks for one more round,
    so a burst of commits costs one SMTP session, not one thread each."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._idle = threading.Event()
        self._idle.set()

    def kick(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
            self._idle.clear()
        try:
            threading.Thread(target=self._run, name="mail-after-commit", daemon=True).start()
        except RuntimeError:  # interpreter shutting down: `flask mail send` catches up
            log.exception("could not start the mail thread")
            with self._lock:
                self._running = self._again = False
                self._idle.set()

    def wait(self, timeout: float) -> bool:
        return self._idle.wait(timeout)

    def _run(self) -> None:
        while True:
            with self.app.app_context():
                try:
                    send_pending()
                except Exception:  # e.g. the database is busy; the mail stays queued
                    log.exception("sending mail after commit failed")
            with self._lock:  # decide and stop under one lock, so no kick falls in between
                if not self._again:
                    self._running = False
                    self._idle.set()
                    return
                self._again = False
