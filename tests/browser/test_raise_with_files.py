"""A file chosen on the incident form arrives with the incident, whether the form asks for a
last look at matching articles or not, with JavaScript on and off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.accounts.services import find_user
from portal.extensions import db
from portal.incidents import services
from tests.browser.conftest import EMPLOYEE_EMAIL
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

LOG = {"name": "spool.log", "mimeType": "text/plain", "buffer": b"spooler: queue stuck\n"}
SHOT = {
    "name": "screen.png",
    "mimeType": "image/png",
    "buffer": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
        b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81"
        b"\x84\x00\x00\x00\x00IEND\xaeB`\x82"
    ),
}


def signed_in_page(open_page, live_portal, js: bool):
    page = open_page(java_script_enabled=js)
    page.goto("/login")
    page.get_by_label("Email").fill(EMPLOYEE_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.locator(".flash-success")).to_contain_text("Signed in as")
    return page


def files_of(live_portal, ref: str) -> list[str]:
    with live_portal.app.app_context():
        incident = services.get_by_ref(ref)
        names = sorted(a.filename for a in incident.attachments)
        db.session.remove()
    return names


def raised_ref(page) -> str:
    expect(page).to_have_url(re.compile(r"/incidents/INC-\d{6}$"))
    expect(page.locator(".flash-success")).to_contain_text("raised")
    return page.url.rsplit("/", 1)[1]


def test_without_javascript_the_confirmation_step_keeps_the_files(open_page, live_portal):
    page = signed_in_page(open_page, live_portal, js=False)
    page.goto("/incidents/new?q=Printer offline since this morning")
    page.get_by_label("What happened? What did you try?").fill("Jobs stay in the queue.")
    page.get_by_label("Attach screenshots or logs").set_input_files([LOG, SHOT])
    page.get_by_role("button", name="Raise the incident").click()

    expect(page.get_by_text("Before you send it")).to_be_visible()
    kept = page.get_by_role("group", name="Files already attached")
    expect(kept.get_by_label(re.compile(r"^spool\.log"))).to_be_checked()
    expect(kept.get_by_label(re.compile(r"^screen\.png"))).to_be_checked()
    live_portal.shot(page, "raise-confirm-keeps-files")
    page.get_by_role("button", name="Raise the incident").click()

    ref = raised_ref(page)
    assert files_of(live_portal, ref) == ["screen.png", "spool.log"]
    conversation = page.locator("main")
    expect(conversation.get_by_role("link", name="spool.log")).to_be_visible()


def test_with_javascript_suggestions_seen_while_typing_skip_the_step(open_page, live_portal):
    page = signed_in_page(open_page, live_portal, js=True)
    page.goto("/incidents/new?q=Printer offline")
    description = page.get_by_label("What happened? What did you try?")
    with page.expect_response(lambda r: "/api/v1/search" in r.url and r.ok):
        description.press_sequentially("The printer is listed as offline", delay=5)
    expect(page.locator("#live-suggestions")).to_be_visible()
    page.get_by_label("Attach screenshots or logs").set_input_files([SHOT])
    page.get_by_role("button", name="Raise the incident").click()

    ref = raised_ref(page)  # no second press: the articles were already in view
    assert files_of(live_portal, ref) == ["screen.png"]


def test_with_javascript_a_similar_report_still_asks_and_keeps_the_files(open_page, live_portal):
    with live_portal.app.app_context():
        someone = find_user(EMPLOYEE_EMAIL)
        services.raise_incident(someone, "Scanner jams on every page", "It jams.")
        db.session.commit()
        db.session.remove()
    page = signed_in_page(open_page, live_portal, js=True)
    page.goto("/incidents/new")
    page.get_by_label("Title", exact=True).fill("Scanner jams on every page")
    page.get_by_label("What happened? What did you try?").fill("Since the paper change.")
    page.get_by_label("Attach screenshots or logs").set_input_files([LOG])
    page.get_by_role("button", name="Raise the incident").click()

    expect(page.get_by_role("heading", name="Others reported this")).to_be_visible()
    expect(page.get_by_role("group", name="Files already attached")).to_contain_text("spool.log")
    page.get_by_role("button", name="Raise the incident").click()

    ref = raised_ref(page)
    assert files_of(live_portal, ref) == ["spool.log"]
