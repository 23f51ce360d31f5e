"""Error pages for people and JSON errors for the API: a clear message, never a trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if _wants_json():
            return jsonify({"error": exc.name, "message": exc.description}), exc.code
        return render_template("error.html", error=exc), exc.code

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        exc.description = (
            "The form expired or came from another site. Go back, reload the page and try again."
        )
        return _http_error(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return _http_error(InternalServerError())
