"""GET /healthz: is the database answering and the search index readable?"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select, text

from portal import search
from portal.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Check the database (503 when it fails) and the index, read as a new process would.
    A missing or damaged index is "degraded", not down: it is being rebuilt and searches
    are answered from the database meanwhile, so the node stays in service. With ?detail=1
    it also says how the mail is doing (undelivered, given up) and when the worker last ran."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return jsonify({"status": "error", "failing": ["database"]}), 503
    body: dict = {"status": "ok"}
    if search.store().health() != "ok":
        body = {"status": "degraded", "degraded": ["search index"]}
    if request.args.get("detail"):
        body["detail"] = _detail()
    return jsonify(body)


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
