"""GET /healthz: is the database answering and the search index readable?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from portal import search
from portal.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Check the database and the index; 503 names the failing part."""
    failing = []
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        failing.append("database")
    if not failing:
        try:
            search.store().searcher().doc_count()
        except Exception:
            failing.append("search index")
    if failing:
        return jsonify({"status": "error", "failing": failing}), 503
    return jsonify({"status": "ok"})
