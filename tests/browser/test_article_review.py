"""Issue 11 B.7 in a real browser: an agent proposes an edit to a published article, an
editor reviews the diff and approves it, and only then do employees read the new text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.accounts.services import create_user
from portal.extensions import db
from tests.browser.conftest import AGENT_EMAIL, EMPLOYEE_EMAIL
from tests.browser.test_portal import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

EDITOR_EMAIL = "eddie.editor@example.com"
OLD_STEP = "Remove the printer and add it again from the print portal."
NEW_STEP = "Open Settings > Printers, choose the printer and click Use printer online."


@pytest.fixture(scope="module")
def editor(live_portal):
    with live_portal.app.app_context():
        create_user(EDITOR_EMAIL, "Eddie Editor", ["editor"], PASSWORD)
        db.session.commit()
        db.session.remove()
    return EDITOR_EMAIL


def test_agent_proposes_editor_approves_employee_reads(open_page, live_portal, editor):
    employee = open_page()
    sign_in(employee, EMPLOYEE_EMAIL)

    agent = open_page()
    sign_in(agent, AGENT_EMAIL)
    agent.goto("/articles/printer-offline")
    agent.locator(".staffbar").get_by_role("link", name="Edit").click()
    expect(agent.locator("#review-notice")).to_contain_text("your changes go to an editor")
    body = agent.get_by_label("Body (Markdown)")
    body.fill(body.input_value().replace(OLD_STEP, NEW_STEP))
    agent.get_by_label("What changed (kept in the history)").fill("Windows 11 has a button")
    live_portal.shot(agent, "review-1-agent-editing")
    agent.get_by_role("button", name="Save").click()
    expect(agent.get_by_text("Sent to the editors for review")).to_be_visible()
    expect(agent.locator(".article .body")).to_contain_text(OLD_STEP)
    expect(agent.get_by_text("Proposed change waiting for an editor")).to_be_visible()
    live_portal.shot(agent, "review-2-agent-sent")

    # Until an editor approves, the employee reads the published text.
    employee.goto("/articles/printer-offline")
    expect(employee.locator(".article .body")).to_contain_text(OLD_STEP)
    expect(employee.locator(".article .body")).not_to_contain_text("Use printer online")

    reviewer = open_page()
    sign_in(reviewer, EDITOR_EMAIL)
    reviewer.get_by_role("link", name=re.compile(r"Needs attention \(1\)")).click()
    proposals = reviewer.locator("#proposals")
    expect(proposals.get_by_role("heading")).to_have_text(
        "Proposed changes to published articles (1)"
    )
    expect(proposals).to_contain_text("Alex Agent")
    live_portal.shot(reviewer, "review-3-editor-list")
    proposals.get_by_role("link", name=re.compile("Printer shows as offline")).click()
    diff = reviewer.locator("pre.diff")
    expect(diff.locator(".d-del")).to_contain_text([re.compile(re.escape(OLD_STEP))])
    expect(diff.locator(".d-add")).to_contain_text([re.compile(re.escape(NEW_STEP))])
    expect(reviewer.get_by_text("Windows 11 has a button")).to_be_visible()
    live_portal.shot(reviewer, "review-4-editor-diff")
    reviewer.get_by_role("button", name="Approve and publish").click()
    expect(reviewer.get_by_text("Approved: revision 2 is now what readers see.")).to_be_visible()

    employee.reload()
    expect(employee.locator(".article .body")).to_contain_text(NEW_STEP)
    expect(employee.locator(".article .body")).not_to_contain_text(OLD_STEP)
    live_portal.shot(employee, "review-5-employee-reads")


def test_new_article_starts_from_the_skeleton_with_the_tree_and_a_proposed_slug(
    open_page, live_portal, editor
):
    """Issue 11 B.9: sections to fill, categories from the tree, the slug from the title."""
    page = open_page()
    sign_in(page, EDITOR_EMAIL)
    page.goto("/articles/new")
    body = page.get_by_label("Body (Markdown)")
    expect(body).to_have_value(re.compile(r"^## Symptoms\n\n+## Applies to\n\n+## Cause"))
    page.get_by_label("Title", exact=True).fill("Café Wi-Fi: no sign-in page")
    expect(page.get_by_label("Slug (the address)")).to_have_value("cafe-wi-fi-no-sign-in-page")
    category = page.get_by_label("Category", exact=True)
    options = category.locator("option").all_inner_texts()
    assert options[0] == "Choose a category" and "Printing and scanning" in options
    assert page.locator("input[name=category]").count() == 0  # no free text any more
    category.select_option(label="Network and remote access")
    page.get_by_label("Subcategory").select_option(label="Network and remote access › VPN")
    live_portal.shot(page, "review-6-new-article")
    body.fill(
        body.input_value()
        .replace("## Applies to", "- The sign-in page does not open\n\n## Applies to")
        .replace("## Cause", "- Laptops\n\n## Cause")
        .replace("## Resolution", "The café network needs a browser sign-in.\n\n## Resolution")
        .replace("## More help", "1. Open http://neverssl.com to get the sign-in page.\n\n")
    )
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/articles/cafe-wi-fi-no-sign-in-page$"))
    expect(page.locator(".crumbs")).to_contain_text("Network and remote access")
