"""Article health for editors: what needs attention in the library, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from portal import settings
from portal.articles.models import Article, ArticleFlag, Vote
from portal.extensions import db

MIN_VOTES = 3


@dataclass
class Attention:
    not_helped: list[tuple[Article, list[str]]] = field(default_factory=list)
    flagged: list[tuple[Article, list[ArticleFlag]]] = field(default_factory=list)
    overdue: list[tuple[Article, date | None]] = field(default_factory=list)
    waiting: list[Article] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.not_helped) + len(self.flagged) + len(self.overdue) + len(self.waiting)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    last = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return date(year, month, min(day.day, last))


def review_due(article: Article) -> date | None:
    """When the article should be reviewed again (per-article override, else the default)."""
    months = article.review_months or int(settings.get("review_months"))
    start = article.reviewed_on or (article.published_at.date() if article.published_at else None)
    return add_months(start, months) if start else None


def vote_comments(article: Article, helpful: bool, limit: int = 20) -> list[str]:
    """What readers wrote with their Yes or No, newest first: for staff reviewing feedback."""
    return list(
        db.session.scalars(
            select(Vote.comment)
            .where(Vote.article_id == article.id, Vote.helpful.is_(helpful), Vote.comment != "")
            .order_by(Vote.updated_at.desc(), Vote.id.desc())
            .limit(limit)
        )
    )


def not_helped_comments(article: Article) -> list[str]:
    return vote_comments(article, helpful=False)


def helped_comments(article: Article) -> list[str]:
    return vote_comments(article, helpful=True)


def needs_attention(today: date | None = None) -> Attention:
    """Articles failing readers, flagged by agents, past their review date, or awaiting review."""
    today = today or date.today()
    result = Attention()
    threshold = float(settings.get("not_helpful_threshold"))
    total = Article.helpful_count + Article.not_helpful_count
    for article in db.session.scalars(
        select(Article)
        .where(Article.status == "published", Article.not_helpful_count >= MIN_VOTES)
        .where(Article.not_helpful_count >= total * threshold)
        .order_by(Article.not_helpful_count.desc())
    ):
        result.not_helped.append((article, not_helped_comments(article)))
    flags = db.session.scalars(
        select(ArticleFlag).where(ArticleFlag.resolved_at.is_(None)).order_by(ArticleFlag.id)
    ).all()
    by_article: dict[int, list[ArticleFlag]] = {}
    for flag in flags:
        by_article.setdefault(flag.article_id, []).append(flag)
    if by_article:
        articles = db.session.scalars(select(Article).where(Article.id.in_(by_article))).all()
        result.flagged = [(a, by_article[a.id]) for a in articles]
    for article in db.session.scalars(
        select(Article).where(Article.status == "published").order_by(Article.reviewed_on)
    ):
        due = review_due(article)
        if due is None or due <= today:
            result.overdue.append((article, due))
    result.waiting = list(
        db.session.scalars(
            select(Article).where(Article.status == "review").order_by(Article.updated_at)
        )
    )
    return result


def attention_count() -> int:
    """Drafts and proposed changes waiting for review, and open flags: the number on the
    editor's menu."""
    from portal.articles.proposals import waiting_count

    waiting = db.session.scalar(select(func.count(Article.id)).where(Article.status == "review"))
    flagged = db.session.scalar(
        select(func.count(func.distinct(ArticleFlag.article_id))).where(
            ArticleFlag.resolved_at.is_(None)
        )
    )
    return (waiting or 0) + (flagged or 0) + waiting_count()
