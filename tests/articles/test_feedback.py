"""What readers write with their Yes or No reaches the staff who review the article."""

from __future__ import annotations

from sqlalchemy import select

from portal.articles.health import helped_comments, not_helped_comments
from portal.articles.models import Vote
from portal.articles.services import cast_vote
from portal.extensions import db
from tests.conftest import PASSWORD


def staff_panel(html: str) -> str:
    return html.split('<section class="vote"', 1)[0]


def test_a_yes_comment_is_stored_and_listed_as_what_helped(make_article):
    article = make_article(slug="printer-offline")
    cast_vote(article, "user:1", True, comment="Step 2 did it")
    cast_vote(article, "user:2", False, comment="No print portal on my Mac")
    db.session.commit()
    assert helped_comments(article) == ["Step 2 did it"]
    assert not_helped_comments(article) == ["No print portal on my Mac"]


def test_changing_the_answer_without_a_comment_drops_the_old_one(make_article):
    article = make_article(slug="printer-offline")
    cast_vote(article, "user:1", False, comment="Still offline")
    cast_vote(article, "user:1", True)
    db.session.commit()
    vote = db.session.scalars(select(Vote)).one()
    assert (vote.helpful, vote.comment) == (True, "")
    assert helped_comments(article) == [] and not_helped_comments(article) == []


def test_staff_see_yes_comments_on_the_article_and_readers_do_not(app, make_article, make_user):
    make_article(slug="printer-offline", title="Printer offline")
    reader = app.test_client()
    reader.post(
        "/articles/printer-offline/vote", data={"yes": "Yes", "comment": "Re-adding it worked"}
    )
    assert db.session.scalars(select(Vote.comment)).all() == ["Re-adding it worked"]
    assert "Re-adding it worked" not in reader.get("/articles/printer-offline").text

    employee = app.test_client()
    employee.post("/login", data={"email": make_user("employee").email, "password": PASSWORD})
    assert "Re-adding it worked" not in employee.get("/articles/printer-offline").text

    editor = app.test_client()
    editor.post(
        "/login", data={"email": make_user(["agent", "editor"]).email, "password": PASSWORD}
    )
    page = editor.get("/articles/printer-offline").text
    assert "What readers said helped" in staff_panel(page)
    assert "“Re-adding it worked”" in staff_panel(page)
