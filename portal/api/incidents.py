"""Incidents and their conversation in JSON: raise, read, list, comment, post an update."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal import access
from portal.accounts.services import user_for_token
from portal.api import bp
from portal.api.articles import _int_arg
from portal.api.auth import error
from portal.articles.models import Category
from portal.articles.services import visible_articles_stmt
from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import LEVELS, OPEN_STATUSES, STATUSES, Comment, Incident
from portal.timeutil import as_utc

PER_PAGE = 25
PER_PAGE_MAX = 100
RAISE_FIELDS = {
    "title": str,
    "description": str,
    "category": str,
    "subcategory": str,
    "impact": str,
    "urgency": str,
}
COMMENT_FIELDS = {"body": str, "internal": bool}
UPDATE_FIELDS = {"body": str}
REQUIRED_TEXT = ("title", "description", "body")  # must hold more than white space
MINE = ("1", "0")


class _Invalid(ValueError):
    """A request body that cannot be read, with the field at fault when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# -- views -----------------------------------------------------------------------------


@bp.post("/incidents")
def api_raise_incident():
    """Raise an incident as the token's owner; impact and urgency are a proposal."""
    _require_token()
    try:
        data = _body(RAISE_FIELDS, required=("title", "description"))
        category, subcategory = _categories(data.get("category"), data.get("subcategory"))
        for name in ("impact", "urgency"):
            if name in data and data[name] not in LEVELS:
                raise _Invalid(f"{name} must be one of {', '.join(LEVELS)}", name)
        if len(data["title"]) > services.TITLE_MAX:
            raise _Invalid(f"title is longer than {services.TITLE_MAX} characters", "title")
        incident = services.raise_incident(
            current_user,
            data["title"],
            data["description"],
            category=category,
            subcategory=subcategory,
            impact=data.get("impact"),
            urgency=data.get("urgency"),
            source="api",
        )
    except (_Invalid, services.IncidentError) as exc:
        db.session.rollback()
        return error(400, str(exc), exc.field)
    db.session.commit()
    response = jsonify(_incident_json(incident))
    response.status_code = 201
    response.headers["Location"] = url_for(".api_incident", ref=incident.ref, _external=True)
    return response


@bp.get("/incidents")
def api_incidents():
    """The incidents the caller may see, newest first; staff may narrow to their own."""
    _require_token()
    mine = request.args.get("mine")
    if mine is not None and mine not in MINE:
        return error(400, "mine must be 1 or 0", "mine")
    status = request.args.get("status", "")
    if status and status != "open" and status not in STATUSES:
        return error(400, f"status must be open or one of {', '.join(STATUSES)}", "status")
    page = _int_arg("page", 1, 1, 1000)
    if page is None:
        return error(400, "page must be a whole number from 1 to 1000", "page")
    per_page = _int_arg("per_page", PER_PAGE, 1, PER_PAGE_MAX)
    if per_page is None:
        return error(400, f"per_page must be a whole number from 1 to {PER_PAGE_MAX}", "per_page")
    stmt = access.incidents_visible_to(current_user, select(Incident))
    if mine == "1" and access.is_staff(current_user):
        stmt = stmt.where(
            or_(Incident.requester_id == current_user.id, Incident.assignee_id == current_user.id)
        )
    if status == "open":
        stmt = stmt.where(Incident.status.in_(OPEN_STATUSES))
    elif status:
        stmt = stmt.where(Incident.status == status)
    stmt = stmt.options(
        selectinload(Incident.requester),
        selectinload(Incident.assignee),
        selectinload(Incident.category),
        selectinload(Incident.subcategory),
    ).order_by(Incident.created_at.desc(), Incident.id.desc())
    found = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return jsonify(
        {
            "total": found.total,
            "page": page,
            "per_page": per_page,
            "results": [_incident_json(incident) for incident in found.items],
        }
    )


@bp.get("/incidents/<ref>")
def api_incident(ref: str):
    """One incident the caller may see."""
    _require_token()
    return jsonify(_incident_json(_load(ref)))


@bp.get("/incidents/<ref>/comments")
def api_comments(ref: str):
    """The conversation as the caller may see it: internal notes for staff only."""
    _require_token()
    incident = _load(ref)
    return jsonify(
        {
            "results": [
                _comment_json(comment)
                for comment in incident.comments
                if access.can_see_comment(current_user, comment)
            ]
        }
    )


@bp.post("/incidents/<ref>/comments")
def api_add_comment(ref: str):
    """A public reply, or for staff an internal note."""
    _require_token()
    incident = _load(ref)
    try:
        data = _body(COMMENT_FIELDS, required=("body",))
    except _Invalid as exc:
        return error(400, str(exc), exc.field)
    internal = data.get("internal") or False
    if services.actor_of(current_user, incident) == "follower":
        return error(403, services.FOLLOWER_MESSAGE)
    if internal and not access.is_staff(current_user):
        return error(403, "only the service desk writes internal notes", "internal")
    try:
        comment = services.add_comment(incident, current_user, data["body"], internal=internal)
    except services.IncidentError as exc:
        db.session.rollback()
        # Without a field the message is about the incident's state (closed), not the input.
        return error(400 if exc.field else 409, str(exc), exc.field)
    db.session.commit()
    return jsonify(_comment_json(comment)), 201


@bp.post("/incidents/<ref>/updates")
def api_add_update(ref: str):
    """The desk's update for followers: the requester and everyone following read it."""
    _require_token()
    incident = _load(ref)
    if not access.is_staff(current_user):
        return error(403, "only the service desk posts updates for followers")
    try:
        data = _body(UPDATE_FIELDS, required=("body",))
        comment = services.add_comment(incident, current_user, data["body"], for_followers=True)
    except (_Invalid, services.IncidentError) as exc:
        db.session.rollback()
        return error(400, str(exc), exc.field)
    db.session.commit()
    return jsonify(_comment_json(comment)), 201


# -- helpers ---------------------------------------------------------------------------


def _require_token() -> None:
    """A bearer token, not a browser session: the API is CSRF-exempt."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    user = user_for_token(token) if token else None
    if user is None or user.id != getattr(current_user, "id", None):
        abort(401, description="Authenticate with 'Authorization: Bearer <token>'.")


def _load(ref: str) -> Incident:
    """The incident, or 404 for anyone who may not see it (no hint that it exists)."""
    # A NUL cannot be in a reference, and PostgreSQL refuses it in a query (a 500).
    incident = services.get_by_ref(ref) if "\x00" not in ref else None
    if incident is None or not access.can_see_incident(current_user, incident):
        abort(404, description=f"No incident '{ref}'.")
    return incident


def category_tree(user) -> dict[Category, list[Category]]:
    """The categories, each with its subcategories, that an incident raised by this user may
    name: all of them for staff; for others those holding an article they may see, as on the
    home page (a category's name alone would leak). The OpenAPI document lists the same."""
    categories = db.session.scalars(select(Category).order_by(Category.name, Category.id)).all()
    if not access.is_staff(user):
        visible = visible_articles_stmt(user).subquery()
        rows = db.session.execute(select(visible.c.category_id, visible.c.subcategory_id)).all()
        seen = {cid for row in rows for cid in row if cid is not None}
        categories = [c for c in categories if c.id in seen]
    tops = [c for c in categories if c.parent_id is None]
    return {top: [c for c in categories if c.parent_id == top.id] for top in tops}


def names(category: Category) -> list[str]:
    """What a caller may call a category: its name or its slug, exactly."""
    return list(dict.fromkeys((category.name, category.slug)))


def _categories(category: str | None, subcategory: str | None) -> tuple[str | None, str | None]:
    """The slugs of the category and subcategory named, refused unless the caller may name
    them (exact name or slug; a subcategory only within its category)."""
    if category is None:
        if subcategory is not None:
            raise _Invalid("a subcategory needs a category", "subcategory")
        return None, None
    tree = category_tree(current_user)
    top = next((c for c in tree if category in names(c)), None)
    if top is None:
        raise _Invalid(f"unknown category '{category}'", "category")
    if subcategory is None:
        return top.slug, None
    sub = next((c for c in tree[top] if subcategory in names(c)), None)
    if sub is None:
        raise _Invalid(f"unknown subcategory '{subcategory}' in {top.name}", "subcategory")
    return top.slug, sub.slug


def _body(fields: dict[str, type], required: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object of the request, with known fields of the right type; null is absent."""
    if not request.is_json:
        raise _Invalid("send a JSON object with 'Content-Type: application/json'")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting
        data = None
    if not isinstance(data, dict):
        raise _Invalid("the body must be a JSON object")
    for name in data:
        if name not in fields:
            raise _Invalid(f"unknown field '{name}'; expected {', '.join(fields)}", name)
    values = {}
    for name, kind in fields.items():
        value = data.get(name)
        if value is None:
            if name in required:
                raise _Invalid(f"{name} is required", name)
            continue
        if not isinstance(value, kind):
            expected = "true or false" if kind is bool else "a string"
            raise _Invalid(f"{name} must be {expected}", name)
        if isinstance(value, str):
            _check_text(value, name)
            if name in REQUIRED_TEXT and not value.strip():
                raise _Invalid(f"{name} is required", name)
        values[name] = value
    return values


def _check_text(value: str, name: str) -> None:
    """Text the database can store: no NUL character, no lone surrogate from a \\ud800 escape."""
    if "\x00" in value:
        raise _Invalid(f"{name} must not contain NUL characters", name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Invalid(f"{name} is not valid Unicode text", name) from None


def _person(user) -> dict[str, str] | None:
    return {"name": user.name, "email": user.email} if user is not None else None


def _when(value) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value is not None else None


def _incident_json(incident: Incident) -> dict[str, Any]:
    """The incident as the caller may read it: a follower gets the public view only."""
    if not access.can_see_incident_details(current_user, incident):
        return {
            "ref": incident.ref,
            "title": incident.title,
            "status": incident.status,
            "solution": incident.solution_md or None,
            "created_at": _when(incident.created_at),
            "updated_at": _when(incident.updated_at),
            "resolved_at": _when(incident.resolved_at),
            "closed_at": _when(incident.closed_at),
            "url": url_for("incidents.detail", ref=incident.ref, _external=True),
            "view": "public",
        }
    data = {
        "ref": incident.ref,
        "title": incident.title,
        "description": incident.description_md,
        "description_html": incident.description_html,
        "status": incident.status,
        "priority": incident.priority,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "category": incident.category.name if incident.category else None,
        "subcategory": incident.subcategory.name if incident.subcategory else None,
        "requester": _person(incident.requester),
        "assignee": _person(incident.assignee),
        "solution": incident.solution_md or None,
        "created_at": _when(incident.created_at),
        "updated_at": _when(incident.updated_at),
        "first_response_at": _when(incident.first_response_at),
        "resolved_at": _when(incident.resolved_at),
        "closed_at": _when(incident.closed_at),
        "response_due_at": _when(incident.response_due_at),
        "resolution_due_at": _when(incident.resolution_due_at),
        "url": url_for("incidents.detail", ref=incident.ref, _external=True),
        "view": "full",
    }
    if access.is_staff(current_user):
        data["sla"] = services.sla_status(incident)
    return data


def _comment_json(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "author": _person(comment.author),
        "body": comment.body_md,
        "body_html": comment.body_html,
        "internal": comment.is_internal,
        "for_followers": comment.for_followers,
        "created_at": _when(comment.created_at),
    }
