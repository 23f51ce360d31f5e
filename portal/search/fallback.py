"""A plain database search for when this node's index cannot answer (missing, damaged,
being rebuilt): searches keep working, plainer, and say so.

Each word the user typed is looked for in the title, summary and body (case-insensitive
substring); articles matching more words, and in their title, come first. No stemming,
highlighting or did-you-mean. The audience rule is the index's: staff-only articles only for
staff, published articles only.
"""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import case, literal, or_, select
from sqlalchemy.orm import selectinload

from portal.access import EVERYONE, STAFF
from portal.articles.models import Article, Category
from portal.extensions import db
from portal.search import Hit, SearchResults
from portal.search import query as q

NOTICE = "Search is running in a simpler mode for a moment: results may be less precise than usual."
MAX_WORDS = 8  # each word is a scan of every article's text


def search(
    parsed: q.ParsedQuery,
    audience: str,
    category: str | None,
    page: int,
    per_page: int,
    facets: bool,
) -> SearchResults:
    """Published articles the audience may see that contain the query's words."""
    results = SearchResults(
        query=parsed.text, total=0, page=page, per_page=per_page, suggestion=None, notice=NOTICE
    )
    words = (parsed.words + parsed.prefixes)[:MAX_WORDS]
    if not words:
        return results
    score = sum(
        (
            case((Article.title.icontains(w, autoescape=True), 3), else_=0)
            + case((_anywhere(w), 1), else_=0)
            for w in words
        ),
        literal(0),
    ).label("score")
    visible = [EVERYONE, STAFF] if audience == STAFF else [EVERYONE]
    stmt = select(Article.id, Article.category_id, score).where(
        Article.status == "published",
        Article.visibility.in_(visible),
        or_(*(_anywhere(w) for w in words)),
    )
    rows = db.session.execute(stmt).all()
    if facets:
        slugs = _category_slugs({r.category_id for r in rows})
        for row in rows:
            slug = slugs.get(row.category_id)
            if slug:
                results.facets[slug] = results.facets.get(slug, 0) + 1
    if category:
        # PostgreSQL refuses a NUL in a query; no slug holds one
        wanted = None
        if "\x00" not in category:
            wanted = db.session.scalar(select(Category.id).where(Category.slug == category))
        rows = [r for r in rows if r.category_id == wanted]
    results.total = len(rows)
    pages = max(1, -(-results.total // per_page))
    offset = (min(page, pages) - 1) * per_page
    ranked = sorted(rows, key=lambda r: (-r.score, r.id))[offset : offset + per_page]
    articles = _load([r.id for r in ranked])
    results.hits = [_hit(articles[r.id], r.score) for r in ranked if r.id in articles]
    return results


def _anywhere(word: str):
    return or_(
        Article.title.icontains(word, autoescape=True),
        Article.summary.icontains(word, autoescape=True),
        Article.body_md.icontains(word, autoescape=True),
    )


def _category_slugs(ids: set[int | None]) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    rows = db.session.execute(select(Category.id, Category.slug).where(Category.id.in_(ids)))
    return {row.id: row.slug for row in rows}


def _load(ids: list[int]) -> dict[int, Article]:
    if not ids:
        return {}
    stmt = (
        select(Article)
        .where(Article.id.in_(ids))
        .options(selectinload(Article.category), selectinload(Article.subcategory))
    )
    return {a.id: a for a in db.session.scalars(stmt)}


def _hit(article: Article, score: int) -> Hit:
    category, sub = article.category, article.subcategory
    return Hit(
        article_id=article.id,
        slug=article.slug,
        title=article.title,
        summary=article.summary or "",
        category=category.name if category else "",
        category_slug=category.slug if category else "",
        subcategory=sub.name if sub else "",
        subcategory_slug=sub.slug if sub else "",
        snippet=escape(article.summary or ""),
        score=float(score),
    )
