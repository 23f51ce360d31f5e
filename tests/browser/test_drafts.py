"""Issue 11, A.4 and A.5 in a real browser: the requester searches for many things and
raises one incident; the agent sees only the searches for this problem (the rest behind
"Show all"), creates an article from the incident, and an editor cannot publish the draft
until its placeholders are replaced."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.accounts.services import create_user, find_user
from portal.articles import checks
from portal.extensions import db
from tests.browser.conftest import AGENT_EMAIL, EMPLOYEE_EMAIL
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

EDITOR_EMAIL = "eddie.editor@example.com"
UNRELATED = ["holiday allowance", "phone number of Alex Agent", "AND", "expenses form"]
RELATED = ["vpn timed out", "vpn certificate expired"]


def signed_in(open_page, email: str):
    page = open_page()
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.locator(".flash-success")).to_contain_text("Signed in as")
    return page


def test_the_agent_sees_the_searches_of_the_problem_and_the_editor_what_to_fix(
    open_page, live_portal
):
    with live_portal.app.app_context():
        if find_user(EDITOR_EMAIL) is None:
            create_user(EDITOR_EMAIL, "Eddie Editor", ["editor"], PASSWORD)
            db.session.commit()
        db.session.remove()

    erin = signed_in(open_page, EMPLOYEE_EMAIL)
    for text in UNRELATED[:2] + RELATED + UNRELATED[2:]:
        erin.goto(f"/search?q={text}")
    erin.goto("/incidents/new")
    erin.get_by_label("Title", exact=True).fill("VPN connection timed out")
    erin.get_by_label("What happened? What did you try?").fill(
        "My VPN says the connection timed out, Erin here."
    )
    for _ in range(3):  # a second click when the form first offers articles that may help
        erin.get_by_role("button", name="Raise the incident").click()
        erin.wait_for_load_state()
        if re.search(r"/incidents/INC-\d+$", erin.url):
            break
    expect(erin.locator(".flash-success")).to_contain_text("raised")
    ref = erin.url.rstrip("/").rsplit("/", 1)[-1]
    expect(erin.locator("main")).not_to_contain_text("What the requester tried")

    agent = signed_in(open_page, AGENT_EMAIL)
    agent.goto(f"/incidents/{ref}")
    panel = agent.locator("section.tried")
    related = panel.locator("ul.searches-related")
    for text in RELATED:
        expect(related).to_contain_text(text)
    expect(related).not_to_contain_text("expenses form")
    others = panel.locator("details.searches-other")
    expect(others.locator("summary")).to_have_text("Show all: 4 other searches of the session")
    expect(others.get_by_text("“expenses form”")).to_be_hidden()
    live_portal.shot(agent, "drafts-agent-panel-collapsed")
    others.locator("summary").click()
    expect(others.get_by_text("“expenses form”")).to_be_visible()
    live_portal.shot(agent, "drafts-agent-panel-show-all")

    agent.goto(f"/incidents/{ref}/resolve")
    agent.get_by_label("Solution").fill("Renew the VPN certificate in the VPN client.")
    agent.get_by_label("Create an article from this incident").check()
    agent.get_by_role("button", name="Resolve", exact=True).click()
    expect(agent.locator(".flash-info")).to_contain_text("created and waiting for an editor")
    body = agent.locator("textarea[name=body]").input_value()
    assert '"vpn timed out", "vpn certificate expired"' in body
    for private in ("Erin", "My VPN", "expenses", "holiday", "Alex"):
        assert private not in body, private
    slug = agent.url.split("/articles/", 1)[1].split("/", 1)[0]

    editor = signed_in(open_page, EDITOR_EMAIL)
    editor.goto(f"/articles/{slug}")
    editor.get_by_label("Move to").select_option("published")
    editor.get_by_role("button", name="Apply").click()
    flash = editor.locator(".flash-error")
    expect(flash).to_contain_text("Not ready to publish")
    expect(flash).to_contain_text(checks.CAUSE_PLACEHOLDER[:-1])
    live_portal.shot(editor, "drafts-publish-refused")
