"""GET /healthz: is the database answering and the search index readable?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from portal import search
from portal.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Check the database (503 when it fails) and the index, read as a new process would.
    A missing or damaged index is "degraded", not down: it is being rebuilt and searches
    are answered from the database meanwhile, so the node stays in service."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return jsonify({"status": "error", "failing": ["database"]}), 503
    if search.store().health() != "ok":
        return jsonify({"status": "degraded", "degraded": ["search index"]})
    return jsonify({"status": "ok"})
