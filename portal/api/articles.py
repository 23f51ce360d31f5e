"""Search and articles in JSON."""

from __future__ import annotations

from flask import abort, current_app, jsonify, request, url_for
from flask_login import current_user

from portal import access, search
from portal.analytics import events
from portal.api import bp
from portal.api.auth import error
from portal.articles.services import get_article
from portal.timeutil import as_utc


def _int_arg(name: str, default: int, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


@bp.get("/search")
def api_search():
    """Search published articles the caller may see."""
    text = request.args.get("q", "")
    page = _int_arg("page", 1, 1, 1000)
    if page is None:
        return error(400, "page must be a whole number from 1 to 1000", "page")
    per_page = _int_arg("per_page", current_app.config["SEARCH_PER_PAGE"], 1, 50)
    if per_page is None:
        return error(400, "per_page must be a whole number from 1 to 50", "per_page")
    source = request.args.get("source")
    if source is not None and source != "live":
        return error(400, "source must be 'live' when given", "source")
    results = search.search(
        text,
        access.audience(current_user),
        category=request.args.get("category") or None,
        page=page,
        per_page=per_page,
    )
    if source != "live":  # live suggestions while typing are not searches
        events.record_search(text, results.total, source="api")
    elif request.args.get("details"):  # the incident form: its title, then its description
        results.hits = search.suggestions(
            text, request.args["details"][:500], access.audience(current_user)
        )
        results.related = []
    return jsonify(
        {
            "query": results.query,
            "total": results.total,
            "page": results.page,
            "per_page": results.per_page,
            "suggestion": results.suggestion,
            "notice": results.notice,
            "results": [_hit_json(hit) for hit in results.hits],
            "related": [_hit_json(hit) for hit in results.related],
        }
    )


def _hit_json(hit: search.Hit) -> dict:
    return {
        "slug": hit.slug,
        "title": hit.title,
        "summary": hit.summary,
        "category": hit.category,
        "subcategory": hit.subcategory,
        "url": url_for("articles.article_page", slug=hit.slug, _external=True),
        "snippet": str(hit.snippet),
        "score": hit.score,
    }


@bp.get("/articles/<slug>")
def api_article(slug: str):
    """One article with its Markdown and its sanitised HTML."""
    # A NUL cannot be in a slug, and PostgreSQL refuses it in a query (a 500).
    article = get_article(slug) if "\x00" not in slug else None
    if article is None or not access.can_see_article(current_user, article):
        abort(404, description=f"No article '{slug}'.")
    return jsonify(
        {
            "slug": article.slug,
            "title": article.title,
            "summary": article.summary,
            "category": article.category.name if article.category else None,
            "subcategory": article.subcategory.name if article.subcategory else None,
            "tags": article.tag_names,
            "visibility": article.visibility,
            "status": article.status,
            "reviewed": article.reviewed_on.isoformat() if article.reviewed_on else None,
            "helpful": article.helpful_count,
            "not_helpful": article.not_helpful_count,
            "markdown": article.body_md,
            "html": article.body_html,
            "url": url_for("articles.article_page", slug=article.slug, _external=True),
            "updated_at": _when(article.updated_at),
        }
    )


def _when(value) -> str | None:
    """ISO 8601 with its UTC offset (SQLite hands back naive datetimes)."""
    value = as_utc(value)
    return value.isoformat() if value is not None else None
