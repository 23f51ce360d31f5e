from datetime import date

import pytest
from sqlalchemy import select

from portal import search
from portal.access import EVERYONE
from portal.articles.health import needs_attention
from portal.articles.models import Article
from portal.extensions import db
from tests.conftest import PASSWORD


def _reload(article_id: int) -> Article:
    db.session.expire_all()
    return db.session.get(Article, article_id)


@pytest.fixture
def people(make_user):
    return {"agent": make_user("agent"), "editor": make_user("editor")}


def _as(app, user):
    c = app.test_client()
    c.post("/login", data={"email": user.email, "password": PASSWORD})
    return c


def test_draft_review_send_back_publish_archive(app, people, make_article):
    draft = make_article(title="Badge printer release", symptoms="quokkabadge", status="draft")
    agent, editor = _as(app, people["agent"]), _as(app, people["editor"])

    agent.post(f"/articles/{draft.slug}/transition", data={"target": "review"})
    assert _reload(draft.id).status == "review"
    refused = agent.post(f"/articles/{draft.slug}/transition", data={"target": "published"})
    assert _reload(draft.id).status == "review"
    assert b"an editor must do that" in agent.get(refused.headers["Location"]).data

    editor.post(f"/articles/{draft.slug}/transition", data={"target": "draft"})
    assert _reload(draft.id).status == "review"  # sending back needs a comment
    editor.post(
        f"/articles/{draft.slug}/transition",
        data={"target": "draft", "comment": "Add the printer models"},
    )
    assert _reload(draft.id).status == "draft"
    assert search.search("quokkabadge", EVERYONE).total == 0

    agent.post(f"/articles/{draft.slug}/transition", data={"target": "review"})
    editor.post(f"/articles/{draft.slug}/transition", data={"target": "published"})
    published = _reload(draft.id)
    assert published.status == "published"
    assert published.reviewed_by_id == people["editor"].id
    assert published.reviewed_on == date.today()
    assert search.search("quokkabadge", EVERYONE).hits[0].slug == draft.slug

    history = editor.get(f"/articles/{draft.slug}/history").data.decode()
    for step in ("submitted", "sent back", "Add the printer models", "published"):
        assert step in history

    replacement = make_article(title="Secure print with your badge")
    editor.post(
        f"/articles/{draft.slug}/transition",
        data={"target": "archived", "replaced_by": replacement.slug},
    )
    assert search.search("quokkabadge", EVERYONE).total == 0
    page = app.test_client().get(f"/articles/{draft.slug}").data.decode()
    assert "This article is archived" in page and replacement.title in page


def test_agent_cannot_publish_through_the_editor_form(app, people, make_article):
    agent = _as(app, people["agent"])
    response = agent.post(
        "/articles/new",
        data={
            "title": "Sneaky",
            "slug": "sneaky",
            "status": "published",
            "visibility": "everyone",
            "body": (
                "## Symptoms\n\n- x\n\n## Applies to\n\n- x\n\n"
                "## Cause\n\nx\n\n## Resolution\n\n1. x\n"
            ),
            "save": "Save",
        },
    )
    assert response.status_code == 400
    assert db.session.scalars(select(Article).where(Article.slug == "sneaky")).first() is None


def test_three_not_helped_votes_put_it_on_the_attention_list(app, people, make_article, make_user):
    article = make_article(title="Printer offline")
    for n in range(3):
        c = _as(app, make_user())
        c.post(f"/articles/{article.slug}/vote", data={"no": "No", "comment": f"still broken {n}"})
    attention = needs_attention()
    assert [a.slug for a, _ in attention.not_helped] == [article.slug]
    page = _as(app, people["editor"]).get("/articles/attention").data.decode()
    assert "Printer offline" in page and "still broken 2" in page


def test_two_not_helped_votes_are_not_enough(app, make_article, make_user):
    article = make_article()
    for _ in range(2):
        _as(app, make_user()).post(f"/articles/{article.slug}/vote", data={"no": "No"})
    assert needs_attention().not_helped == []


def test_flag_it_or_fix_it(app, people, make_article):
    article = make_article(title="VPN setup")
    agent = _as(app, people["agent"])
    agent.post(f"/articles/{article.slug}/flag", data={"reason": "Client version is outdated"})
    assert [a.slug for a, _ in needs_attention().flagged] == [article.slug]
    editor = _as(app, people["editor"])
    assert b"Client version is outdated" in editor.get("/articles/attention").data
    editor.post(f"/articles/{article.slug}/flags/resolve")
    assert needs_attention().flagged == []


def test_overdue_review_and_per_article_override(app, make_article):
    old = make_article(title="Old article")
    old.reviewed_on = date(2024, 1, 1)
    fresh = make_article(title="Fresh article")
    fresh.reviewed_on = date.today()
    short = make_article(title="Short cycle")
    short.reviewed_on = date(2026, 1, 1)
    short.review_months = 3
    db.session.commit()
    overdue = {a.slug for a, _ in needs_attention(today=date(2026, 11, 28)).overdue}
    assert overdue == {old.slug, short.slug}


def test_employees_and_agents_cannot_see_the_attention_list(app, people, make_user):
    assert _as(app, make_user()).get("/articles/attention").status_code == 403
    assert _as(app, people["agent"]).get("/articles/attention").status_code == 403


def test_gap_link_prefills_a_draft_with_the_queries(app, people):
    editor = _as(app, people["editor"])
    page = editor.get(
        "/articles/new?title=VPN+will+not+connect&q=vpn+wont+connect&q=cant+connect+vpn"
    ).data.decode()
    assert 'value="VPN will not connect"' in page
    assert "People searched for &#34;vpn wont connect&#34;" in page or (
        "People searched for &quot;vpn wont connect&quot;" in page
    )
