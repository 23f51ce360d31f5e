"""Sign in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from portal.accounts.forms import LoginForm, LogoutForm
from portal.accounts.models import User
from portal.accounts.services import authenticate, user_for_token
from portal.analytics.events import carried_over
from portal.extensions import db, limiter, login_manager

bp = Blueprint("accounts", __name__, template_folder="templates")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.is_active else None  # deactivation ends sessions


@login_manager.request_loader
def _load_from_token(req) -> User | None:
    """API callers authenticate with 'Authorization: Bearer <token>'; pages use the session."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return user_for_token(header[len("Bearer ") :].strip())


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative '//' trick."""
    if not target:
        return None
    target = target.replace("\\", "/").strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Sign in with email and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            flash("Wrong email or password.", "error")
            db.session.commit()
            return render_template("accounts/login.html", form=form), 401
        target = safe_next(form.next.data)
        kept = carried_over()
        session.clear()
        session.update(kept)
        login_user(user)
        db.session.commit()
        flash(f"Signed in as {user.name}.", "success")
        return redirect(target or url_for("articles.home"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    """Sign out and forget the session."""
    form = LogoutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        logout_user()
        session.clear()
        flash("Signed out.", "success")
    return redirect(url_for("articles.home"))


@bp.app_context_processor
def _forms():
    # formdata=None: drawing the sign-out button must not read the request body (an
    # oversized POST would raise again while its 413 page is drawn).
    return {"logout_form": LogoutForm(formdata=None)}
