"""Who may see and do what. Pages, search, counts and the API all ask here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import abort
from flask_login import current_user

if TYPE_CHECKING:
    from portal.articles.models import Article
    from portal.incidents.models import Attachment, Comment, Incident

EVERYONE = "everyone"
STAFF = "staff"


def is_staff(user: Any) -> bool:
    """True for agents, editors and admins."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_staff)


def audience(user: Any) -> str:
    """The search audience of a user: staff see staff-only articles, everyone else does not."""
    return STAFF if is_staff(user) else EVERYONE


def can_see_article(user: Any, article: Article) -> bool:
    """Published public articles for all; staff-only and unpublished ones for staff only."""
    if is_staff(user):
        return True
    return article.visibility == EVERYONE and article.status in ("published", "archived")


def can_edit_articles(user: Any) -> bool:
    return is_staff(user)


def has_role(user: Any, *roles: str) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)) and user.has_role(
        *roles
    )


def require_staff() -> None:
    """Abort with 403 unless the current user is staff (sign-in is checked before)."""
    if not is_staff(current_user):
        abort(403)


def require_role(*roles: str) -> None:
    if not has_role(current_user, *roles):
        abort(403)


def can_see_incident(user: Any, incident: Incident) -> bool:
    """Staff see every incident; an employee sees their own and those they follow."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_staff(user):
        return True
    return incident.requester_id == user.id or any(f.user_id == user.id for f in incident.followers)


def can_see_comment(user: Any, comment: Comment) -> bool:
    """Internal notes are for staff only."""
    return is_staff(user) or (not comment.is_internal and can_see_incident(user, comment.incident))


def can_see_attachment(user: Any, attachment: Attachment) -> bool:
    if attachment.is_internal and not is_staff(user):
        return False
    return can_see_incident(user, attachment.incident)


def incidents_visible_to(user: Any, stmt):
    """Narrow a select(Incident) to what the user may see."""
    from sqlalchemy import or_, select

    from portal.incidents.models import Follower, Incident

    if is_staff(user):
        return stmt
    followed = select(Follower.incident_id).where(Follower.user_id == user.id)
    return stmt.where(or_(Incident.requester_id == user.id, Incident.id.in_(followed)))
