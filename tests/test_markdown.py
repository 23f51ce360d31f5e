from portal.markdown import render

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


def test_dangerous_markup_is_never_active():
    html = render("\n\n".join(XSS))
    lowered = html.lower()
    for needle in (
        "<script",
        "onerror",
        "onclick",
        "onload",
        "javascript:",
        "data:",
        "<iframe",
        "style=",
        "<object",
        "<svg",
    ):
        assert needle not in lowered, needle


def test_ordinary_markdown_survives():
    html = render("## Resolution\n\n1. Open **Settings**\n2. Click [help](https://example.com)\n")
    assert '<h2 id="resolution">Resolution</h2>' in html
    assert "<ol>" in html and "<strong>Settings</strong>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_tables_and_code_render():
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```\ncode\n```\n")
    assert "<table>" in html and 'align="right"' in html and "<pre><code>" in html
