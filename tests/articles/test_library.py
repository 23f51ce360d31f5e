"""The starter library in articles/: complete, well formed, and safe to publish."""

import re
from collections import defaultdict
from pathlib import Path

import pytest

from portal.articles.files import parse
from portal.articles.shape import sections
from portal.markdown import render

LIBRARY = Path(__file__).resolve().parents[2] / "articles"
FILES = sorted(LIBRARY.glob("*.md"))
ARTICLES = {path.name: parse(path.read_text(encoding="utf-8")) for path in FILES}

REQUIRED_CATEGORIES = {
    "Accounts and passwords",
    "Multi-factor authentication",
    "Email and calendar",
    "Printing and scanning",
    "Network, Wi-Fi and VPN",
    "Laptops, monitors and peripherals",
    "Software installation and licences",
    "Video calls and collaboration",
    "Phones and tablets",
    "Security",
    "Files, shared drives and backups",
    "Joiners, movers and leavers",
}


def test_the_library_is_big_enough_and_covers_the_lifecycle():
    published_public = [
        a for a in ARTICLES.values() if a.status == "published" and a.visibility == "everyone"
    ]
    staff = [a for a in ARTICLES.values() if a.visibility == "staff"]
    statuses = {a.status for a in ARTICLES.values()}
    assert len(published_public) >= 60
    assert len(staff) >= 6
    assert {"draft", "archived"} <= statuses
    assert sum(a.status == "archived" for a in ARTICLES.values()) == 1


def test_every_required_category_has_two_or_more_subcategories():
    subcategories = defaultdict(set)
    for article in ARTICLES.values():
        subcategories[article.category].add(article.subcategory)
    assert REQUIRED_CATEGORIES <= set(subcategories)
    for category in REQUIRED_CATEGORIES:
        assert len(subcategories[category]) >= 2, category


def test_file_names_match_slugs_and_slugs_are_unique():
    assert all(name == f"{a.slug}.md" for name, a in ARTICLES.items())
    assert len({a.slug for a in ARTICLES.values()}) == len(ARTICLES)


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_article_renders_cleanly(name):
    article = ARTICLES[name]
    found = sections(article.body_md)
    assert all(text.strip() for text in found.values()), "an empty section"
    html = render(article.body_md)
    text = re.sub(r"<[^>]+>", "", html)
    assert "##" not in text and "**" not in text and "](" not in text, "Markdown left over"
    resolution = render(found["Resolution"])
    assert resolution.count("<li>") >= 2 and "<ol>" in resolution, "numbered steps"
    assert "incident" in found["Resolution"].lower() or "escalat" in found["Resolution"].lower()
    assert html.count("<h2") >= 4


def test_no_staff_only_article_reaches_an_anonymous_visitor(app, client, runner):
    assert runner.invoke(args=["kb", "import", str(LIBRARY)]).exit_code == 0
    staff = [a for a in ARTICLES.values() if a.visibility == "staff"]
    home = client.get("/").data.decode()
    for article in staff:
        assert client.get(f"/articles/{article.slug}").status_code == 404
        assert client.get(f"/api/v1/articles/{article.slug}").status_code == 404
        words = " ".join(article.title.split()[:4])
        page = client.get("/search", query_string={"q": words}).data.decode()
        assert article.title not in page and article.title not in home


def test_home_page_shows_every_category_with_its_count(app, client, runner):
    runner.invoke(args=["kb", "import", str(LIBRARY)])
    home = client.get("/").data.decode()
    for category in REQUIRED_CATEGORIES:
        count = sum(
            1
            for a in ARTICLES.values()
            if a.category == category and a.status == "published" and a.visibility == "everyone"
        )
        label = "article" if count == 1 else "articles"
        assert f"{category.replace(',', ',')}" in home.replace("&#39;", "'")
        assert re.search(
            re.escape(category) + r"</span> <span class=\"count\">" + f"{count} {label}", home
        )
