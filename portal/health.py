"""GET /healthz: is the database answering and the search index readable?"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select, text

from portal import search
from portal.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Check the database and the index; 503 names the failing part. With ?detail=1 it
    also says how the mail is doing (undelivered, given up) and when the worker last ran."""
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
    body: dict = {"status": "error", "failing": failing} if failing else {"status": "ok"}
    if request.args.get("detail") and "database" not in failing:
        body["detail"] = _detail()
    return jsonify(body), 503 if failing else 200


def _detail() -> dict:
    from portal.notifications.models import WorkerJob
    from portal.notifications.services import delivery_summary

    mail = delivery_summary()
    mail.pop("last_error", None)  # may name internal hosts: the admin overview shows it
    jobs = {
        job.name: {
            "last_run_at": job.last_run_at.isoformat() if job.last_run_at else None,
            "failing": bool(job.last_error),
        }
        for job in db.session.scalars(select(WorkerJob))
    }
    return {"mail": mail, "worker": jobs}
