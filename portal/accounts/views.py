"""Sign in and out, forgotten passwords, the profile page and self-service API tokens."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from time import monotonic, sleep
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from portal import transactions
from portal.accounts import oidc, sessions, throttle
from portal.accounts.audit import announce
from portal.accounts.forms import (
    ButtonForm,
    ForgotForm,
    LoginForm,
    LogoutForm,
    MailForm,
    PasswordForm,
    ProfileForm,
    ResetForm,
    TokenForm,
)
from portal.accounts.models import ApiToken, User
from portal.accounts.services import (
    AccountError,
    change_password,
    create_token,
    request_password_reset,
    reset_password,
    revoke_token,
    tokens_of,
    update_profile,
    user_for_reset_token,
    user_for_token,
)
from portal.accounts.signin import password_sign_in, provision
from portal.extensions import db, limiter, login_manager
from portal.forms import choices
from portal.notifications.preferences import choices_for, set_choice

bp = Blueprint("accounts", __name__, template_folder="templates")
log = logging.getLogger(__name__)
RESET_ANSWER_SECONDS = 0.25

login_manager.user_loader(sessions.load_user)


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


def _address() -> str:
    return request.remote_addr or ""


def _user_agent() -> str:
    return request.headers.get("User-Agent", "")


def finish_sign_in(user: User, method: str, target: str | None, login: str | None = None):
    """Start the server-side session, commit, and send the browser on (shared by every way)."""
    sessions.sign_in(user, method, _address(), _user_agent())
    db.session.commit()
    flash(f"Signed in as {user.name}.", "success")
    response = redirect(target or url_for("articles.home"))
    if login:
        throttle.remember_device(response, login)
    return response


def _login_page(form: LoginForm, status: int = 200):
    from portal.accounts import ldap

    if ldap.enabled():
        form.email.label.text = "Email or user name"
    return (
        render_template(
            "accounts/login.html",
            form=form,
            sso_label=current_app.config["OIDC_BUTTON_LABEL"] if oidc.enabled() else None,
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(throttle.login_limit, methods=["POST"], error_message=throttle.TOO_MANY_SIGN_INS)
@limiter.limit(
    throttle.account_limit,
    key_func=throttle.account_key,
    methods=["POST"],
    deduct_when=throttle.failed,
    exempt_when=throttle.known_device,
    error_message=throttle.TOO_MANY_SIGN_INS,
)
def login():
    """Sign in with email (or directory user name) and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return _login_page(form)
    result = password_sign_in(form.email.data, form.password.data)
    if result.user is None:
        announce(
            "signin.failure",
            target=(form.email.data or "").strip()[:200],
            detail=f"{result.method}: {result.reason}",
            address=_address(),
        )
        db.session.commit()
        flash(result.message, "error")
        return _login_page(form, 503 if result.unavailable else 401)
    return finish_sign_in(result.user, result.method, safe_next(form.next.data), form.email.data)


# -- single sign-on (OpenID Connect) ----------------------------------------------------------

SSO_UNAVAILABLE = (
    "The company sign-in service does not answer right now. Try again in a few minutes, "
    "or sign in with a password if you have one here."
)


def _sso_failed(reason: str, message: str, status_log: str = "refused"):
    log.warning("OIDC sign-in %s: %s", status_log, reason)
    announce("signin.failure", detail=f"oidc: {reason}"[:500], address=_address())
    db.session.commit()
    flash(message, "error")
    return redirect(url_for(".login"))


@bp.get("/login/sso")
def sso_start():
    """Send the browser to the identity provider's sign-in page."""
    if not oidc.enabled():
        abort(404)
    session["sso_next"] = safe_next(request.args.get("next")) or ""
    callback = current_app.config["PUBLIC_URL"].rstrip("/") + url_for(".sso_callback")
    try:
        return oidc.authorize_redirect(callback)
    except oidc.ProviderUnavailable as exc:
        log.warning("OIDC provider unavailable: %s", exc)
        flash(SSO_UNAVAILABLE, "error")
        return redirect(url_for(".login"))
    except oidc.SignInRefused as exc:
        log.warning("OIDC provider refused: %s", exc)
        flash(f"Single sign-on is not working: {exc}", "error")
        return redirect(url_for(".login"))


@bp.get("/login/sso/callback")
@transactions.writes_on_get
def sso_callback():
    """The provider sends the browser back here with a code; check everything, sign in."""
    if not oidc.enabled():
        abort(404)
    target = safe_next(session.get("sso_next"))
    try:
        identity = oidc.complete()
    except oidc.ProviderUnavailable as exc:
        return _sso_failed(str(exc), SSO_UNAVAILABLE, "unavailable")
    except oidc.SignInRefused as exc:
        return _sso_failed(str(exc), f"Single sign-on failed: {exc}. Please try again.")
    try:
        user = provision(identity)
    except AccountError as exc:
        db.session.rollback()
        return _sso_failed(f"{identity.email}: {exc}", str(exc))
    return finish_sign_in(user, "oidc", target)


@bp.post("/logout")
def logout():
    """Sign out: this session ends on the server, so a copy of the cookie is worthless."""
    form = LogoutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        sessions.sign_out(_address())
        db.session.commit()
        flash("Signed out.", "success")
    return redirect(url_for("articles.home"))


@bp.app_context_processor
def _forms():
    # formdata=None: drawing the sign-out button must not read the request body (an
    # oversized POST would raise again while its 413 page is drawn).
    return {"logout_form": LogoutForm(formdata=None)}


# -- forgotten passwords ----------------------------------------------------------------------


def reset_link(token: str) -> str:
    """Links in mail start from PUBLIC_URL, never from the request's Host header."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for("accounts.reset", token=token)


def _typed_email() -> str:
    return "reset:" + throttle.account_tag(request.form.get("email"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(throttle.reset_limit, methods=["POST"], error_message=throttle.TOO_MANY_RESETS)
@limiter.limit(
    throttle.reset_limit,
    key_func=_typed_email,
    methods=["POST"],
    error_message=throttle.TOO_MANY_RESETS,
)
def forgot():
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotForm()
    if form.validate_on_submit():
        started = monotonic()
        request_password_reset(form.email.data, reset_link, _address())
        db.session.commit()
        # Queueing a mail costs a few milliseconds more than not; answering both after the
        # same fixed time keeps the difference from telling which addresses have accounts.
        sleep(max(0.0, RESET_ANSWER_SECONDS - (monotonic() - started)))
        return render_template("accounts/forgot_sent.html", email=form.email.data.strip())
    return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Choose a new password from a mailed link (once, while it is fresh)."""
    user = user_for_reset_token(token)
    if user is None:
        return render_template("accounts/reset_invalid.html"), 400
    form = ResetForm()
    if form.validate_on_submit():
        try:
            reset_password(user, form.password.data, form.revoke_tokens.data, _address())
        except AccountError as exc:
            form.password.errors.append(str(exc).partition(": ")[2])
        else:
            if current_user.is_authenticated:
                sessions.sign_out()
            db.session.commit()
            flash("Your password was changed. Sign in with the new one.", "success")
            return redirect(url_for("accounts.login"))
    status = 400 if form.errors else 200
    response = make_response(render_template("accounts/reset.html", form=form, user=user), status)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


# -- the profile page -------------------------------------------------------------------------


def _mail_form(formdata=None) -> MailForm:
    """Which notifications come by mail; the kinds and defaults are portal.notifications'."""
    offered = choices_for(current_user)
    form = MailForm(formdata=formdata) if formdata is not None else MailForm(formdata=None)
    form.mail.choices = choices((name, kind.label) for name, kind, _ in offered)
    if formdata is None:
        form.mail.data = [name for name, _, mailed in offered if mailed]
    return form


def _profile_page(status: int = 200, **forms):
    user = current_user
    forms.setdefault("profile_form", ProfileForm(formdata=None, obj=user))
    forms.setdefault("mail_form", _mail_form())
    forms.setdefault("password_form", PasswordForm(formdata=None))
    forms.setdefault("token_form", TokenForm(formdata=None, prefix="token"))
    current = sessions.current_row()
    return (
        render_template(
            "accounts/profile.html",
            tokens=tokens_of(user),
            user_sessions=sessions.sessions_of(user),
            current_session_id=current.id if current else None,
            button=ButtonForm(formdata=None),
            now=datetime.now(UTC),
            **forms,
        ),
        status,
    )


@bp.get("/profile")
@login_required
def profile():
    """Name, language, mail, password, API tokens and signed-in browsers."""
    return _profile_page()


@bp.post("/profile")
@login_required
def save_profile():
    """Change the name and the language."""
    form = ProfileForm()
    if not form.validate_on_submit():
        return _profile_page(400, profile_form=form)
    try:
        changed = update_profile(current_user, form.name.data)
    except AccountError as exc:
        form.name.errors.append(str(exc).partition(": ")[2])
        return _profile_page(400, profile_form=form)
    if form.language.data != current_user.language:
        current_user.language = form.language.data
        changed = True
    db.session.commit()
    flash("Profile saved." if changed else "Nothing changed.", "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/mail")
@login_required
def save_mail():
    """Choose which mail to receive."""
    form = _mail_form(request.form)
    if not form.validate_on_submit():
        return _profile_page(400, mail_form=form)
    wanted = set(form.mail.data or [])
    changed = False
    for name, _, mailed in choices_for(current_user):
        if mailed != (name in wanted):
            set_choice(current_user, name, name in wanted)
            changed = True
    db.session.commit()
    flash("Mail settings saved." if changed else "Nothing changed.", "success")
    return redirect(url_for(".profile") + "#mail")


@bp.post("/profile/password")
@login_required
def save_password():
    """Change the password (the current one first); other browsers are signed out."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _profile_page(400, password_form=form)
    try:
        ended = change_password(
            current_user,
            form.current_password.data,
            form.password.data,
            keep=sessions.current_row(),
            revoke_tokens=form.revoke_tokens.data,
            address=_address(),
        )
    except AccountError as exc:
        name, _, message = str(exc).partition(": ")
        if current_user.is_local:
            getattr(form, name, form.password).errors.append(message)
        else:  # no password section on the page to show it in
            flash(message[:1].upper() + message[1:] + ".", "error")
        return _profile_page(400, password_form=form)
    db.session.commit()
    others = f" {ended} other browser(s) were signed out." if ended else ""
    flash(f"Password changed.{others}", "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/sessions/end")
@login_required
def end_all_sessions():
    """Sign out everywhere, this browser included."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    count = sessions.end_sessions(user)
    announce(
        "signout.everywhere",
        actor=user,
        target=user.email,
        detail=f"{count} session(s)",
        address=_address(),
    )
    sessions.sign_out()
    db.session.commit()
    flash("Signed out everywhere.", "success")
    return redirect(url_for(".login"))


@bp.post("/profile/tokens")
@login_required
def new_token():
    """Create an API token; it is shown once, on this page only."""
    form = TokenForm(prefix="token")  # the profile's own form has a "name" too
    if not form.validate_on_submit():
        return _profile_page(400, token_form=form)
    expires = (
        datetime.combine(form.expires.data, time(23, 59, 59), tzinfo=UTC)
        if form.expires.data
        else None
    )
    try:
        token = create_token(current_user, form.name.data, expires, address=_address())
    except AccountError as exc:
        form.expires.errors.append(str(exc).partition(": ")[2])
        return _profile_page(400, token_form=form)
    db.session.commit()
    response = make_response(
        render_template("accounts/token_created.html", token=token, name=form.name.data)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of my tokens (admins revoke anyone's from Admin > API tokens)."""
    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != current_user.id:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    revoke_token(current_user, token, _address())
    db.session.commit()
    flash(f"Token {token.name or token.id} revoked.", "success")
    return redirect(url_for(".profile") + "#tokens")
