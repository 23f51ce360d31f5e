"""Search as a person meets it: results as you type (keyboard only, desktop and phone), an
honest "no article matches", related articles, and similar incidents while typing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.articles.services import ArticleData, save_article
from portal.extensions import db
from tests.browser.conftest import AGENT_EMAIL, EMPLOYEE_EMAIL, _body
from tests.browser.test_portal import PHONE, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_config() -> dict:
    """This module's portal runs with meaning on (the rest of the suite is lexical)."""
    return {"SEARCH_SEMANTIC": True}


MORE = {
    "printer-paper-jam": (
        "Printer says paper jam but nothing is stuck",
        "Printing and scanning",
        "The printer reports a paper jam and stops printing",
    ),
    "print-quality-faded": (
        "Faded or streaky printouts",
        "Printing and scanning",
        "Pages come out pale, streaky or blank from the printer",
    ),
    "wifi-keeps-dropping": (
        "Wi-Fi keeps dropping",
        "Network and remote access",
        "The wireless connection drops every few minutes",
    ),
}


@pytest.fixture(scope="module", autouse=True)
def more_articles(live_portal):
    from portal.accounts.models import User

    with live_portal.app.app_context():
        agent = db.session.scalar(db.select(User).where(User.email == AGENT_EMAIL))
        for slug, (title, category, symptoms) in MORE.items():
            data = ArticleData(
                slug=slug,
                title=title,
                summary=f"How to fix: {title}",
                body_md=_body(symptoms, "A known cause.", "Follow these steps."),
                category=category,
                subcategory="",
                tags=[],
                visibility="everyone",
                status="published",
            )
            save_article(data, agent, note="browser suite")
        db.session.commit()
        db.session.remove()


def _listbox(page):
    return page.get_by_role("listbox", name="Matching articles")


def test_results_as_you_type_with_the_keyboard_on_a_desktop(open_page, live_portal):
    page = open_page()
    page.goto("/")
    box = page.get_by_role("combobox", name="Describe your problem in your own words")
    expect(box).to_be_focused()  # the home page box has the focus: no mouse needed
    page.keyboard.type("printer jam", delay=40)
    listbox = _listbox(page)
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options.first).to_contain_text("Printer says paper jam")
    expect(page.get_by_role("status").filter(has_text="matching article")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    live_portal.shot(page, "dropdown-desktop", full_page=False)
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowDown")  # opens again on the same words
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/articles/printer-paper-jam$"))


def test_results_as_you_type_on_a_phone_with_the_header_box(open_page, live_portal):
    page = open_page(viewport=PHONE, is_mobile=True)
    page.goto("/articles/vpn-wont-connect")
    box = page.get_by_role("combobox", name="Search the help library")
    box.focus()
    page.keyboard.type("wifi drops", delay=40)
    listbox = _listbox(page)
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option").first).to_contain_text("Wi-Fi keeps dropping")
    page.keyboard.press("ArrowDown")
    live_portal.shot(page, "dropdown-phone", full_page=False)
    box_right = box.bounding_box()
    list_box = listbox.bounding_box()
    assert list_box["x"] >= 0 and list_box["x"] + list_box["width"] <= PHONE["width"] + 1
    assert list_box["y"] >= box_right["y"] + box_right["height"] - 1
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/articles/wifi-keeps-dropping$"))


def test_without_javascript_the_box_still_searches(open_page):
    page = open_page(java_script_enabled=False)
    page.goto("/")
    page.get_by_label("Describe your problem in your own words").fill("printer jam")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=printer\+jam"))
    expect(page.locator(".hits .hit").first).to_contain_text("Printer says paper jam")


def test_a_question_no_article_answers_says_so_and_offers_an_incident_first(open_page, live_portal):
    page = open_page()
    page.goto("/search?q=" + "coffee machine on 3rd floor is leaking water".replace(" ", "+"))
    expect(page.get_by_role("heading", name="No article matches your search")).to_be_visible()
    raise_link = page.get_by_role("link", name="Raise an incident")
    expect(raise_link).to_be_visible()
    expect(page.locator(".hits.weak .hit, .hits .hit")).to_have_count(0)
    assert "q=coffee" in raise_link.get_attribute("href")
    live_portal.shot(page, "no-article-matches")


def test_results_come_before_the_filters_for_keyboards_and_phones(open_page, live_portal):
    page = open_page(viewport=PHONE, is_mobile=True)
    page.goto("/search?q=printer")
    first = page.locator(".hits .hit").first
    facets = page.locator(".facets")
    expect(first).to_be_visible()
    assert first.bounding_box()["y"] < facets.bounding_box()["y"]
    live_portal.shot(page, "results-phone")
    # keyboard: from the search button, the next stop is the first result
    page.locator(".bigsearch button").focus()
    page.keyboard.press("Tab")
    expect(first.get_by_role("link").first).to_be_focused()


def test_article_page_lists_related_articles_and_leads_back_to_the_results(open_page, live_portal):
    page = open_page()
    page.goto("/search?q=printer+jam")
    page.locator(".hits .hit").first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/articles/printer-paper-jam\?q="))
    expect(page.get_by_role("combobox", name="Search the help library")).to_have_value(
        "printer jam"
    )
    related = page.get_by_role("region", name="Related articles")
    expect(related).to_be_visible()
    links = related.get_by_role("link")
    expect(links.first).to_be_visible()
    titles = links.all_inner_texts()
    assert "Printer says paper jam but nothing is stuck" not in titles
    assert "Reset a colleague's MFA token" not in titles  # staff only: never for employees
    live_portal.shot(page, "related-articles")
    page.get_by_role("link", name="← Back to results").click()
    expect(page).to_have_url(re.compile(r"/search\?q=printer\+jam"))


def test_similar_open_incidents_show_while_the_title_is_typed(open_page, live_portal):
    from portal.accounts.services import create_user
    from portal.incidents import services

    with live_portal.app.app_context():
        other = create_user("olga.other@example.com", "Olga Other", ["employee"], "x" * 12)
        services.raise_incident(other, "VPN drops every hour", "Since Monday, every hour.")
        db.session.commit()
        db.session.remove()
    page = open_page()
    sign_in(page, EMPLOYEE_EMAIL)
    page.goto("/incidents/new")
    title = page.get_by_label("Title")
    title.fill("")
    title.press_sequentially("vpn disconnects hourly", delay=30)
    known = page.locator("#known-live").get_by_role("heading", name="Others reported this")
    expect(known).to_be_visible(timeout=10000)
    expect(page.locator("#known-live")).to_contain_text("VPN drops every hour")
    expect(page.locator("#known-live")).not_to_contain_text("Since Monday")  # not her words
    live_portal.shot(page, "similar-incidents-live")
