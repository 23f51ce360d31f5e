"""What admins and staff see of mail: undelivered mail on the admin overview, on the mail
page (with retry) and in /healthz detail; the test-mail button against a real SMTP server;
quarantine decisions; the staff inbox and its unread count; personal mail choices."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import settings
from portal.extensions import db
from portal.incidents import services
from portal.notifications import intake, preferences
from portal.notifications.models import InboundMail, MailMessage, Notification
from portal.notifications.services import queue_mail, send_pending
from tests.notifications import mails
from tests.notifications.test_mail import Inbox, free_port, start_server


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = start_server(inbox)
    yield inbox
    controller.stop()


@pytest.fixture
def admin(make_user):
    return make_user(["admin", "agent"], email="ada@example.com", name="Ada Admin")


def failed_mail(app) -> MailMessage:
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "127.0.0.1", free_port()
    (row,) = queue_mail("ana@example.com", "Your incident", "Body")
    db.session.commit()
    send_pending()
    db.session.rollback()
    return db.session.get(MailMessage, row.id)


def test_undelivered_mail_shows_on_the_admin_overview_mail_page_and_healthz(
    app, client, auth, admin, smtp
):
    row = failed_mail(app)
    assert row.attempts == 1 and row.last_error

    auth.login(admin)
    overview = client.get("/admin/")
    assert "1 mail not delivered" in overview.text and "refused" in overview.text.lower()
    page = client.get("/admin/mail/")
    assert page.status_code == 200 and "ana@example.com" in page.text

    health = client.get("/healthz?detail=1")
    assert health.status_code == 200, "undelivered mail does not take the node out of service"
    assert health.get_json()["detail"]["mail"]["failing"] == 1
    assert "last_error" not in health.get_json()["detail"]["mail"], "no host names for anyone"
    assert "detail" not in client.get("/healthz").get_json()

    # The server is back: retry now instead of waiting for the back-off.
    app.config["MAIL_PORT"] = smtp.port
    response = client.post(f"/admin/mail/outbox/{row.id}/retry")
    assert response.status_code == 302
    assert send_pending() == (1, 0)
    assert smtp.to() == ["ana@example.com"]
    assert "not delivered" not in client.get("/admin/").text


def test_the_test_mail_button_says_what_the_smtp_server_answered(app, client, auth, admin, smtp):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    auth.login(admin)
    response = client.post("/admin/mail/test", data={"to": "ada@example.com"})
    assert response.status_code == 302
    assert smtp.wait_for(1) and smtp.to() == ["ada@example.com"]
    assert "Test mail sent to ada@example.com" in client.get("/admin/mail/").text

    app.config["MAIL_PORT"] = free_port()
    client.post("/admin/mail/test", data={"to": "ada@example.com"})
    assert "The test mail was not sent" in client.get("/admin/mail/").text
    assert client.post("/admin/mail/test", data={"to": "not an address"}).status_code == 400


def test_only_admins_reach_the_mail_page(client, auth, make_user):
    assert client.get("/admin/mail/").status_code == 302  # sign in first
    auth.login(make_user("agent"))
    assert client.get("/admin/mail/").status_code == 403
    assert client.post("/admin/mail/test", data={"to": "x@example.com"}).status_code == 403


def test_admins_choose_how_mail_to_the_desk_is_taken(client, auth, admin):
    auth.login(admin)
    response = client.post(
        "/admin/mail/settings",
        data={
            "answer_first": "y",
            "allowed_domains": "Example.org\n@corp.example.net",
            "unknown_senders": "guest",
            "hourly_cap": "5",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    assert settings.get("mail_answer_first") is True
    assert settings.get("mail_allowed_domains") == ["corp.example.net", "example.org"]
    assert settings.get("mail_unknown_senders") == "guest"
    assert settings.get("mail_sender_hourly_cap") == 5
    bad = client.post("/admin/mail/settings", data={"allowed_domains": "not a domain/x"})
    assert bad.status_code == 400


def test_an_agent_lets_a_quarantined_mail_through_or_discards_it(
    client, auth, admin, agent, employee, make_user
):
    raw = mails.gmail_reply("The laptop will not boot.", "Laptop broken", dmarc="fail")
    held = intake.receive(raw)
    forged = intake.receive(mails.gmail_reply("Send me the passwords", "Urgent", spf="fail"))
    auth.login(admin)
    assert "Laptop broken" in client.get("/admin/mail/").text
    auth.logout()

    auth.login(make_user("employee"))
    assert client.post(f"/mail/quarantine/{held.inbound_id}/release").status_code == 403
    auth.logout()
    auth.login(agent)
    page = client.get("/notifications")
    assert "Laptop broken" in page.text and "dmarc=fail" in page.text
    client.post(f"/mail/quarantine/{held.inbound_id}/release")
    client.post(f"/mail/quarantine/{forged.inbound_id}/discard")
    db.session.rollback()
    row = db.session.get(InboundMail, held.inbound_id)
    assert row.status == "incident" and row.incident_id
    gone = db.session.get(InboundMail, forged.inbound_id)
    assert (gone.status, gone.raw) == ("ignored", None)
    assert "Mail in quarantine" not in client.get("/notifications").text


def test_staff_see_their_unread_notifications_in_the_top_bar(
    client, auth, make_user, employee, agent
):
    other_agent = make_user("agent", email="bea@example.com", name="Bea Agent")
    incident = services.raise_incident(employee, "Monitor flickers", "Since the update.")
    db.session.commit()
    auth.login(agent)
    home = client.get("/")
    assert "Inbox (1 unread)" in home.text
    inbox = client.get("/notifications")
    assert "INC-000001: New P3 incident: Monitor flickers" in inbox.text

    client.get(f"/incidents/{incident.ref}")  # reading the incident reads its notification
    assert "Inbox (1 unread)" not in client.get("/").text
    # Bea has her own notification; the employee has no inbox at all.
    db.session.rollback()
    assert (
        db.session.scalars(
            select(Notification.read_at).where(Notification.user_id == other_agent.id)
        ).one()
        is None
    )
    auth.logout()
    auth.login(employee)
    assert "Inbox" not in client.get("/").text
    assert client.get("/notifications").status_code == 403


def test_each_person_chooses_which_notifications_they_get_by_mail(app, employee, agent):
    assert preferences.wants_mail(agent, "urgent_incident") is True
    assert preferences.wants_mail(agent, "new_incident") is False
    preferences.set_choice(agent, "new_incident", True)
    db.session.commit()
    services.raise_incident(employee, "Monitor flickers", "Since the update.")
    db.session.commit()
    subjects = [m.subject for m in db.session.scalars(select(MailMessage))]
    assert "[INC-000001] New P3 incident: Monitor flickers" in subjects

    preferences.set_choice(employee, "received", False)
    db.session.commit()
    services.raise_incident(employee, "Keyboard", "Keys stick.")
    db.session.commit()
    to = [m.to_address for m in db.session.scalars(select(MailMessage)) if "Keyboard" in m.subject]
    assert to == ["alex@example.com"]
    kinds = [kind for kind, _, _ in preferences.choices_for(employee)]
    assert "new_incident" not in kinds and "received" in kinds
