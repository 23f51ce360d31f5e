"""Admin settings under /admin/ (filled in by the admin settings work)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
