"""The editor's live preview and the Publish button (issue 13 item 7)."""

from __future__ import annotations

import re

import pytest

from portal.articles.models import Article
from portal.extensions import db
from tests.conftest import PASSWORD


def _as(app, user):
    c = app.test_client()
    c.post("/login", data={"email": user.email, "password": PASSWORD})
    return c


def test_the_preview_is_the_servers_sanitised_rendering(app, make_user):
    agent = _as(app, make_user("agent"))
    response = agent.post(
        "/articles/preview",
        data={
            "body": "## Steps\n\n1. **Open** it\n\n<script>alert(1)</script>"
            '<a href="javascript:alert(2)">x</a><img src=x onerror=alert(3)>'
        },
    )
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.data.decode()
    assert "<h2" in html and "<strong>Open</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_the_preview_is_for_staff_only(app, client, make_user):
    assert client.post("/articles/preview", data={"body": "x"}).status_code in (302, 401)
    employee = _as(app, make_user("employee"))
    assert employee.post("/articles/preview", data={"body": "x"}).status_code == 403


def test_an_overlong_preview_is_refused_with_a_reason(app, make_user):
    agent = _as(app, make_user("agent"))
    response = agent.post("/articles/preview", data={"body": "a" * 100_001})
    assert response.status_code == 413 and b"longer than 100,000" in response.data


class TestCsrf:
    @pytest.fixture
    def config_overrides(self) -> dict:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_preview_without_the_token_is_refused(self, app, make_user):
        user = make_user("agent")
        c = app.test_client()
        login = c.get("/login").data.decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        c.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert c.post("/articles/preview", data={"body": "x"}).status_code == 400
        page = c.get("/articles/new").data.decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        ok = c.post("/articles/preview", data={"body": "**x**", "csrf_token": token})
        assert ok.status_code == 200 and b"<strong>x</strong>" in ok.data


def test_an_editor_gets_a_publish_button_on_an_article_in_review(app, make_user, make_article):
    article = make_article(title="Badge printer release", status="review")
    editor = _as(app, make_user("editor"))
    agent = _as(app, make_user("agent", email="alex.agent@example.com"))
    page = editor.get(f"/articles/{article.slug}").data.decode()
    publish = re.search(r'<form[^>]*class="publish".*?</form>', page, re.S)
    assert publish and '<button type="submit" class="primary">Publish</button>' in publish[0]
    assert 'name="target" value="published"' in publish[0]
    assert 'class="publish"' not in agent.get(f"/articles/{article.slug}").data.decode()
    response = editor.post(f"/articles/{article.slug}/transition", data={"target": "published"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Article, article.id).status == "published"
    page = editor.get(f"/articles/{article.slug}").data.decode()
    assert 'class="publish"' not in page  # published: nothing to publish
