"""Branding in a real browser (issue 13 item 9): an admin sets the name, accent and logo on
the admin page; every page then shows them, at desk and phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.accounts.services import create_user
from tests.browser.test_portal import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ADMIN = "ada.admin@example.com"


def _logo() -> bytes:
    from tests.admin.test_branding import png

    return png(96, 32)


def test_an_admin_brands_the_portal(open_page, live_portal, tmp_path):
    with live_portal.app.app_context():
        from portal.extensions import db

        create_user(ADMIN, "Ada Admin", ["admin"], PASSWORD)
        db.session.commit()
        db.session.remove()
    logo = tmp_path / "acme.png"
    logo.write_bytes(_logo())
    page = open_page()
    sign_in(page, ADMIN)
    page.goto("/admin/branding")
    page.get_by_label("Portal name").fill("Acme Help")
    page.get_by_label("Accent colour").fill("#ffd400")  # too light for white text
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator(".flash-error")).to_contain_text("contrast of 1.4:1")
    assert page.get_by_label("Portal name").input_value() == "Acme Help"  # nothing typed lost
    page.get_by_label("Accent colour").fill("#0b6e4f")
    page.get_by_label("Logo (PNG, JPEG, GIF or WebP, at most 512 KB)").set_input_files(str(logo))
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator(".flash-success")).to_contain_text("Branding saved.")

    for width in (1280, 390):
        view = open_page(viewport={"width": width, "height": 900}, is_mobile=width == 390)
        view.goto("/")
        brand = view.locator("a.brand")
        expect(brand).to_have_text("Acme Help")
        box = brand.locator("img.brand-logo").bounding_box()
        assert box and round(box["height"]) == 32 and round(box["width"]) == 96
        assert view.title().endswith("Acme Help")
        colour = view.get_by_role("button", name="Search").last.evaluate(
            "e => getComputedStyle(e).backgroundColor"
        )
        assert colour == "rgb(11, 110, 79)"
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin/branding")
        live_portal.shot(page, f"admin-branding-set-{width}")
