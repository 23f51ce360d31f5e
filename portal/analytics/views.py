"""Reports under /reports/ (filled in by the reports work)."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
