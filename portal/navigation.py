"""The links in the top bar, by role."""

from __future__ import annotations

from flask import Flask, current_app, url_for
from flask_login import current_user
from sqlalchemy import func, select


def nav_items() -> list[dict[str, str]]:
    from portal.articles.health import attention_count
    from portal.extensions import db
    from portal.incidents.models import OPEN_STATUSES, Incident

    if not current_user.is_authenticated:
        return []
    items = _link("incidents.mine", "My incidents")
    if current_user.is_staff:
        open_count = db.session.scalar(
            select(func.count(Incident.id)).where(Incident.status.in_(OPEN_STATUSES))
        )
        items = _link("incidents.queue", f"Queue ({open_count})") + items
        items += _inbox()
        items += _link("reports.overview", "Reports")
    if current_user.has_role("editor"):
        items += _link("articles.attention", f"Needs attention ({attention_count()})")
    if current_user.has_role("admin"):
        items += _link("admin.index", "Admin")
    return items


def _inbox() -> list[dict[str, str]]:
    """Staff see how many notifications they have not read yet."""
    from portal.notifications.inbox import unread_count

    unread = unread_count(current_user)
    label = f"Inbox ({unread} unread)" if unread else "Inbox"
    return _link("notifications.inbox", label)


def _link(endpoint: str, label: str) -> list[dict[str, str]]:
    """A link, or none while the page it leads to does not exist."""
    if endpoint not in current_app.view_functions:
        return []
    return [{"url": url_for(endpoint), "label": label}]


def register(app: Flask) -> None:
    @app.context_processor
    def _nav():
        return {"nav_items": nav_items}
