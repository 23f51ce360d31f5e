"""Bearer tokens for the API: a present but wrong token is refused, never ignored."""

from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask_login import current_user

from portal.api import bp


@bp.before_request
def _check_token():
    header = request.headers.get("Authorization")
    if header is not None and not current_user.is_authenticated:
        abort(401, description="The bearer token is missing, unknown or revoked.")
    if not current_app.config["PUBLIC_KB"] and not current_user.is_authenticated:
        abort(401, description="Authenticate with 'Authorization: Bearer <token>'.")


def error(status: int, message: str, field: str | None = None):
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status
