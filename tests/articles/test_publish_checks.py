"""Publishing checks the article: a generated draft with its placeholders still in, or a body
missing a required section, is refused by every way of publishing, with what to fix."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from portal.articles import checks
from portal.articles.models import Article
from portal.articles.services import (
    ArticleData,
    ArticleError,
    gap_body,
    get_or_create_category,
    save_article,
    to_data,
    transition,
)
from portal.extensions import db
from portal.incidents import services
from tests.conftest import PASSWORD

FINISHED = (
    "## Symptoms\n\n- The VPN drops every hour\n\n## Applies to\n\n- The VPN client on laptops\n\n"
    "## Cause\n\nAn old client.\n\n## Resolution\n\n1. Update the VPN client.\n"
)


def _as(app, user):
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return client


def _reload(article_id: int) -> Article:
    db.session.expire_all()
    return db.session.get(Article, article_id)


@pytest.fixture
def editor(make_user):
    return make_user("editor")


@pytest.fixture
def incident_draft(app, employee, agent) -> Article:
    """The draft "Create an article from this incident" makes, in review, as generated."""
    incident = services.raise_incident(employee, "VPN drops every hour", "It drops.")
    draft = services.resolve(incident, agent, "Update the VPN client.", create_article=True)
    db.session.commit()
    return draft


def test_every_placeholder_the_generators_write_is_refused(app):
    draft = ArticleData(slug="x", title="x", summary="", body_md=gap_body(["vpn slow"]))
    problems = checks.publish_problems(draft.body_md)
    assert len(problems) == 3  # Applies to, Cause, Resolution; its Symptoms are real searches
    assert "the '## Cause' section still says “Explain the cause in plain words”" in problems[1]
    assert checks.publish_problems(gap_body([]))[0].startswith("the '## Symptoms' section")
    assert checks.publish_problems(FINISHED) == []
    # A placeholder in a sentence of its own making still counts.
    for unfinished in ("TBC (check before publishing)", "To be confirmed later."):
        assert checks.publish_problems(FINISHED.replace("An old client.", unfinished))


def test_the_workflow_refuses_an_incident_draft_until_the_placeholders_are_replaced(
    app, incident_draft, editor
):
    with pytest.raises(ArticleError) as refused:
        transition(incident_draft, "published", editor)
    message = str(refused.value)
    assert message.startswith("Not ready to publish: ")
    assert f"the '## Applies to' section still says “{checks.APPLIES_TO_PLACEHOLDER}”" in message
    assert f"the '## Cause' section still says “{checks.CAUSE_PLACEHOLDER[:-1]}”" in message
    db.session.rollback()
    assert _reload(incident_draft.id).status == "review"


def test_the_publish_button_says_what_to_fix(app, incident_draft, editor):
    client = _as(app, editor)
    response = client.post(
        f"/articles/{incident_draft.slug}/transition",
        data={"target": "published"},
        follow_redirects=True,
    )
    page = html.unescape(response.get_data(as_text=True))
    assert "Not done: Not ready to publish: the '## Applies to' section still says" in page
    assert "replace it with what is true" in page
    assert _reload(incident_draft.id).status == "review"
    assert client.get(f"/articles/{incident_draft.slug}", follow_redirects=True)  # still there


def test_the_editor_form_refuses_publishing_and_keeps_what_was_typed(app, incident_draft, editor):
    client = _as(app, editor)
    data = to_data(incident_draft)
    form = {
        "title": data.title,
        "slug": data.slug,
        "summary": data.summary,
        "visibility": "everyone",
        "status": "published",
        "body": data.body_md.replace("## Cause", "## Causes"),
        "note": "publishing",
        "save": "Save",
    }
    response = client.post(f"/articles/{incident_draft.slug}/edit", data=form)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "the '## Cause' section is missing" in page
    assert "## Causes" in page  # the body the editor typed is shown again, not lost
    assert _reload(incident_draft.id).status == "review"

    form["body"] = FINISHED
    response = client.post(f"/articles/{incident_draft.slug}/edit", data=form)
    assert "category: choose one before publishing" in response.get_data(as_text=True)
    get_or_create_category("Network")  # an untriaged incident's draft has none yet
    db.session.commit()
    form["category"] = "network"  # chosen from the tree (the select's value is its slug)
    response = client.post(f"/articles/{incident_draft.slug}/edit", data=form)
    assert response.status_code == 302
    assert _reload(incident_draft.id).status == "published"


def test_saving_straight_to_published_is_checked_too(app, editor):
    """The import and any caller of save_article: a new published article is checked."""
    data = ArticleData(
        slug="gap-draft",
        title="VPN slow",
        summary="",
        body_md=gap_body(["vpn slow"]),
        status="published",
    )
    with pytest.raises(ArticleError, match="Explain the cause in plain words"):
        save_article(data, editor)
    db.session.rollback()
    assert db.session.scalars(select(Article).where(Article.slug == "gap-draft")).first() is None
    data.status = "draft"  # a draft may hold placeholders: that is what drafts are for
    save_article(data, editor)
    db.session.commit()
