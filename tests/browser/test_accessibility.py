"""Accessibility basics a person notices (issue 13 item 4): sign-in fields the browser and a
password manager can fill, the cursor on the first thing to fix after a refused submit, and
the page's language named for screen readers. axe-core itself runs in test_every_page.py."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_sign_in_fields_say_what_to_fill(page):
    page.goto("/login")
    assert page.get_by_label("Email").get_attribute("autocomplete") == "username"
    assert page.get_by_label("Password").get_attribute("autocomplete") == "current-password"
    page.goto("/password/forgot")
    assert page.locator("main input[name=email]").get_attribute("autocomplete") == "email"


def test_after_a_refused_submit_the_cursor_is_on_the_first_field_to_fix(page):
    page.goto("/login")
    page.get_by_label("Password").fill("something")
    page.locator("main").get_by_role("button", name="Sign in").click()
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    focused = page.evaluate("() => document.activeElement && document.activeElement.name")
    assert focused == "email"


def test_a_page_without_errors_keeps_the_cursor_where_it_was(page):
    page.goto("/login")
    assert page.evaluate("() => document.activeElement.tagName") == "BODY"


def test_the_page_names_its_language(page, live_portal):
    page.goto("/")
    assert page.get_attribute("html", "lang") == "en"
    live_portal.app.config["LANGUAGE"] = "de"
    try:
        page.goto("/login")
        assert page.get_attribute("html", "lang") == "de"
    finally:
        live_portal.app.config["LANGUAGE"] = "en"
