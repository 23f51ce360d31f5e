"""The JSON API under /api/v1: thin, calling the same services as the pages."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from portal.api import articles, auth, incidents, openapi  # noqa: E402,F401  (routes register on bp)
