"""Issue 11 B.7: agents change published articles only through an editor's review."""

import html
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from portal import search
from portal.access import EVERYONE
from portal.articles import proposals
from portal.articles.models import Article, ArticleRevision
from portal.articles.services import ArticleError, restore_revision, save_article, to_data
from portal.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def people(make_user):
    return {
        "agent": make_user("agent", name="Ada Agent"),
        "editor": make_user("editor", name="Eddie Editor"),
        "employee": make_user("employee"),
    }


def _as(app, user):
    c = app.test_client()
    c.post("/login", data={"email": user.email, "password": PASSWORD})
    return c


def _reload(article_id: int) -> Article:
    db.session.expire_all()
    return db.session.get(Article, article_id)


def _editor_form(client, slug: str, **changes) -> dict:
    """The editor form as the page pre-fills it, with some fields changed."""
    page = client.get(f"/articles/{slug}/edit").data.decode()
    form = {}
    for name in ("title", "slug", "tags", "owner", "reviewed", "note"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', page
        )
        form[name] = found.group(1) if found else ""
    for name in ("category", "subcategory", "visibility", "status"):
        select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
        chosen = re.search(r'<option selected value="([^"]*)"', select_html) or re.search(
            r'<option value="([^"]*)" selected', select_html
        )
        form[name] = chosen.group(1) if chosen else ""
    for name in ("summary", "body"):
        text = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\n?(.*?)</textarea>', page, re.S)
        form[name] = html.unescape(text.group(1))
    form.update(changes, save="Save")
    return form


def test_agent_edit_of_a_published_article_waits_for_an_editor(app, people, make_article):
    article = make_article(title="Printer offline", symptoms="The printer shows offline")
    agent = _as(app, people["agent"])
    form = _editor_form(
        agent,
        article.slug,
        body=to_data(article).body_md.replace("Restart the computer.", "Turn on zebrafrost mode."),
        note="newer fix",
    )
    response = agent.post(f"/articles/{article.slug}/edit", data=form)
    assert response.status_code == 302
    sent = agent.get(response.location).data.decode()

    # Employees, the signed-out, the API and search still get the published text.
    employee = _as(app, people["employee"])
    for reader in (employee, app.test_client()):
        page = reader.get(f"/articles/{article.slug}").data.decode()
        assert "Restart the computer." in page and "zebrafrost" not in page
        assert "zebrafrost" not in reader.get(f"/api/v1/articles/{article.slug}").data.decode()
    assert search.search("zebrafrost", EVERYONE).total == 0
    assert "Restart the computer." in _reload(article.id).body_md
    assert "Sent to the editors for review" in sent

    # The editor sees it in the review list, with the diff against the live text.
    editor = _as(app, people["editor"])
    attention = editor.get("/articles/attention").data.decode()
    assert "Proposed changes to published articles (1)" in attention
    link = re.search(r'href="(/articles/[^"]+/proposals/\d+)"', attention).group(1)
    review = editor.get(link).data.decode()
    assert "Ada Agent" in review and "newer fix" in review
    assert "-1. Restart the computer." in review and "+1. Turn on zebrafrost mode." in review

    response = editor.post(link, data={"approve": "Approve and publish"})
    assert response.status_code == 302
    for reader in (employee, app.test_client()):
        assert "zebrafrost" in reader.get(f"/articles/{article.slug}").data.decode()
    assert search.search("zebrafrost", EVERYONE).hits[0].slug == article.slug
    assert "Proposed changes to published articles (0)" in editor.get("/articles/attention").text
    history = editor.get(f"/articles/{article.slug}/history").data.decode()
    assert "Approved revision 2 proposed by Ada Agent" in history


def test_agent_cannot_flip_a_staff_only_article_to_everyone(app, people, make_article):
    article = make_article(title="Directory unlock", visibility="staff", symptoms="kelpwhistle")
    agent = _as(app, people["agent"])
    form = _editor_form(agent, article.slug, visibility="everyone")
    assert agent.post(f"/articles/{article.slug}/edit", data=form).status_code == 302
    assert _reload(article.id).visibility == "staff"
    employee = _as(app, people["employee"])
    assert employee.get(f"/articles/{article.slug}").status_code == 404
    assert app.test_client().get(f"/api/v1/articles/{article.slug}").status_code == 404
    assert search.search("kelpwhistle", EVERYONE).total == 0

    proposal = proposals.waiting()[0]
    lines = [line for _, line in proposals.diff(_reload(article.id), proposal)]
    assert "-Visibility: Staff only" in lines and "+Visibility: Everyone" in lines
    # Only when an editor approves does it reach employees.
    _as(app, people["editor"]).post(
        f"/articles/{article.slug}/proposals/{proposal.number}", data={"approve": "Approve"}
    )
    assert employee.get(f"/articles/{article.slug}").status_code == 200


def test_agent_cannot_restore_an_old_revision(app, people, make_article):
    article = make_article(title="VPN setup")
    save_article(
        replace(to_data(article), title="VPN setup (new client)"), people["editor"], article=article
    )
    db.session.commit()
    agent = _as(app, people["agent"])
    assert agent.post(f"/articles/{article.slug}/restore/1").status_code == 403
    assert _reload(article.id).title == "VPN setup (new client)"
    assert "Restore</button>" not in agent.get(f"/articles/{article.slug}/history").text
    with pytest.raises(ArticleError, match="only an editor"):
        restore_revision(article, article.revisions[-1], people["agent"])
    assert (
        "Restore</button>"
        in _as(app, people["editor"]).get(f"/articles/{article.slug}/history").data.decode()
    )


def test_services_refuse_an_agent_saving_a_live_article(people, make_article):
    article = make_article(title="Printer jam")
    data = to_data(article)
    data.title = "Printer jam, fixed live"
    with pytest.raises(ArticleError, match="editor must review"):
        save_article(data, people["agent"], article=article)
    db.session.rollback()
    assert _reload(article.id).title == "Printer jam"


def test_agent_cannot_approve_and_send_back_needs_a_comment(app, people, make_article):
    article = make_article(title="Badge reader")
    agent = _as(app, people["agent"])
    agent.post(
        f"/articles/{article.slug}/edit",
        data=_editor_form(agent, article.slug, title="Badge reader broken", note="title"),
    )
    number = proposals.waiting()[0].number
    url = f"/articles/{article.slug}/proposals/{number}"
    assert agent.post(url, data={"approve": "Approve"}).status_code == 403
    assert "Approve and publish" not in agent.get(url).text  # the agent sees it, no buttons
    assert _reload(article.id).title == "Badge reader"

    editor = _as(app, people["editor"])
    editor.post(url, data={"send_back": "Send back"})
    assert proposals.waiting_count() == 1  # a comment is required
    editor.post(url, data={"send_back": "Send back", "comment": "Name the reader model"})
    assert proposals.waiting_count() == 0
    assert _reload(article.id).title == "Badge reader"
    # The agent picks up where they left off and reads why.
    page = agent.get(f"/articles/{article.slug}/edit").data.decode()
    assert "Name the reader model" in page and 'value="Badge reader broken"' in page
    assert "Badge reader broken" not in app.test_client().get(f"/articles/{article.slug}").text


def test_a_newer_proposal_replaces_the_agents_earlier_one(app, people, make_article):
    article = make_article(title="Wifi drops")
    agent = _as(app, people["agent"])
    for title in ("Wifi drops often", "Wifi drops every hour"):
        agent.post(
            f"/articles/{article.slug}/edit", data=_editor_form(agent, article.slug, title=title)
        )
    assert [r.title for r in proposals.waiting()] == ["Wifi drops every hour"]
    statuses = db.session.scalars(
        select(ArticleRevision.status).where(ArticleRevision.article_id == article.id)
    ).all()
    assert sorted(statuses) == ["proposed", "published", "withdrawn"]


def test_agent_still_edits_drafts_directly(app, people, make_article):
    draft = make_article(title="Draft about scanners", status="draft")
    agent = _as(app, people["agent"])
    agent.post(
        f"/articles/{draft.slug}/edit",
        data=_editor_form(agent, draft.slug, title="Scanner sends blank pages"),
    )
    assert _reload(draft.id).title == "Scanner sends blank pages"
    assert proposals.waiting_count() == 0


def test_editor_edits_go_live_at_once(app, people, make_article):
    article = make_article(title="Teams camera")
    editor = _as(app, people["editor"])
    editor.post(
        f"/articles/{article.slug}/edit",
        data=_editor_form(editor, article.slug, title="Teams camera is black"),
    )
    assert _reload(article.id).title == "Teams camera is black"
    assert proposals.waiting_count() == 0


def test_review_page_warns_when_the_live_text_moved_on(app, people, make_article):
    article = make_article(title="Laptop dock")
    agent = _as(app, people["agent"])
    agent.post(
        f"/articles/{article.slug}/edit",
        data=_editor_form(agent, article.slug, title="Laptop dock has no display"),
    )
    number = proposals.waiting()[0].number
    editor = _as(app, people["editor"])
    url = f"/articles/{article.slug}/proposals/{number}"
    assert 'id="stale"' not in editor.get(url).text
    editor.post(
        f"/articles/{article.slug}/edit",
        data=_editor_form(editor, article.slug, summary="Docks from 2025 need new firmware"),
    )
    page = editor.get(url).text
    assert 'id="stale"' in page and "-Docks from 2025 need new firmware" in page


@pytest.mark.parametrize("who", ["anonymous", "employee", "agent", "editor"])
def test_who_may_see_and_decide_a_proposal(app, people, make_article, who):
    article = make_article(title="Monitor flickers")
    author = _as(app, people["agent"])
    author.post(
        f"/articles/{article.slug}/edit",
        data=_editor_form(author, article.slug, title="Monitor flickers at 60 Hz"),
    )
    number = proposals.waiting()[0].number
    client = app.test_client() if who == "anonymous" else _as(app, people[who])
    proposal_url = f"/articles/{article.slug}/proposals/{number}"
    seen = client.get(proposal_url)
    approve = client.post(proposal_url, data={"approve": "Approve"})
    live_after_approve = _reload(article.id).title
    restore = client.post(f"/articles/{article.slug}/restore/1")
    edit = client.get(f"/articles/{article.slug}/edit")
    if who == "anonymous":
        for response in (seen, approve, restore, edit):
            assert response.status_code == 302 and "/login" in response.location
    elif who == "employee":
        assert [r.status_code for r in (seen, approve, restore, edit)] == [403] * 4
    elif who == "agent":
        assert seen.status_code == 200 and "60 Hz" in seen.text
        assert approve.status_code == 403 and restore.status_code == 403
        assert 'id="review-notice"' in edit.text
    else:
        assert seen.status_code == 200 and approve.status_code == 302
        assert live_after_approve == "Monitor flickers at 60 Hz"
        assert restore.status_code == 302  # editors restore: back to revision 1
        assert 'id="review-notice"' not in edit.text
    if who != "editor":  # nobody but an editor changed what readers see
        assert live_after_approve == _reload(article.id).title == "Monitor flickers"
        assert "60 Hz" not in app.test_client().get(f"/articles/{article.slug}").text
    assert _reload(article.id).title == "Monitor flickers"
