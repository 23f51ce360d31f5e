"""Raising an incident while the mail server is down: the incident is saved, the mail waits
in the outbox, and `flask mail send` delivers it once the server is back (real SMTP)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.incidents.models import Incident
from portal.notifications import cli, services
from portal.notifications.models import MailMessage
from portal.timeutil import as_utc
from tests.notifications.test_mail import Inbox, free_port

TITLE = "Docking station does not charge the laptop"
DESCRIPTION = "Since this morning the dock's charging light stays off; the printer is fine."


@pytest.fixture
def mail_port() -> int:
    """The port the portal sends to: nothing listens there until the test starts a server."""
    return free_port()


@pytest.fixture
def config_overrides(mail_port, tmp_path) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mail_port,
        "MAIL_SEND_AFTER_COMMIT": True,
        "MAIL_TIMEOUT": 2,
        "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
    }


@pytest.fixture
def smtp_back(mail_port):
    """Start a real SMTP server (aiosmtpd) on the portal's mail port, when the test says so."""
    controllers: list[Controller] = []

    def start() -> Inbox:
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=mail_port)
        controller.start()
        inbox.port = controller.port
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(autouse=True)
def background_sender(app):
    """Let a background send finish before the app and its database go away."""
    yield
    assert services.wait_for_background_send(timeout=10)


def outbox() -> list[MailMessage]:
    db.session.rollback()  # see what the requests and the sender committed
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))


def test_incident_raised_while_mail_server_is_down_is_mailed_once_it_is_back(
    app, client, auth, make_user, make_article, runner, smtp_back, monkeypatch
):
    assert app.config["MAIL_SEND_AFTER_COMMIT"] and "mail" in app.extensions
    make_article(
        title="Printer shows as offline", symptoms="The printer is listed as offline"
    )  # so the form offers a last look before raising
    employee = make_user("employee", email="erin@example.com", name="Erin Employee")
    assert auth.login(employee).status_code == 302

    # Raise it through the page: a last look at matching articles, then raise for real.
    form = {"title": TITLE, "description": DESCRIPTION}
    response = client.post("/incidents/new", data=form)
    if response.status_code == 200:
        assert "Before you send it" in response.text
        response = client.post("/incidents/new", data={**form, "checked": "1"})
    assert response.status_code == 302, response.text
    assert response.location.endswith("/incidents/INC-000001")
    page = client.get(response.location)
    assert page.status_code == 200
    assert "Incident INC-000001 raised. We will get back to you." in page.text

    db.session.rollback()
    incident = db.session.scalars(select(Incident)).one()
    assert (incident.ref, incident.title, incident.requester_id) == (
        "INC-000001",
        TITLE,
        employee.id,
    )
    assert incident.status == "new"

    # The commit tried to send at once; with nothing listening the mail stays queued.
    assert services.wait_for_background_send(timeout=10)
    (mail,) = outbox()
    assert mail.to_address == "erin@example.com"
    assert mail.subject == f"[INC-000001] We received your incident: {TITLE}"
    assert mail.incident_id == incident.id
    assert mail.sent_at is None
    assert mail.attempts == 1
    assert "refused" in mail.last_error.lower(), mail.last_error
    retry_at = as_utc(mail.next_attempt_at)

    # The mail server is back; `flask mail send` waits for the retry time, then sends it.
    inbox = smtp_back()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output == "sent 0, failed 0, waiting 1\n"
    assert inbox.messages == []

    monkeypatch.setattr(cli, "utcnow", lambda: retry_at + timedelta(seconds=1))
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output == "sent 1, failed 0, waiting 0\n"

    (recipients, message) = inbox.messages[0]
    assert recipients == ["erin@example.com"]
    assert message["Subject"] == f"[INC-000001] We received your incident: {TITLE}"
    text = message.get_body(("plain",)).get_content()
    assert "received your incident INC-000001" in text
    assert "/incidents/INC-000001" in text
    (mail,) = outbox()
    assert mail.sent_at is not None and mail.attempts == 2 and mail.last_error == ""

    # Once: later rounds find nothing to send.
    later = retry_at + timedelta(days=1)
    assert services.send_pending(now=later) == (0, 0)
    monkeypatch.setattr(cli, "utcnow", lambda: later)
    assert runner.invoke(args=["mail", "send"]).output == "sent 0, failed 0, waiting 0\n"
    assert len(inbox.messages) == 1
