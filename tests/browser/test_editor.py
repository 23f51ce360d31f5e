"""The article editor in a real browser (issue 13 item 7): the Markdown toolbar and the live
preview the server renders, at desk and phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AGENT_EMAIL
from tests.browser.test_portal import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_toolbar_and_live_preview(open_page, live_portal, width):
    page = open_page(viewport={"width": width, "height": 900}, is_mobile=width == 390)
    sign_in(page, AGENT_EMAIL)
    page.goto("/articles/printer-offline/edit")
    body = page.locator("textarea#body")
    toolbar = page.get_by_role("toolbar", name="Formatting")
    for name in ("Heading", "Bold", "Link", "Code", "Bulleted list", "Numbered list"):
        expect(toolbar.get_by_role("button", name=name)).to_be_visible()
    preview = page.locator("#live-preview .body")
    expect(preview.locator("h2", has_text="Symptoms")).to_be_visible()  # shown on arrival

    body.fill("Restart the spooler")
    body.evaluate("e => e.setSelectionRange(12, 19)")  # "spooler"
    toolbar.get_by_role("button", name="Bold").click()
    assert body.input_value() == "Restart the **spooler**"
    expect(preview.locator("strong")).to_have_text("spooler")

    body.fill("first\nsecond")
    body.evaluate("e => e.setSelectionRange(0, e.value.length)")
    toolbar.get_by_role("button", name="Numbered list").click()
    assert body.input_value() == "1. first\n2. second"
    expect(preview.locator("ol > li")).to_have_count(2)

    body.fill('## Fix\n\n<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>')
    expect(preview.locator("h2")).to_have_text("Fix")
    assert page.evaluate("() => window.pwned") is None
    assert preview.locator("script, img[onerror]").count() == 0
    live_portal.shot(page, f"editor-live-preview-{width}")


def test_an_image_chosen_in_the_editor_is_stored_and_shown(page, live_portal, tmp_path):
    from tests.articles.test_images import png

    picture = tmp_path / "printer queue.png"
    picture.write_bytes(png(800, 200))
    sign_in(page, AGENT_EMAIL)
    page.goto("/articles/printer-offline/edit")
    body = page.locator("textarea#body")
    body.evaluate("e => e.setSelectionRange(e.value.length, e.value.length)")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("toolbar", name="Formatting").get_by_role("button", name="Image").click()
    chooser.value.set_files(str(picture))
    expect(page.locator("main").get_by_role("status")).to_have_text("Image added.")
    assert "![printer queue](/articles/printer-offline/images/" in body.input_value()
    shown = page.locator("#live-preview .body img[alt='printer queue']")
    expect(shown).to_be_visible()
    width = shown.evaluate("e => e.getBoundingClientRect().width")
    assert 0 < width <= page.locator("#live-preview .body").evaluate("e => e.clientWidth")
