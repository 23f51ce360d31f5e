"""Mail to the desk, end to end on real servers and a real browser: an employee's mail goes
over SMTP into the desk's Dovecot mailbox, the portal's worker fetches it over IMAPS, raises
the incident and mails the acknowledgement with the matching articles through SMTP; the
employee opens "This solved it" from that mail in Chromium, presses the button, and the
incident is closed as self-solved."""

from __future__ import annotations

import re
import smtplib

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from portal import transactions
from portal.extensions import db
from portal.incidents import services
from portal.notifications import worker
from tests.browser.conftest import EMPLOYEE_EMAIL
from tests.notifications import dovecot, mails
from tests.notifications.test_mail import Inbox, free_port, start_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mailbox():
    yield from dovecot.serve()


class Mta:
    def __init__(self, mailbox):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):
        self.mailbox.deliver(envelope.content, envelope.mail_from)
        return "250 OK delivered"


@pytest.fixture
def servers(mailbox, live_portal):
    """The company's MTA (into Dovecot) and the portal's SMTP relay, wired into the portal."""
    mta_port = free_port()
    mta = Controller(Mta(mailbox), hostname="127.0.0.1", port=mta_port)
    mta.start()
    relay = Inbox()
    relay_controller = start_server(relay)
    app = live_portal.app
    saved = dict(app.config)
    app.config.update(
        {
            **mailbox.portal_config("ssl"),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": relay.port,
            "PUBLIC_URL": live_portal.url,
        }
    )
    yield mta_port, relay
    app.config.clear()
    app.config.update(saved)
    mta.stop()
    relay_controller.stop()


def worker_round(app) -> dict:
    """What `flask worker` does every few seconds: poll, send, check SLAs, autoclose."""
    with app.app_context(), transactions.writing():
        report = worker.run_due(force=True)
        db.session.remove()
    return report


def test_a_mailed_problem_is_solved_by_an_article_from_the_acknowledgement(
    open_page, live_portal, servers
):
    mta_port, relay = servers
    text = "Since this morning the printer is listed as offline and print jobs stay in the queue."
    with smtplib.SMTP("127.0.0.1", mta_port, timeout=10) as smtp:
        smtp.sendmail(
            EMPLOYEE_EMAIL,
            [dovecot.USER],
            mails.thunderbird_new(
                from_addr=EMPLOYEE_EMAIL, subject="Printer shows as offline", text=text
            ),
        )

    report = worker_round(live_portal.app)
    assert report["poll"] == "fetched 1, taken 1, left 0", report
    assert relay.wait_for(1, timeout=15), f"no acknowledgement was sent: {report}"
    (to,), ack = relay.messages[0]
    assert to == EMPLOYEE_EMAIL
    assert ack["Subject"] == "[INC-000001] We received your incident: Printer shows as offline"
    html = ack.get_body(("html",)).get_content()

    # The mail itself, as a mail client shows its HTML part.
    reader = open_page()
    reader.set_content(html)
    expect(reader.get_by_role("link", name="This solved it").first).to_be_visible()
    live_portal.shot(reader, "mail-acknowledgement")
    solved = re.search(r'href="([^"]+)"[^>]*>This solved it<', html).group(1)
    assert solved.startswith(f"{live_portal.url}/mail/answers/")

    # The employee clicks it: a page that asks, then the button that closes the incident.
    page = open_page()
    page.goto(solved)
    expect(page.get_by_role("heading", name="Did this article solve your problem?")).to_be_visible()
    expect(page.get_by_role("link", name="Printer shows as offline")).to_be_visible()
    live_portal.shot(page, "mail-this-solved-it")
    page.get_by_role("button", name="Yes, this solved it: close INC-000001").click()
    expect(page.locator(".flash-success")).to_contain_text("We closed INC-000001 as solved")
    live_portal.shot(page, "mail-solved")

    with live_portal.app.app_context():
        incident = services.get_by_ref("INC-000001")
        assert (incident.status, incident.is_self_solved, incident.source) == (
            "closed",
            True,
            "mail",
        )
        assert [link.article.slug for link in incident.article_links] == ["printer-offline"]
        db.session.remove()


def test_staff_see_the_mail_in_their_inbox_and_admins_see_the_mail_page(
    open_page, live_portal, servers
):
    from portal.accounts.services import create_user
    from tests.browser.conftest import AGENT_EMAIL
    from tests.conftest import PASSWORD

    with live_portal.app.app_context():
        create_user("ada.admin@example.com", "Ada Admin", ["admin", "agent"], PASSWORD)
        db.session.commit()
        db.session.remove()
    for email, shot in ((AGENT_EMAIL, "mail-agent-inbox"), ("ada.admin@example.com", None)):
        page = open_page()
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        nav = page.get_by_role("navigation", name="Main")
        if shot:
            nav.get_by_role("link", name=re.compile(r"^Inbox \(\d+ unread\)$")).click()
            expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
            expect(page.locator("table")).to_contain_text("INC-000001")
            live_portal.shot(page, shot)
        else:
            page.goto("/admin/mail/")
            expect(page.get_by_role("heading", name="Latest mail received")).to_be_visible()
            expect(page.locator("table").last).to_contain_text("Printer shows as offline")
            live_portal.shot(page, "mail-admin")
