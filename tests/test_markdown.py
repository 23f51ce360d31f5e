from html.parser import HTMLParser

import pytest

from portal.markdown import render, sanitise

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<iframe src='https://example.com'></iframe>",
    "<a href='#' onclick='alert(1)'>click</a>",
    "<p style='background:url(javascript:alert(1))'>styled</p>",
    "<svg onload=alert(1)>",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<object data='x'></object>",
]


class _Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_dangerous_markup_is_never_active():
    html = render("\n\n".join(XSS))
    for tag, attrs in _Elements(html).tags:
        assert tag not in ("script", "iframe", "object", "svg", "style"), tag
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        for value in attrs.values():
            assert not (value or "").lower().startswith(("javascript:", "data:")), value
    # What was not allowed is shown as the text the writer typed, never run.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("tag", ["script", "style", "title", "textarea", "xmp", "noscript"])
def test_a_literal_tag_never_swallows_the_text_after_it(tag):
    html = render(f"Use the <{tag}> tag carefully\n\nStep 2: reboot\n\n- Step 3: log in")
    assert f"Use the &lt;{tag}&gt; tag carefully" in html
    assert "<p>Step 2: reboot</p>" in html and "<li>Step 3: log in</li>" in html


def test_unknown_tags_and_declarations_read_as_text():
    html = render("A <u>marked</u> word, a <custom-widget> and <!DOCTYPE html> stay visible")
    assert "&lt;u&gt;marked&lt;/u&gt;" in html and "&lt;custom-widget&gt;" in html
    assert "&lt;!DOCTYPE html&gt;" in html
    # allowed inline tags keep working
    assert render("a <kbd>Ctrl</kbd> key") == "<p>a <kbd>Ctrl</kbd> key</p>"


def test_sanitising_twice_changes_nothing():
    once = render("Use the <script> tag\n\n<b>bold</b> <u>u</u>")
    assert sanitise(once) == once


def test_ordinary_markdown_survives():
    html = render("## Resolution\n\n1. Open **Settings**\n2. Click [help](https://example.com)\n")
    assert '<h2 id="resolution">Resolution</h2>' in html
    assert "<ol>" in html and "<strong>Settings</strong>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_tables_and_code_render():
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```\ncode\n```\n")
    assert "<table>" in html and 'align="right"' in html and "<pre><code>" in html
