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


# How a person stands to an incident. Staff see everything; the requester and colleagues
# they shared it with see all of it but internal notes; a follower (someone with the same
# problem) sees only its public view: title, status, the desk's updates for followers, the
# solution and the history of those, never the requester's words, files or address.
STAFF_VIEW = "staff"
REQUESTER = "requester"
SHARED = "shared"
FOLLOWER = "follower"
FULL_VIEW = (STAFF_VIEW, REQUESTER, SHARED)


def incident_relation(user: Any, incident: Incident) -> str | None:
    """staff, requester, shared, follower, or None for someone who may not see it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if is_staff(user):
        return STAFF_VIEW
    if incident.requester_id == user.id:
        return REQUESTER
    # Rows added in this session have no user_id until the flush: compare the user too.
    if any(s.user_id == user.id or s.user is user for s in incident.shares):
        return SHARED
    if any(f.user_id == user.id or f.user is user for f in incident.followers):
        return FOLLOWER
    return None


def can_see_incident(user: Any, incident: Incident) -> bool:
    """Whether the incident exists for this user at all (its public view, at least)."""
    return incident_relation(user, incident) is not None


def can_see_incident_details(user: Any, incident: Incident) -> bool:
    """The requester's words, files, address and conversation: staff, the requester and
    the colleagues they shared it with; never a follower."""
    return incident_relation(user, incident) in FULL_VIEW


def can_see_comment(user: Any, comment: Comment) -> bool:
    """Internal notes are for staff only; a follower reads only the updates for followers."""
    if is_staff(user):
        return True
    if comment.is_internal:
        return False
    relation = incident_relation(user, comment.incident)
    return relation in FULL_VIEW or (relation == FOLLOWER and comment.for_followers)


def can_see_attachment(user: Any, attachment: Attachment) -> bool:
    """Files are the requester's and the desk's: never a follower's to download."""
    if attachment.is_internal and not is_staff(user):
        return False
    return can_see_incident_details(user, attachment.incident)


def incidents_visible_to(user: Any, stmt):
    """Narrow a select(Incident) to what the user may see (followed ones included, as their
    public view: callers showing more than title and status ask can_see_incident_details)."""
    from sqlalchemy import or_, select

    from portal.incidents.models import Follower, Incident, Share

    if is_staff(user):
        return stmt
    followed = select(Follower.incident_id).where(Follower.user_id == user.id)
    shared = select(Share.incident_id).where(Share.user_id == user.id)
    return stmt.where(
        or_(Incident.requester_id == user.id, Incident.id.in_(followed), Incident.id.in_(shared))
    )
