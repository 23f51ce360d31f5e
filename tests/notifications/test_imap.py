"""Mail to the desk over real servers: an employee's client submits over SMTP to the
company's MTA, which delivers into the desk's Dovecot mailbox; the portal fetches it over
IMAP (IMAPS, and STARTTLS) and answers through its own SMTP server."""

from __future__ import annotations

import imaplib
import smtplib

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal import transactions
from portal.extensions import db
from portal.incidents.models import Incident
from portal.notifications import imap, intake
from portal.notifications.models import MailMessage
from tests.notifications import dovecot, mails
from tests.notifications.test_mail import Inbox, free_port, start_server

DESK = dovecot.USER


@pytest.fixture(scope="module")
def mailbox():
    yield from dovecot.serve()


class Mta:
    """The company's mail server: takes mail over SMTP and delivers the desk's into Dovecot."""

    def __init__(self, mailbox: dovecot.Dovecot):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):
        if DESK in envelope.rcpt_tos:
            self.mailbox.deliver(envelope.content, envelope.mail_from)
        return "250 OK delivered"


@pytest.fixture(scope="module")
def mta(mailbox):
    port = free_port()
    controller = Controller(Mta(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def portal_smtp():
    inbox = Inbox()
    controller = start_server(inbox)
    yield inbox
    controller.stop()


@pytest.fixture
def config_overrides(mailbox, portal_smtp):
    return {
        **mailbox.portal_config("ssl"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": portal_smtp.port,
        "MAIL_SEND_AFTER_COMMIT": True,
    }


def submit(mta_port: int, raw: bytes, sender: str = "erin@example.com") -> None:
    """What the employee's mail client does: hand the message to the company's MTA."""
    with smtplib.SMTP("127.0.0.1", mta_port, timeout=10) as smtp:
        smtp.sendmail(sender, [DESK], raw)


def unseen(mailbox: dovecot.Dovecot) -> int:
    client = imaplib.IMAP4_SSL(
        "127.0.0.1", mailbox.imaps_port, ssl_context=imap.tls_context(mailbox.portal_config())
    )
    client.login(dovecot.USER, dovecot.PASSWORD)
    client.select("INBOX", readonly=True)
    _, data = client.uid("SEARCH", None, "UNSEEN")
    client.logout()
    return len(data[0].split())


def test_a_mail_sent_to_the_desk_is_fetched_over_imaps_and_becomes_an_incident(
    app, runner, mailbox, mta, portal_smtp, library, employee
):
    submit(mta, mails.thunderbird_new(subject="Printer shows as offline"))
    assert unseen(mailbox) == 1

    result = runner.invoke(args=["mail", "poll"])

    assert result.exit_code == 0, result.output
    assert result.output == "fetched 1, taken 1, left 0\n"
    assert unseen(mailbox) == 0, "flagged \\Seen once taken"
    db.session.rollback()
    incident = db.session.scalars(select(Incident)).one()
    assert (incident.source, incident.requester_id) == ("mail", employee.id)
    assert {a.filename for a in incident.attachments} == {"screenshot.png", "error-report.pdf"}
    # The acknowledgement went out through the portal's SMTP server, with the articles.
    assert portal_smtp.wait_for(1, timeout=10)
    (to,), message = portal_smtp.messages[0]
    assert to == "erin@example.com"
    assert message["Subject"] == "[INC-000001] We received your incident: Printer shows as offline"
    assert "This solved it" in message.get_body(("plain",)).get_content()

    assert runner.invoke(args=["mail", "poll"]).output == "fetched 0, taken 0, left 0\n"


def test_replies_and_auto_replies_over_starttls(app, mailbox, mta, portal_smtp, employee):
    app.config.update(mailbox.portal_config("starttls"))
    intake.receive(mails.thunderbird_new(subject="VPN drops every hour"))
    db.session.rollback()
    ack = db.session.scalars(select(MailMessage)).one()
    message_id, subject = ack.message_id, ack.subject
    db.session.rollback()  # a person at a shell holds no transaction while the worker runs

    submit(mta, mails.outlook_reply(message_id, "It dropped again at 11:00.", subject))
    submit(mta, mails.out_of_office(message_id, subject))
    with transactions.writing():  # as in the worker: intake is a writer
        result = imap.poll(app.config, lambda raw: intake.receive(raw, source="imap"))

    assert (result.fetched, result.taken, result.left) == (2, 2, 0)
    db.session.rollback()
    incident = db.session.scalars(select(Incident)).one()
    assert [c.body_md for c in incident.comments] == ["It dropped again at 11:00."]
    kinds = [m.kind for m in db.session.scalars(select(MailMessage).order_by(MailMessage.id))]
    assert kinds == ["received"], "the out-of-office reply got no answer"


def test_a_wrong_mailbox_password_is_a_clear_error(app, runner, mailbox):
    app.config["MAIL_IMAP_PASSWORD"] = "wrong"
    result = runner.invoke(args=["mail", "poll"])
    assert result.exit_code == 1
    assert "the mailbox could not be read" in result.output
    assert "AUTHENTICATIONFAILED" in result.output or "Authentication failed" in result.output
