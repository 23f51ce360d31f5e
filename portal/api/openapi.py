"""GET /api/v1/openapi.json: the API described by hand, kept honest by a test that compares it
with the routes and with real responses."""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app, jsonify, request
from flask_login import current_user

from portal.api import bp
from portal.api.incidents import category_tree, names
from portal.incidents.models import LEVELS, STATUSES
from portal.incidents.priority import PRIORITIES

BEARER = [{"bearerAuth": []}]
OPTIONAL_BEARER = [{}, {"bearerAuth": []}]  # public when PUBLIC_KB is on; a token shows more
SLA_STATES = ["met", "missed", "paused", "ok", "at_risk", "breached"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:  # an enum without null would refuse the null the type allows
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/{_ERROR_NAMES[code]}"} for code in codes}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


STRING = {"type": "string"}
# Text the API stores: no NUL character (PostgreSQL cannot store one), and more than white space.
NO_NUL = "^[^\\u0000]*$"
TEXT_PARAM = {"type": "string", "pattern": NO_NUL}  # a NUL anywhere in a request is a 400
SOME_TEXT = "^[^\\u0000]*[^\\u0000\\s][^\\u0000]*$"
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
PAGE = _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 1000})
REF = {
    "name": "ref",
    "in": "path",
    "required": True,
    "description": "The incident's reference, e.g. INC-000042 (any case).",
    "schema": TEXT_PARAM,
}

_ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
}

INCIDENT_PROPERTIES: dict[str, Any] = {
    "ref": {"type": "string", "examples": ["INC-000042"]},
    "title": STRING,
    "description": {"type": "string", "description": "Markdown, as written."},
    "description_html": {"type": "string", "description": "Rendered and sanitised."},
    "status": {"type": "string", "enum": list(STATUSES)},
    "priority": {"type": "string", "enum": list(PRIORITIES)},
    "impact": {"type": "string", "enum": list(LEVELS)},
    "urgency": {"type": "string", "enum": list(LEVELS)},
    "category": NULLABLE_STRING,
    "subcategory": NULLABLE_STRING,
    "requester": _ref("Person"),
    "assignee": _nullable(_ref("Person")),
    "solution": _nullable({"type": "string", "description": "Markdown, once resolved."}),
    "created_at": TIME,
    "updated_at": TIME,
    "first_response_at": NULLABLE_TIME,
    "resolved_at": NULLABLE_TIME,
    "closed_at": NULLABLE_TIME,
    "response_due_at": NULLABLE_TIME,
    "resolution_due_at": NULLABLE_TIME,
    "url": {"type": "string", "format": "uri", "description": "The incident's page."},
    "view": {
        "type": "string",
        "enum": ["full", "public"],
        "description": "public for a follower (someone with the same problem): only the "
        "fields every view has; the requester's words, address and triage are left out.",
    },
    "sla": _ref("Sla"),
}
# What a follower reads of someone else's incident (the other fields are absent).
PUBLIC_INCIDENT_FIELDS = [
    "ref",
    "title",
    "status",
    "solution",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "url",
    "view",
]

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": {
                "type": "string",
                "description": "What went wrong: a message for a 400, 403 or 409; "
                "the HTTP status name otherwise.",
            },
            "message": {"type": "string", "description": "The explanation, for 401 and 404."},
            "field": {"type": "string", "description": "The input field at fault, if one is."},
        },
        required=["error"],
    ),
    "SearchHit": _object(
        {
            "slug": STRING,
            "title": STRING,
            "summary": STRING,
            "category": NULLABLE_STRING,
            "subcategory": NULLABLE_STRING,
            "url": {"type": "string", "format": "uri"},
            "snippet": {"type": "string", "description": "Sanitised HTML with <mark> tags."},
            "score": {"type": "number"},
        }
    ),
    "SearchResults": _object(
        {
            "query": STRING,
            "total": {
                "type": "integer",
                "description": "How many articles match the question (pass the relevance bar).",
            },
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "suggestion": _nullable(
                {"type": "string", "description": "A spelling the index knows better."}
            ),
            "notice": _nullable(
                {
                    "type": "string",
                    "description": "Set while the search index is being rebuilt: the "
                    "database answered, without stemming, snippets or suggestions.",
                }
            ),
            "results": {
                "type": "array",
                "items": _ref("SearchHit"),
                "description": "Only articles that match the question, best first.",
            },
            "related": {
                "type": "array",
                "items": _ref("SearchHit"),
                "description": "At most a few weaker candidates (first page only).",
            },
        }
    ),
    "Article": _object(
        {
            "slug": STRING,
            "title": STRING,
            "summary": STRING,
            "category": NULLABLE_STRING,
            "subcategory": NULLABLE_STRING,
            "tags": {"type": "array", "items": STRING},
            "visibility": {"type": "string", "enum": ["everyone", "staff"]},
            "status": STRING,
            "reviewed": {"type": ["string", "null"], "format": "date"},
            "helpful": {"type": "integer"},
            "not_helpful": {"type": "integer"},
            "markdown": STRING,
            "html": {"type": "string", "description": "Rendered and sanitised."},
            "url": {"type": "string", "format": "uri"},
            "updated_at": NULLABLE_TIME,
        }
    ),
    "Person": _object({"name": STRING, "email": {"type": "string", "format": "email"}}),
    "Sla": _object(
        {
            "response": {"type": "string", "enum": SLA_STATES},
            "resolution": {"type": "string", "enum": SLA_STATES},
        },
        description="Where each SLA clock stands (staff only).",
    ),
    "Incident": _object(
        INCIDENT_PROPERTIES,
        required=PUBLIC_INCIDENT_FIELDS,
        description="Times are ISO 8601 with a UTC offset. `sla` is present for staff only. "
        "Every field is present in the full view (staff, the requester, a colleague it is "
        "shared with); a follower gets the public view: the required fields only.",
    ),
    "NewIncident": _object(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": SOME_TEXT},
            "description": {"type": "string", "pattern": SOME_TEXT, "description": "Markdown."},
            "category": _nullable(
                {
                    "type": "string",
                    "description": "The exact name or slug of a category the caller may "
                    "name (all for staff; for others those holding an article they may see). "
                    "This document lists them for the caller; another is refused (400).",
                }
            ),
            "subcategory": _nullable(
                {
                    "type": "string",
                    "description": "The exact name or slug of a subcategory of `category`; "
                    "refused without a category or outside it (400).",
                }
            ),
            "impact": _nullable({"type": "string", "enum": list(LEVELS), "default": "medium"}),
            "urgency": _nullable({"type": "string", "enum": list(LEVELS), "default": "medium"}),
        },
        required=["title", "description"],
        additionalProperties=False,
        description="Impact and urgency are the requester's proposal; an agent re-triages. "
        "Text fields refuse NUL characters; title and description need more than white space.",
    ),
    "IncidentPage": _object(
        {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "results": {"type": "array", "items": _ref("Incident")},
        }
    ),
    "Comment": _object(
        {
            "id": {"type": "integer"},
            "author": _nullable(_ref("Person")),
            "body": {"type": "string", "description": "Markdown, as written."},
            "body_html": {"type": "string", "description": "Rendered and sanitised."},
            "internal": {"type": "boolean"},
            "for_followers": {
                "type": "boolean",
                "description": "An update the desk posted for followers; the only comments "
                "a follower reads.",
            },
            "created_at": TIME,
        }
    ),
    "NewComment": _object(
        {
            "body": {"type": "string", "pattern": SOME_TEXT, "description": "Markdown."},
            "internal": {
                "type": ["boolean", "null"],
                "default": False,
                "description": "An internal note, for staff only.",
            },
        },
        required=["body"],
        additionalProperties=False,
    ),
    "NewUpdate": _object(
        {"body": {"type": "string", "pattern": SOME_TEXT, "description": "Markdown."}},
        additionalProperties=False,
        description="An update for followers: the requester and every follower read it, and "
        "each follower is mailed it.",
    ),
    "CommentList": _object({"results": {"type": "array", "items": _ref("Comment")}}),
    "Health": _object(
        {
            "status": {"type": "string", "enum": ["ok", "degraded", "error"]},
            "failing": {"type": "array", "items": {"type": "string"}},
            "detail": {
                "type": "object",
                "description": "With ?detail=1: mail not delivered yet, the worker's jobs, and "
                "search (semantic: 'on', or 'off: <why>' when search is lexical only).",
            },
            "degraded": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Parts that work in a reduced mode: a search index being "
                "rebuilt (searches are answered from the database meanwhile).",
            },
        },
        required=["status"],
    ),
}

RESPONSES = {
    "BadRequest": _json(
        _ref("Error"),
        "The input is invalid; `field` names the culprit: a parameter outside its range or "
        "enum, an unknown field, category or subcategory, a NUL character or blank text.",
    ),
    "Unauthorized": _json(_ref("Error"), "No token, or an unknown or revoked one."),
    "Forbidden": _json(_ref("Error"), "The caller may not do this."),
    "NotFound": _json(_ref("Error"), "Not there, or not visible to the caller."),
    "Conflict": _json(_ref("Error"), "Not possible in the incident's current state."),
}

PATHS: dict[str, Any] = {
    "/api/v1/search": {
        "get": {
            "operationId": "search",
            "summary": "Search the published articles the caller may see",
            "security": OPTIONAL_BEARER,
            "parameters": [
                _query("q", "The search text.", TEXT_PARAM),
                _query("category", "A category slug.", TEXT_PARAM),
                PAGE,
                _query(
                    "per_page",
                    "Hits per page.",
                    {"type": "integer", "minimum": 1, "maximum": 50},
                ),
                _query(
                    "source",
                    "'live' for suggestions while typing: not recorded as a search.",
                    {"type": "string", "enum": ["live"]},
                ),
            ],
            "responses": {
                "200": _json(_ref("SearchResults"), "The hits, best first."),
                **_errors(400, 401),
            },
        }
    },
    "/api/v1/articles/{slug}": {
        "get": {
            "operationId": "getArticle",
            "summary": "One article with its Markdown and sanitised HTML",
            "security": OPTIONAL_BEARER,
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": TEXT_PARAM}],
            "responses": {"200": _json(_ref("Article"), "The article."), **_errors(400, 401, 404)},
        }
    },
    "/api/v1/incidents": {
        "get": {
            "operationId": "listIncidents",
            "summary": "The incidents the caller may see, newest first",
            "description": "Employees see the incidents they raised or follow. Staff see all, "
            "or with mine=1 those they raised or are assigned.",
            "security": BEARER,
            "parameters": [
                _query("mine", "1: only mine (staff).", {"type": "string", "enum": ["1", "0"]}),
                _query(
                    "status",
                    "One status, or 'open' for all open ones.",
                    {"type": "string", "enum": ["open", *STATUSES]},
                ),
                PAGE,
                _query(
                    "per_page",
                    "Incidents per page (25 by default).",
                    {"type": "integer", "minimum": 1, "maximum": 100},
                ),
            ],
            "responses": {
                "200": _json(_ref("IncidentPage"), "One page of incidents."),
                **_errors(400, 401),
            },
        },
        "post": {
            "operationId": "raiseIncident",
            "summary": "Raise an incident as the token's owner",
            "security": BEARER,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("NewIncident")}},
            },
            "responses": {
                "201": {
                    **_json(_ref("Incident"), "Raised; priority and due times are set."),
                    "headers": {
                        "Location": {
                            "description": "The incident in this API.",
                            "schema": {"type": "string", "format": "uri"},
                        }
                    },
                },
                **_errors(400, 401),
            },
        },
    },
    "/api/v1/incidents/{ref}": {
        "get": {
            "operationId": "getIncident",
            "summary": "One incident",
            "security": BEARER,
            "parameters": [REF],
            "responses": {
                "200": _json(_ref("Incident"), "The incident."),
                **_errors(400, 401, 404),
            },
        }
    },
    "/api/v1/incidents/{ref}/comments": {
        "get": {
            "operationId": "listComments",
            "summary": "The conversation; internal notes for staff only, the desk's updates "
            "only for a follower",
            "security": BEARER,
            "parameters": [REF],
            "responses": {
                "200": _json(_ref("CommentList"), "Oldest first."),
                **_errors(400, 401, 404),
            },
        },
        "post": {
            "operationId": "addComment",
            "summary": "Reply, or for staff add an internal note",
            "security": BEARER,
            "parameters": [REF],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("NewComment")}},
            },
            "responses": {
                "201": _json(_ref("Comment"), "Added."),
                **_errors(400, 401, 403, 404, 409),
            },
        },
    },
    "/api/v1/incidents/{ref}/updates": {
        "post": {
            "operationId": "addUpdate",
            "summary": "Post an update for the incident's followers (staff only)",
            "description": "The update is a public comment with `for_followers` set: the "
            "requester and everyone following the incident read it. Anyone not on the "
            "service desk is refused (403).",
            "security": BEARER,
            "parameters": [REF],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("NewUpdate")}},
            },
            "responses": {
                "201": _json(_ref("Comment"), "Posted."),
                **_errors(400, 401, 403, 404),
            },
        },
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "security": OPTIONAL_BEARER,
            "responses": {
                "200": _json({"type": "object"}, "The OpenAPI 3.1 document."),
                **_errors(400, 401),
            },
        }
    },
    "/healthz": {
        "get": {
            "operationId": "health",
            "summary": "Is the database answering and the search index readable?",
            "security": [],
            "parameters": [
                {
                    "name": "detail",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "Any value: add the mail and worker detail.",
                }
            ],
            "responses": {
                "200": _json(_ref("Health"), "Working; `degraded` names parts in reduced mode."),
                "503": _json(_ref("Health"), "`failing` names the broken parts."),
                **_errors(400),
            },
        }
    },
}


def new_incident_schema(tree: dict) -> dict[str, Any]:
    """NewIncident with the categories this caller may name: an enum of their names and
    slugs, and one branch per category holding its subcategories."""
    schema = copy.deepcopy(SCHEMAS["NewIncident"])
    properties = schema["properties"]
    every_sub = [name for subs in tree.values() for sub in subs for name in names(sub)]
    properties["category"]["enum"] = [*(n for top in tree for n in names(top)), None]
    properties["subcategory"]["enum"] = [*dict.fromkeys(every_sub), None]
    no_category = {"properties": {"category": {"type": "null"}, "subcategory": {"type": "null"}}}
    branches = [no_category]
    for top, subs in tree.items():
        branches.append(
            {
                "properties": {
                    "category": {"enum": names(top)},
                    "subcategory": {"enum": [*(n for sub in subs for n in names(sub)), None]},
                },
                "required": ["category"],
            }
        )
    schema["anyOf"] = branches
    return schema


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the server this request reached."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{current_app.config['PORTAL_NAME']} API",
            "version": "1",
            "description": "Search the knowledge base, read articles, raise and follow incidents. "
            "Authenticate with 'Authorization: Bearer <token>'. Errors are JSON.",
        },
        "servers": [{"url": request.url_root.rstrip("/") or "/"}],
        "security": BEARER,
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token issued to a user; it acts as that user.",
                }
            },
            "schemas": {**SCHEMAS, "NewIncident": new_incident_schema(category_tree(current_user))},
            "responses": RESPONSES,
        },
    }


@bp.get("/openapi.json")
def api_openapi():
    """This API, described."""
    return jsonify(document())
