"""Error pages for people and JSON errors for the API: a clear message, never a trace."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _extra_headers(exc: HTTPException) -> list[tuple[str, str]]:
    """Headers the error carries besides its body (Allow on 405, Retry-After on 429...)."""
    return [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]


# What a person reads instead of the server's wording, for the errors people meet in use.
PERSONAL: dict[int, tuple[str, str]] = {
    403: (
        "You do not have access to this page",
        "Your account does not have the role this page needs. If you think it should, ask "
        "the service desk or an administrator to give it to you.",
    ),
    404: (
        "We could not find this page",
        "The address may be mistyped, or the page was moved. Search the help library, or go "
        "back to the page you came from.",
    ),
}


def wording(exc: HTTPException) -> tuple[str, str]:
    """The heading and message of an error page: a person's words for the common errors,
    unless the code that raised it explained itself (then its own description)."""
    heading, message = PERSONAL.get(exc.code or 0, (exc.name, exc.description or ""))
    if exc.description and exc.description != type(exc).description:
        message = exc.description
    return heading, message


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        headers = _extra_headers(exc)
        if _wants_json():
            return jsonify({"error": exc.name, "message": exc.description}), exc.code, headers
        heading, message = wording(exc)
        page = render_template("error.html", error=exc, heading=heading, message=message)
        return page, exc.code, headers

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        exc.description = (
            "The form expired or came from another site. Go back, reload the page and try again."
        )
        return _http_error(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        # The failed statement may have left the session unusable; the error page reads
        # current_user, so start clean (nothing of this request was committed anyway).
        try:
            db.session.rollback()
        except Exception:
            app.logger.exception("rollback after an unhandled error failed")
        try:
            return _http_error(InternalServerError())
        except Exception:
            app.logger.exception("the error page itself failed")
            return _bare_500()


def _bare_500():
    """Last resort when even the error page fails: plain text, still with our headers
    (the after_request hooks add them)."""
    if _wants_json():
        return jsonify({"error": "Internal Server Error", "message": "Something went wrong."}), 500
    response = make_response("Something went wrong on our side. Please try again.", 500)
    response.mimetype = "text/plain"
    return response
