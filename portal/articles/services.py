"""The verbs of the knowledge base: save, vote, look up. Services flush; callers commit once."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from portal import access, writebehind
from portal import markdown as md
from portal.accounts.models import User
from portal.articles import checks, workflow
from portal.articles.models import (
    LIVE_STATUSES,
    Article,
    ArticleEvent,
    ArticleFlag,
    ArticleRevision,
    Category,
    Tag,
    Vote,
)
from portal.extensions import db
from portal.search import record_change
from portal.timeutil import utcnow

SLUG_RE = checks.SLUG_RE


class ArticleError(ValueError):
    """A reason an article cannot be saved, fit to show to the person saving it."""


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120] or "item"


def find_category(name: str, parent: Category | None = None) -> Category | None:
    """A (sub)category by name under its parent, ignoring case and repeated spaces."""
    name = " ".join(name.split())
    stmt = select(Category).where(func.lower(Category.name) == name.lower())
    stmt = stmt.where(
        Category.parent_id == parent.id if parent is not None else Category.parent_id.is_(None)
    )
    return db.session.scalars(stmt).first()


def get_or_create_category(name: str, parent: Category | None = None) -> Category:
    """Find a (sub)category by name under its parent, creating it when missing."""
    name = " ".join(name.split())
    category = find_category(name, parent)
    if category is None:
        base = slugify(name) if parent is None else f"{parent.slug}-{slugify(name)}"
        slug, n = base, 2
        while db.session.scalar(select(Category.id).where(Category.slug == slug)):
            slug, n = f"{base}-{n}", n + 1
        category = Category(name=name, slug=slug, parent=parent)
        db.session.add(category)
        db.session.flush()
    return category


def _tags(names: list[str]) -> list[Tag]:
    wanted = list(dict.fromkeys(n.strip().lower() for n in names if n and n.strip()))
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    tags = []
    for name in wanted:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name[:60])
            db.session.add(tag)
        tags.append(tag)
    return tags


@dataclass
class ArticleData:
    """Everything an article is saved from: a form, a file or the API."""

    slug: str
    title: str
    summary: str
    body_md: str
    category: str = ""
    subcategory: str = ""
    tags: list[str] | None = None
    visibility: str = "everyone"
    status: str = "draft"
    owner_email: str | None = None
    reviewed_on: date | None = None

    def problems(self) -> list[str]:
        """The shared validation (portal/articles/checks.py): editor, import, API, drafts."""
        return checks.problems(self)


def normalise_body(text: str) -> str:
    """The one stored form of a body (Unix line ends, one final newline), so a body read
    back from an exported file is byte-for-byte the body that was saved."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return text.strip("\n") + "\n" if text.strip() else ""


def save_article(
    data: ArticleData,
    editor: User | None,
    note: str = "",
    article: Article | None = None,
    *,
    new: bool = False,
    create_categories: bool = True,
) -> tuple[Article, bool]:
    """Create or update an article and keep a revision when anything changed.

    Without ``article`` the slug finds the article to update (imports), unless ``new`` says
    the caller means a new one. Returns the article and whether it changed. Writes a search
    outbox row in the same transaction, so the index follows the commit. The editor and
    the API pass ``create_categories=False``: they choose from the existing tree (a typed
    "Printing & scanning" once made a second top-level category); imports may grow it.
    """
    data.body_md = normalise_body(data.body_md)
    problems = data.problems()
    if problems:
        raise ArticleError("; ".join(problems))
    if article is None:
        article = db.session.scalars(select(Article).where(Article.slug == data.slug)).first()
        if article is not None and new:
            raise ArticleError(f"slug: '{data.slug}' is already used by another article")
    elif data.slug != article.slug:
        clash = db.session.scalar(select(Article.id).where(Article.slug == data.slug))
        if clash:
            raise ArticleError(f"slug: '{data.slug}' is already used by another article")
    if (
        article is not None
        and editor is not None
        and article.status in LIVE_STATUSES
        and workflow.role_of(editor) != "editor"
    ):
        # Agents propose (portal/articles/proposals.py); only editors change what readers see.
        raise ArticleError("an editor must review changes to a published article")
    category, sub = _categories(data, create_categories)
    tags = _tags(data.tags or [])
    is_new = article is None
    if is_new:
        article = Article(slug=data.slug)
    before = _fingerprint(article) if not is_new else None
    article.slug = data.slug
    article.title = data.title.strip()
    article.summary = (data.summary or "").strip()
    if article.body_md != data.body_md or not article.body_html:
        article.body_md = data.body_md
        article.body_html = md.render(data.body_md)
    article.category = category
    article.subcategory = sub
    article.tags = tags
    article.visibility = data.visibility
    if data.status == "published" and article.status != "published":
        article.published_at = utcnow()
    article.status = data.status
    if data.owner_email is not None:
        article.owner_email = data.owner_email.strip().lower()
    if data.reviewed_on is not None:
        article.reviewed_on = data.reviewed_on
    changed = is_new or _fingerprint(article) != before
    if is_new:
        db.session.add(article)
    if changed:
        db.session.flush()
        _add_revision(article, editor, note)
        record_change(db.session, article.id)
    return article, changed


def check_categories(data: ArticleData) -> tuple[Category | None, Category | None]:
    """The chosen category and subcategory from the existing tree, or ArticleError."""
    return _categories(data, create=False)


def _categories(data: ArticleData, create: bool) -> tuple[Category | None, Category | None]:
    if create:
        category = get_or_create_category(data.category) if data.category else None
        sub = get_or_create_category(data.subcategory, category) if data.subcategory else None
        return category, sub
    category = find_category(data.category) if data.category else None
    if data.category and category is None:
        raise ArticleError(f"category: there is no category '{data.category}'; choose one")
    sub = find_category(data.subcategory, category) if data.subcategory else None
    if data.subcategory and sub is None:
        raise ArticleError(
            f"subcategory: '{data.subcategory}' is not a subcategory of '{data.category}'"
        )
    return category, sub


def _fingerprint(article: Article) -> tuple:
    return (
        article.slug,
        article.title,
        article.summary,
        article.body_md,
        article.category.name if article.category else None,
        article.subcategory.name if article.subcategory else None,
        tuple(sorted(article.tag_names)),
        article.visibility,
        article.status,
        article.owner_email,
        article.reviewed_on,
    )


def next_revision_number(article: Article) -> int:
    return (
        db.session.scalar(
            select(func.max(ArticleRevision.number)).where(ArticleRevision.article_id == article.id)
        )
        or 0
    ) + 1


def _add_revision(article: Article, editor: User | None, note: str) -> ArticleRevision:
    revision = ArticleRevision(
        article_id=article.id,
        number=next_revision_number(article),
        title=article.title,
        summary=article.summary,
        body_md=article.body_md,
        status=article.status,
        editor=editor,
        note=(note or "").strip()[:500],
    )
    db.session.add(revision)
    return revision


def restore_revision(article: Article, revision: ArticleRevision, editor: User) -> Article:
    """Bring back an earlier revision's text as a new revision (history is never rewritten).

    Editors only: restoring changes what readers see. A proposal is approved, not restored."""
    if workflow.role_of(editor) != "editor":
        raise ArticleError("only an editor can restore an earlier revision")
    if revision.is_proposal or revision.article_id != article.id:
        raise ArticleError(f"revision {revision.number} is a proposal; approve it instead")
    data = to_data(article)
    data.title, data.summary, data.body_md = revision.title, revision.summary, revision.body_md
    saved, _ = save_article(
        data, editor, note=f"Restored revision {revision.number}", article=article
    )
    return saved


def to_data(article: Article) -> ArticleData:
    return ArticleData(
        slug=article.slug,
        title=article.title,
        summary=article.summary,
        body_md=article.body_md,
        category=article.category.name if article.category else "",
        subcategory=article.subcategory.name if article.subcategory else "",
        tags=article.tag_names,
        visibility=article.visibility,
        status=article.status,
        owner_email=article.owner_email,
        reviewed_on=article.reviewed_on,
    )


# -- reading ---------------------------------------------------------------------------


def visible_articles_stmt(user):
    """Articles a user may list: published, and staff-only ones only for staff."""
    stmt = select(Article).where(Article.status == "published")
    if not access.is_staff(user):
        stmt = stmt.where(Article.visibility == "everyone")
    return stmt


def category_counts(user) -> list[tuple[Category, int]]:
    """Top-level categories with the number of published articles the user may see; a
    category with nothing the user may see is left out (its name alone would leak)."""
    visible = visible_articles_stmt(user).subquery()
    rows = db.session.execute(
        select(Category, func.count(visible.c.id))
        .outerjoin(visible, visible.c.category_id == Category.id)
        .where(Category.parent_id.is_(None))
        .group_by(Category.id)
        .having(func.count(visible.c.id) > 0)
        .order_by(Category.name)
    ).all()
    return [(category, count) for category, count in rows]


def most_helpful(user, limit: int = 5) -> list[Article]:
    stmt = (
        visible_articles_stmt(user)
        .where(Article.helpful_count > 0)
        .order_by(Article.helpful_count.desc(), Article.title)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def helped_counts(article_ids: list[int]) -> dict[int, int]:
    if not article_ids:
        return {}
    rows = db.session.execute(
        select(Article.id, Article.helpful_count).where(Article.id.in_(article_ids))
    )
    return dict(rows.all())


def get_article(slug: str) -> Article | None:
    return db.session.scalars(
        select(Article)
        .where(Article.slug == slug)
        .options(selectinload(Article.category), selectinload(Article.subcategory))
    ).first()


def record_view(article: Article) -> None:
    """Count a view in the background (a reader never waits for the write lock)."""
    article_id = article.id
    writebehind.submit(
        lambda s: s.execute(
            update(Article).where(Article.id == article_id).values(views=Article.views + 1)
        )
    )


# -- votes -----------------------------------------------------------------------------


def cast_vote(
    article: Article, voter_key: str, helpful: bool, user: User | None = None, comment: str = ""
) -> Vote:
    """One vote per voter and article; voting again changes the earlier vote."""
    vote = db.session.scalars(
        select(Vote).where(Vote.article_id == article.id, Vote.voter_key == voter_key)
    ).first()
    if vote is None:
        vote = Vote(
            article_id=article.id,
            voter_key=voter_key,
            user_id=user.id if user else None,
            helpful=helpful,
            comment=comment,
        )
        db.session.add(vote)
    else:
        # A comment belongs to the answer it was left with: changing Yes to No (or back)
        # without a new comment drops the old one rather than showing it under the wrong side.
        if comment or vote.helpful != helpful:
            vote.comment = comment
        vote.helpful = helpful
    db.session.flush()
    _recount_votes(article)
    return vote


def _recount_votes(article: Article) -> None:
    counts = dict(
        db.session.execute(
            select(Vote.helpful, func.count())
            .where(Vote.article_id == article.id)
            .group_by(Vote.helpful)
        ).all()
    )
    article.helpful_count = counts.get(True, 0)
    article.not_helpful_count = counts.get(False, 0)


def voter_vote(article: Article, voter_key: str | None) -> Vote | None:
    if not voter_key:
        return None
    return db.session.scalars(
        select(Vote).where(Vote.article_id == article.id, Vote.voter_key == voter_key)
    ).first()


# -- workflow and health ---------------------------------------------------------------


def transition(
    article: Article,
    target: str,
    user: User,
    comment: str = "",
    replaced_by: Article | None = None,
) -> ArticleEvent:
    """Move an article through the editorial workflow and record the step in its history."""
    try:
        workflow.check(article.status, target, user)
    except workflow.WorkflowError as exc:
        raise ArticleError(str(exc)) from exc
    old = article.status
    if (old, target) == ("review", "draft") and not (comment or "").strip():
        raise ArticleError("say what needs changing when you send an article back")
    if replaced_by is not None and replaced_by.id == article.id:
        raise ArticleError("an article cannot replace itself")
    if target == "published":
        refused = checks.publish_message_for(to_data(article))
        if refused:
            raise ArticleError(refused)
    article.status = target
    if target == "published":
        article.published_at = utcnow()
        article.reviewed_by = user
        article.reviewed_on = utcnow().date()
    if target == "archived":
        article.replaced_by = replaced_by
    event = ArticleEvent(
        article_id=article.id,
        actor=user,
        action=workflow.action(old, target),
        from_status=old,
        to_status=target,
        comment=(comment or "").strip()[:2000],
    )
    db.session.add(event)
    record_change(db.session, article.id)
    return event


def flag(article: Article, user: User, reason: str) -> ArticleFlag:
    """An agent's "flag it or fix it": the article is wrong or out of date."""
    if not (reason or "").strip():
        raise ArticleError("say what is wrong with the article")
    item = ArticleFlag(article_id=article.id, user=user, reason=reason.strip()[:2000])
    db.session.add(item)
    db.session.add(
        ArticleEvent(article_id=article.id, actor=user, action="flagged", comment=item.reason)
    )
    return item


def resolve_flags(article: Article, user: User) -> int:
    """Mark the article's open flags as dealt with."""
    open_flags = db.session.scalars(
        select(ArticleFlag).where(
            ArticleFlag.article_id == article.id, ArticleFlag.resolved_at.is_(None)
        )
    ).all()
    for item in open_flags:
        item.resolved_at = utcnow()
        item.resolved_by_id = user.id
    if open_flags:
        db.session.add(ArticleEvent(article_id=article.id, actor=user, action="flags resolved"))
    return len(open_flags)


def open_flags(article: Article) -> list[ArticleFlag]:
    return list(
        db.session.scalars(
            select(ArticleFlag)
            .where(ArticleFlag.article_id == article.id, ArticleFlag.resolved_at.is_(None))
            .order_by(ArticleFlag.id)
        )
    )


def article_events(article: Article) -> list[ArticleEvent]:
    return list(
        db.session.scalars(
            select(ArticleEvent)
            .where(ArticleEvent.article_id == article.id)
            .order_by(ArticleEvent.id.desc())
        )
    )


def gap_body(queries: list[str]) -> str:
    """A draft body for a knowledge gap: the searchers' words become its Symptoms."""
    bullets = "\n".join(f'- People searched for "{q}"' for q in queries if q.strip())
    return (
        f"## Symptoms\n\n{bullets or '- ' + checks.GAP_SYMPTOMS_PLACEHOLDER}\n\n"
        f"## Applies to\n\n- {checks.GAP_APPLIES_TO_PLACEHOLDER}\n\n"
        f"## Cause\n\n{checks.GAP_CAUSE_PLACEHOLDER}\n\n"
        f"## Resolution\n\n1. {checks.GAP_STEP_PLACEHOLDER}\n"
        "2. If this did not help, raise an incident.\n"
    )
