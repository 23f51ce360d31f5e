"""Security headers on every response, and a session cleared at sign-in."""

from __future__ import annotations

from flask import Flask, Response, abort, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _has_nul() -> bool:
    if "\x00" in request.path:
        return True
    for values in (request.args, request.form):
        if any("\x00" in v for v in values.values()):
            return True
    return False


def register(app: Flask) -> None:
    @app.before_request
    def _refuse_nul():
        """No text in the portal holds a NUL; PostgreSQL would refuse it with a 500."""
        if _has_nul():
            abort(400, description="The request holds a NUL character, which is not allowed.")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
