"""What a person sees in a real browser: search, voting, editing, access and layout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AGENT_EMAIL, STAFF_ONLY_WORD
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
HERO_LABEL = "Describe your problem in your own words"


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form, reached from the 'Sign in' link."""
    page.goto("/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".flash-success")).to_contain_text("Signed in as")


def search_from_home(page, text: str) -> None:
    page.goto("/")
    page.get_by_label(HERO_LABEL).fill(text)
    page.locator(".hero").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?"))


def first_hit(page):
    return page.locator(".hits .hit").first


def test_search_from_home_page_highlights_the_matching_word(page, live_portal):
    page.goto("/")
    expect(page.get_by_role("heading", name="What can we help you fix?")).to_be_visible()
    live_portal.shot(page, "home")

    search_from_home(page, "print queue")

    expect(first_hit(page).get_by_role("heading")).to_have_text("Printer shows as offline")
    mark = first_hit(page).locator(".snippet mark", has_text=re.compile(r"^queue$", re.I))
    expect(mark).to_be_visible()
    live_portal.shot(page, "search-results")


def test_misspelled_query_offers_did_you_mean(page):
    search_from_home(page, "certficate")

    suggestion = page.locator(".suggestion")
    expect(suggestion).to_contain_text("Did you mean")
    expect(suggestion.get_by_role("link")).to_have_text("certificate")

    suggestion.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"q=certificate"))
    expect(first_hit(page).get_by_role("heading")).to_have_text("VPN will not connect")


def test_reader_votes_yes_then_changes_to_no(page, live_portal):
    page.goto("/articles/vpn-wont-connect")
    expect(page.get_by_role("heading", level=1)).to_have_text("VPN will not connect")
    vote = page.locator("#vote")
    expect(vote.get_by_role("heading", name="Did this solve your problem?")).to_be_visible()
    expect(vote).not_to_contain_text("You answered")
    live_portal.shot(page, "article")

    vote.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Glad it helped. Thank you for telling us.")).to_be_visible()
    expect(vote).to_contain_text("You answered Yes")

    vote.get_by_label("Anything to tell us? What helped, or what was missing (optional)").fill(
        "Renew certificate was greyed out"
    )
    vote.get_by_role("button", name="No").click()
    expect(page.get_by_text("Sorry this did not solve it.")).to_be_visible()
    expect(vote).to_contain_text("You answered No")
    expect(vote).not_to_contain_text("You answered Yes")
    expect(vote.get_by_text("Still stuck?")).to_be_visible()


def test_agent_edit_of_a_published_article_goes_to_review(page, live_portal):
    """Issue 11 B.7: the agent's edit waits for an editor (approval: test_article_review.py)."""
    sign_in(page, AGENT_EMAIL)
    expect(page.get_by_text("Signed in as Alex Agent.")).to_be_visible()

    page.goto("/articles/outlook-calendar-missing")
    page.locator(".staffbar").get_by_role("link", name="Edit").click()
    expect(page).to_have_url(re.compile(r"/articles/outlook-calendar-missing/edit$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Edit: Shared calendar missing in Outlook"
    )
    expect(page.locator("#review-notice")).to_contain_text("your changes go to an editor")

    new_title = "Shared calendar vanished from Outlook"
    note = "Added the resubscribe step for the new Outlook"
    page.get_by_label("Title", exact=True).fill(new_title)
    body = page.get_by_label("Body (Markdown)")
    old_step = "Ask the owner to share the calendar again, then reopen Outlook."
    assert old_step in body.input_value()
    body.fill(
        body.input_value().replace(
            old_step, "In the new Outlook, right-click Shared calendars and choose Resubscribe."
        )
    )
    page.get_by_label("What changed (kept in the history)").fill(note)
    live_portal.shot(page, "editor")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/articles/outlook-calendar-missing$"))
    expect(page.get_by_text("Sent to the editors for review")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shared calendar missing in Outlook")
    expect(page.locator(".article .body")).not_to_contain_text("choose Resubscribe")

    search_from_home(page, "resubscribe")
    expect(page.locator(".hits .hit")).to_have_count(0)

    page.goto("/articles/outlook-calendar-missing/history")
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("td").nth(2)).to_have_text("#2")
    expect(rows.first.locator("td").nth(4)).to_have_text("Alex Agent")
    expect(rows.first.locator("td").nth(5)).to_have_text("proposed change")
    expect(rows.first.locator("td").nth(6)).to_have_text(note)
    expect(page.get_by_role("button", name="Restore")).to_have_count(0)
    live_portal.shot(page, "history")


def test_anonymous_search_does_not_find_a_staff_only_article(page, open_page, live_portal):
    search_from_home(page, STAFF_ONLY_WORD)
    expect(page.get_by_role("heading", name="No article matches your search")).to_be_visible()
    expect(page.locator(".hits .hit")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Reset a colleague")
    live_portal.shot(page, "no-results")

    # The word is in the index: an agent's same search finds the article.
    staff = open_page()
    sign_in(staff, AGENT_EMAIL)
    search_from_home(staff, STAFF_ONLY_WORD)
    expect(staff.locator(".hits .hit h3")).to_have_text(["Reset a colleague's MFA token"])


def test_pages_have_no_console_errors(page, live_portal):
    anonymous = [
        "/",
        "/search?q=printer",
        "/search?q=certficate",
        "/search?q=nothingmatcheshere",
        "/articles/printer-offline",
        "/categories/printing-and-scanning",
        "/login",
    ]
    for path in anonymous:
        page.goto(path, wait_until="load")
        expect(page.locator("main")).to_be_visible()
    sign_in(page, AGENT_EMAIL)
    for path in ("/articles/new", "/articles/vpn-wont-connect/edit", "/articles/vpn-wont-connect"):
        page.goto(path, wait_until="load")
        expect(page.locator("main")).to_be_visible()
    assert live_portal.console_errors == []


def _luminance(css_color: str) -> float:
    red, green, blue = (int(v) / 255 for v in re.findall(r"\d+", css_color)[:3])
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(element) -> float:
    colors = element.evaluate(
        "e => { const s = getComputedStyle(e); return [s.color, s.backgroundColor]; }"
    )
    lighter, darker = sorted((_luminance(c) for c in colors), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_primary_buttons_are_readable(page):
    """Each page's main button shows its label (at least 3:1, WCAG AA for UI components)."""
    ratios = {}
    page.goto("/")
    ratios["home Search"] = _contrast(page.locator(".hero").get_by_role("button", name="Search"))
    page.goto("/login")
    ratios["login Sign in"] = _contrast(page.locator("main").get_by_role("button", name="Sign in"))
    page.goto("/articles/vpn-wont-connect")
    ratios["article Yes"] = _contrast(page.get_by_role("button", name="Yes"))
    sign_in(page, AGENT_EMAIL)
    page.goto("/articles/vpn-wont-connect/edit")
    ratios["editor Save"] = _contrast(page.get_by_role("button", name="Save"))

    unreadable = {name: round(ratio, 2) for name, ratio in ratios.items() if ratio < 3}
    assert not unreadable, f"button text barely differs from its background: {unreadable}"


def test_phone_width_home_page_does_not_scroll_sideways(open_page, live_portal):
    page = open_page(viewport=PHONE, is_mobile=True)
    page.goto("/")
    expect(page.get_by_label(HERO_LABEL)).to_be_visible()
    width = page.evaluate("document.scrollingElement.scrollWidth")
    live_portal.shot(page, "phone-home")
    assert width <= PHONE["width"], f"home page is {width}px wide at a 390px viewport"
