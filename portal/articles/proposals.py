"""Changes to published articles go through an editor.

An agent's edit of a live (published or archived) article is kept as a *proposed* revision:
readers keep seeing the live text until an editor approves it (then it is saved as a new live
revision) or sends it back with a comment. Visibility, category and every other field travel
with the proposal, so flipping a staff-only article to "everyone" needs an editor too.
Services flush; callers commit once.
"""

from __future__ import annotations

import difflib
from datetime import date

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.articles import mail, workflow
from portal.articles.models import (
    LIVE_STATUSES,
    Article,
    ArticleEvent,
    ArticleRevision,
)
from portal.articles.services import (
    ArticleData,
    ArticleError,
    check_categories,
    next_revision_number,
    normalise_body,
    save_article,
    to_data,
)
from portal.extensions import db
from portal.timeutil import utcnow

_FIELDS = ("slug", "category", "subcategory", "tags", "visibility", "owner_email")


def needs_review(article: Article | None, user: User | None) -> bool:
    """True when this user's edit of this article must wait for an editor."""
    return (
        article is not None
        and article.status in LIVE_STATUSES
        and workflow.role_of(user) != "editor"
    )


def is_editor(user: User | None) -> bool:
    return workflow.role_of(user) == "editor"


def propose(
    article: Article, data: ArticleData, author: User, note: str = ""
) -> ArticleRevision | None:
    """Keep an agent's edit of a live article as a proposal; None when nothing differs.

    The same validation as any save applies now, so an editor approves only what could be
    saved. The author's earlier open proposal for the article is withdrawn (one per author).
    """
    data.body_md = normalise_body(data.body_md)
    data.status = article.status
    problems = data.problems()
    if problems:
        raise ArticleError("; ".join(problems))
    if data.slug != article.slug and db.session.scalar(
        select(Article.id).where(Article.slug == data.slug)
    ):
        raise ArticleError(f"slug: '{data.slug}' is already used by another article")
    check_categories(data)
    if _comparable(data) == _comparable(to_data(article)):
        return None
    for earlier in open_proposals(article, author):
        earlier.status = "withdrawn"
        earlier.decided_at = utcnow()
        earlier.decision_note = "Replaced by a newer proposal"
    revision = ArticleRevision(
        article_id=article.id,
        number=next_revision_number(article),
        title=data.title.strip(),
        summary=(data.summary or "").strip(),
        body_md=data.body_md,
        status="proposed",
        editor=author,
        note=(note or "").strip()[:500],
        proposal={
            "slug": data.slug,
            "category": data.category or "",
            "subcategory": data.subcategory or "",
            "tags": sorted({t.strip().lower() for t in data.tags or [] if t.strip()}),
            "visibility": data.visibility,
            "owner_email": (data.owner_email or "").strip().lower(),
            "reviewed_on": data.reviewed_on.isoformat() if data.reviewed_on else None,
        },
    )
    db.session.add(revision)
    db.session.add(
        ArticleEvent(
            article_id=article.id,
            actor=author,
            action="proposed change",
            comment=f"revision {revision.number}" + (f": {revision.note}" if revision.note else ""),
        )
    )
    db.session.flush()
    return revision


def proposal_data(article: Article, revision: ArticleRevision) -> ArticleData:
    """What the article would be if the proposal were approved."""
    fields = revision.proposal or {}
    live = to_data(article)
    reviewed = fields.get("reviewed_on")
    return ArticleData(
        slug=fields.get("slug", live.slug),
        title=revision.title,
        summary=revision.summary,
        body_md=revision.body_md,
        category=fields.get("category", live.category),
        subcategory=fields.get("subcategory", live.subcategory),
        tags=list(fields.get("tags", live.tags or [])),
        visibility=fields.get("visibility", live.visibility),
        status=article.status,
        owner_email=fields.get("owner_email", live.owner_email),
        reviewed_on=date.fromisoformat(reviewed) if reviewed else live.reviewed_on,
    )


def approve(
    article: Article, revision: ArticleRevision, editor: User, comment: str = ""
) -> Article:
    """The editor accepts the proposal: it becomes the live text (a new revision)."""
    _check_decision(article, revision, editor)
    author = revision.editor.name if revision.editor else "someone"
    note = f"Approved revision {revision.number} proposed by {author}"
    if (comment or "").strip():
        note += f": {comment.strip()}"
    saved, _ = save_article(
        proposal_data(article, revision),
        editor,
        note=note,
        article=article,
        create_categories=False,
    )
    _decide(revision, editor, "approved", comment)
    db.session.add(
        ArticleEvent(
            article_id=article.id,
            actor=editor,
            action="approved change",
            comment=f"revision {revision.number}" + (f": {comment.strip()}" if comment else ""),
        )
    )
    mail.proposal_decided(saved, revision, editor, approved=True, comment=comment)
    return saved


def send_back(article: Article, revision: ArticleRevision, editor: User, comment: str) -> None:
    """The editor declines for now, saying what to change; the live text stays."""
    _check_decision(article, revision, editor)
    if not (comment or "").strip():
        raise ArticleError("say what needs changing when you send a proposal back")
    _decide(revision, editor, "returned", comment)
    db.session.add(
        ArticleEvent(
            article_id=article.id,
            actor=editor,
            action="change sent back",
            comment=f"revision {revision.number}: {comment.strip()}",
        )
    )
    mail.proposal_decided(article, revision, editor, approved=False, comment=comment)


def _check_decision(article: Article, revision: ArticleRevision, editor: User) -> None:
    if not is_editor(editor):
        raise ArticleError("only an editor can approve or send back a proposed change")
    if revision.article_id != article.id or revision.status != "proposed":
        raise ArticleError(f"revision {revision.number} is not a proposal waiting for review")


def _decide(revision: ArticleRevision, editor: User, status: str, comment: str) -> None:
    revision.status = status
    revision.decided_by = editor
    revision.decided_at = utcnow()
    revision.decision_note = (comment or "").strip()[:2000]


def open_proposals(article: Article, author: User | None = None) -> list[ArticleRevision]:
    stmt = select(ArticleRevision).where(
        ArticleRevision.article_id == article.id, ArticleRevision.status == "proposed"
    )
    if author is not None:
        stmt = stmt.where(ArticleRevision.editor_id == author.id)
    return list(db.session.scalars(stmt.order_by(ArticleRevision.number)))


def latest_of(article: Article, author: User) -> ArticleRevision | None:
    """The author's newest proposal still open or sent back (to continue from it)."""
    return db.session.scalars(
        select(ArticleRevision)
        .where(
            ArticleRevision.article_id == article.id,
            ArticleRevision.editor_id == author.id,
            ArticleRevision.status.in_(("proposed", "returned")),
        )
        .order_by(ArticleRevision.number.desc())
    ).first()


def is_stale(article: Article, revision: ArticleRevision) -> bool:
    """True when the live text was saved again after the proposal was made: approving it
    would undo that later change (the diff shows what)."""
    return any(not r.is_proposal and r.number > revision.number for r in article.revisions)


def waiting() -> list[ArticleRevision]:
    """Every proposal waiting for an editor, oldest first: the editors' review list."""
    return list(
        db.session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.status == "proposed")
            .order_by(ArticleRevision.created_at, ArticleRevision.id)
        )
    )


def waiting_count() -> int:
    return (
        db.session.scalar(
            select(func.count(ArticleRevision.id)).where(ArticleRevision.status == "proposed")
        )
        or 0
    )


def diff(article: Article, revision: ArticleRevision) -> list[tuple[str, str]]:
    """The proposal against the live article, fields first, as (kind, line) pairs."""
    old, new = to_data(article), proposal_data(article, revision)
    lines = difflib.unified_diff(
        _lines(old),
        _lines(new),
        "published",
        f"proposed (revision {revision.number})",
        lineterm="",
    )
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    return [(kinds.get(line[:1], "same"), line) for line in lines]


def _lines(data: ArticleData) -> list[str]:
    place = " / ".join(p for p in (data.category, data.subcategory) if p) or "(none)"
    return [
        f"Address: {data.slug}",
        f"Visibility: {'Everyone' if data.visibility == 'everyone' else 'Staff only'}",
        f"Category: {place}",
        f"Tags: {', '.join(sorted(data.tags or [])) or '(none)'}",
        f"Owner: {data.owner_email or '(none)'}",
        "",
        f"# {data.title}",
        "",
        *(data.summary or "").splitlines(),
        "",
        *normalise_body(data.body_md).splitlines(),
    ]


def _comparable(data: ArticleData) -> tuple:
    return (
        data.slug,
        data.title.strip(),
        (data.summary or "").strip(),
        normalise_body(data.body_md),
        data.category or "",
        data.subcategory or "",
        tuple(sorted({t.strip().lower() for t in data.tags or [] if t.strip()})),
        data.visibility,
        (data.owner_email or "").strip().lower(),
        data.reviewed_on,
    )
