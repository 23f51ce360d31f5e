"""The mail outbox against a real SMTP server (aiosmtpd on a free local port)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from portal.extensions import db
from portal.notifications import cli, services
from portal.notifications.models import MailMessage
from portal.notifications.services import queue_mail, retry_delay, send_pending
from portal.timeutil import as_utc, utcnow


class Inbox:
    """An aiosmtpd handler that keeps what it receives and can refuse chosen recipients."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse: set[str] = set()
        self.delay = 0.0
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        return "250 Message accepted for delivery"

    def to(self) -> list[str]:
        return [str(message["To"]) for _, message in self.messages]

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.messages) >= count


def free_port() -> int:
    """A local port nothing listens on (the OS just handed it out and it is closed again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(handler: Inbox, **kwargs) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    handler.port = controller.port
    return controller


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = start_server(handler)
    yield handler
    controller.stop()


@pytest.fixture
def config_overrides(inbox) -> dict:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": inbox.port, "MAIL_SEND_AFTER_COMMIT": False}


@pytest.fixture(autouse=True)
def background_sender(app):
    """Hook after-commit sending into the app (create_app does it once it is wired) and
    let a background send finish before the app and its database go away."""
    if "mail" not in app.extensions:
        services.init_app(app)
    yield
    assert services.wait_for_background_send(timeout=10)


def server_down(app) -> None:
    app.config["MAIL_PORT"] = free_port()


def queue(to, subject: str = "Your incident", body: str = "We are on it.\n") -> list[int]:
    ids = [m.id for m in queue_mail(to, subject, body)]
    db.session.commit()
    return ids


def fresh(message_id: int) -> MailMessage:
    db.session.rollback()  # end the test's transaction: see what the sender committed
    return db.session.get(MailMessage, message_id)


# Queueing ---------------------------------------------------------------------------------


def test_queue_mail_adds_one_row_per_distinct_address(app):
    rows = queue_mail(
        ["ana@example.com", "", "bo@example.com", "ANA@example.com ", None],
        "Line one\nline two",
        "Body",
    )
    assert [r.to_address for r in rows] == ["ana@example.com", "bo@example.com"]
    assert all(r.id for r in rows), "flushed, so the rows have ids"
    assert rows[0].subject == "Line one line two"
    db.session.rollback()  # the caller's rollback takes the mail with it
    assert db.session.scalars(select(MailMessage)).all() == []


def test_queue_mail_takes_a_single_address_and_keeps_long_subjects_in_the_column(app):
    (row,) = queue_mail("ana@example.com", "x" * 500, "Body", incident_id=None)
    assert len(row.subject) == 300


def test_queue_mail_refuses_a_header_injection(app):
    with pytest.raises(ValueError):
        queue_mail("ana@example.com\r\nBcc: all@example.com", "Hi", "Body")


# Sending ----------------------------------------------------------------------------------


def test_queued_mail_arrives_with_its_headers_and_body(app, inbox):
    (message_id,) = queue("ana@example.com", "Résolu : imprimante", "Hello Ana,\n\nIt works.\n")

    assert send_pending() == (1, 0)

    (recipients, message) = inbox.messages[0]
    assert recipients == ["ana@example.com"]
    assert message["To"] == "ana@example.com"
    assert message["From"] == "Firstfix <servicedesk@example.com>"
    assert message["Subject"] == "Résolu : imprimante"
    assert message["Message-ID"].endswith("@example.com>") and message["Date"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == "Hello Ana,\n\nIt works.\n"
    row = fresh(message_id)
    assert row.sent_at is not None and row.last_error == "" and row.attempts == 1


def test_a_batch_uses_one_connection_and_sends_in_queue_order(app, inbox):
    queue(["a@example.com", "b@example.com", "c@example.com"])
    assert send_pending() == (3, 0)
    assert inbox.to() == ["a@example.com", "b@example.com", "c@example.com"]


def test_limit_caps_a_batch(app, inbox):
    queue(["a@example.com", "b@example.com", "c@example.com"])
    assert send_pending(limit=2) == (2, 0)
    assert send_pending(limit=2) == (1, 0)
    assert inbox.to() == ["a@example.com", "b@example.com", "c@example.com"]


def test_server_down_keeps_the_mail_queued_and_backs_off_then_delivers_once(app, inbox):
    server_down(app)
    (message_id,) = queue("ana@example.com")
    before = utcnow()

    assert send_pending() == (0, 1)

    row = fresh(message_id)
    assert row.sent_at is None and row.attempts == 1
    assert "Connection refused" in row.last_error or "refused" in row.last_error.lower()
    retry_at = as_utc(row.next_attempt_at)
    assert before + timedelta(seconds=50) < retry_at <= utcnow() + timedelta(minutes=1)

    app.config["MAIL_PORT"] = inbox.port  # the server is back
    assert send_pending() == (0, 0), "still waiting for its retry time"
    assert inbox.messages == []

    later = retry_at + timedelta(seconds=1)
    assert send_pending(now=later) == (1, 0)
    assert send_pending(now=later + timedelta(hours=2)) == (0, 0)
    assert inbox.to() == ["ana@example.com"]
    row = fresh(message_id)
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""


def test_retries_back_off_exponentially_up_to_an_hour_then_stop(app):
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(7) == retry_delay(50) == timedelta(hours=1)

    app.config["MAIL_MAX_ATTEMPTS"] = 3
    server_down(app)
    (message_id,) = queue("ana@example.com")
    now = utcnow()
    waits = []
    for _ in range(3):
        assert send_pending(now=now) == (0, 1)
        row = fresh(message_id)
        waits.append(as_utc(row.next_attempt_at) - now)
        now = as_utc(row.next_attempt_at)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert send_pending(now=now + timedelta(days=1)) == (0, 0), "gave up after 3 attempts"
    assert services.count_waiting() == 0


def test_an_unreachable_server_is_tried_once_per_batch(app, monkeypatch):
    server_down(app)
    connects = []
    real_connect = services.SmtpSender._connect

    def counting_connect(self):
        connects.append(1)
        return real_connect(self)

    monkeypatch.setattr(services.SmtpSender, "_connect", counting_connect)
    queue(["a@example.com", "b@example.com", "c@example.com"])
    assert send_pending() == (0, 3)
    assert len(connects) == 1
    rows = db.session.scalars(select(MailMessage)).all()
    assert {r.attempts for r in rows} == {1} and all(r.last_error for r in rows)


def test_a_refused_recipient_fails_alone(app, inbox):
    inbox.refuse.add("gone@example.com")
    ids = queue(["a@example.com", "gone@example.com", "c@example.com"])
    assert send_pending() == (2, 1)
    assert inbox.to() == ["a@example.com", "c@example.com"]
    assert "550" in fresh(ids[1]).last_error


def test_sending_twice_never_sends_twice(app, inbox):
    queue(["a@example.com", "b@example.com"])
    assert send_pending() == (2, 0)
    assert send_pending() == (0, 0)
    assert send_pending(now=utcnow() + timedelta(days=30)) == (0, 0)
    assert sorted(inbox.to()) == ["a@example.com", "b@example.com"]


def test_concurrent_senders_send_each_message_once(app, inbox):
    inbox.delay = 0.02  # keep each sender busy so the two really overlap
    addresses = [f"user{n}@example.com" for n in range(12)]
    queue(addresses)
    results = []

    def worker():
        with app.app_context():
            results.append(send_pending())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(sent for sent, _ in results) == 12 and sum(f for _, f in results) == 0
    assert sorted(inbox.to()) == sorted(addresses)


def test_logs_in_when_a_username_is_set(app):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((bytes(auth_data.login), bytes(auth_data.password)))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    handler = Inbox()
    controller = start_server(handler, authenticator=authenticator, auth_require_tls=False)
    try:
        app.config.update(MAIL_PORT=handler.port, MAIL_USERNAME="portal", MAIL_PASSWORD="wrong")
        (message_id,) = queue("ana@example.com")
        assert send_pending() == (0, 1)
        assert "535" in fresh(message_id).last_error

        app.config["MAIL_PASSWORD"] = "s3cret"
        assert send_pending(now=utcnow() + timedelta(minutes=2)) == (1, 0)
        assert handler.to() == ["ana@example.com"]
        assert logins[-1] == (b"portal", b"s3cret")
    finally:
        controller.stop()


# After commit -----------------------------------------------------------------------------


def test_mail_is_sent_after_commit_without_calling_send_pending(app, inbox):
    app.config["MAIL_SEND_AFTER_COMMIT"] = True
    (message_id,) = queue("ana@example.com", "Sent by itself")

    assert inbox.wait_for(1, timeout=5), "the background sender delivered nothing"
    assert services.wait_for_background_send(timeout=5)
    assert inbox.to() == ["ana@example.com"]
    assert fresh(message_id).sent_at is not None


def test_a_burst_of_commits_sends_everything_once(app, inbox):
    app.config["MAIL_SEND_AFTER_COMMIT"] = True
    addresses = [f"user{n}@example.com" for n in range(5)]
    for address in addresses:
        queue(address)
    assert inbox.wait_for(5, timeout=5)
    assert services.wait_for_background_send(timeout=5)
    assert sorted(inbox.to()) == addresses


def test_nothing_is_sent_for_a_rollback_or_when_disabled(app, inbox):
    app.config["MAIL_SEND_AFTER_COMMIT"] = True
    queue_mail("rolled@example.com", "Never", "Never")
    db.session.rollback()
    db.session.commit()

    app.config["MAIL_SEND_AFTER_COMMIT"] = False
    queue("later@example.com")
    time.sleep(0.3)
    assert services.wait_for_background_send(timeout=5)
    assert inbox.messages == []
    assert send_pending() == (1, 0), "the disabled case waits for `flask mail send`"


def test_a_commit_in_a_savepoint_waits_for_the_real_commit(app, inbox):
    app.config["MAIL_SEND_AFTER_COMMIT"] = True
    with db.session.begin_nested():
        queue_mail("ana@example.com", "Nested", "Body")
    time.sleep(0.3)
    assert inbox.messages == []
    db.session.commit()
    assert inbox.wait_for(1, timeout=5)


# CLI --------------------------------------------------------------------------------------


def test_cli_send_prints_counts(app, runner, inbox):
    queue(["a@example.com", "b@example.com"])
    result = runner.invoke(cli.mail, ["send"])
    assert result.exit_code == 0, result.output
    assert result.output == "sent 2, failed 0, waiting 0\n"
    assert len(inbox.messages) == 2


def test_cli_send_with_the_server_down_reports_and_exits_cleanly(app, runner, inbox):
    server_down(app)
    queue(["a@example.com", "b@example.com"])
    result = runner.invoke(cli.mail, ["send"])
    assert result.exit_code == 0, result.output
    assert result.output == "sent 0, failed 2, waiting 2\n"


def test_cli_send_drains_more_than_one_batch(app, runner, inbox, monkeypatch):
    monkeypatch.setattr(cli, "BATCH", 2)
    queue([f"user{n}@example.com" for n in range(5)])
    result = runner.invoke(cli.mail, ["send"])
    assert result.output == "sent 5, failed 0, waiting 0\n"


def test_cli_watch_keeps_sending_until_interrupted(app, runner, inbox, monkeypatch):
    queue("first@example.com")
    rounds = []

    def fake_sleep(seconds):
        rounds.append(seconds)
        if len(rounds) == 1:
            queue("second@example.com")
            return
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", fake_sleep)
    result = runner.invoke(cli.mail, ["send", "--watch", "--interval", "7"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "sent 1, failed 0, waiting 0",
        "sent 1, failed 0, waiting 0",
        "stopped",
    ]
    assert rounds == [7.0, 7.0]
    assert inbox.to() == ["first@example.com", "second@example.com"]
