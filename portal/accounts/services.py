"""Create users, check passwords, change and reset them, issue and revoke API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from portal import writebehind
from portal.accounts.audit import announce
from portal.accounts.models import ROLES, ApiToken, User, UserSession
from portal.accounts.sessions import end_sessions
from portal.extensions import db
from portal.timeutil import as_utc, utcnow

# A real hash to compare against when the email is unknown, so both failures take as long.
_DUMMY_HASH: str | None = None
RESET_SALT = "firstfix-password-reset"
TOKEN_TOUCH_EVERY = timedelta(minutes=1)
TOKEN_NAME_MAX = 120


class AccountError(ValueError):
    pass


def find_user(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    ).first()


def check_new_password(password: str | None, user: User | None = None) -> None:
    """Raise AccountError when a new password is too weak to accept."""
    minimum = int(current_app.config.get("PASSWORD_MIN_LENGTH", 10))
    if password is None or len(password) < minimum:
        raise AccountError(f"password: at least {minimum} characters")
    if len(password) > 200:
        raise AccountError("password: at most 200 characters")
    if user is not None and password.strip().lower() == user.email.lower():
        raise AccountError("password: must not be your email address")


def create_user(
    email: str,
    name: str,
    roles: list[str] | set[str],
    password: str | None,
    auth_source: str = "local",
) -> User:
    """Add a user; raises AccountError for a taken email or an unknown role."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise AccountError("email: not a valid address")
    if find_user(email):
        raise AccountError(f"email: {email} already has an account")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"role: unknown {', '.join(sorted(unknown))}; use {', '.join(ROLES)}")
    if password is not None:
        check_new_password(password)
    user = User(email=email, name=(name or email).strip()[:120], auth_source=auth_source)
    user.set_roles(set(roles) or {"employee"})
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def _spend_dummy_check(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash(secrets.token_hex(8))
    check_password_hash(_DUMMY_HASH, password or "")


def authenticate(email: str, password: str) -> User | None:
    """The user when email and password match an active local account, else None (one answer)."""
    user = find_user(email)
    if user is None or not user.password_hash:
        _spend_dummy_check(password)
        return None
    if not user.check_password(password or "") or not user.is_active:
        return None
    return user


# -- changing and resetting passwords ---------------------------------------------------------


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does (each hash has its own salt)."""
    return hashlib.sha256((user.password_hash or "none").encode()).hexdigest()[:20]


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def reset_token(user: User) -> str:
    """A signed, expiring token bound to the current password: using it changes the password,
    which kills the token, so it works once and dies with any other password change."""
    return _reset_serializer().dumps({"u": user.id, "p": _password_fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    """The account a reset token is for, while the token is still good; else None."""
    max_age = int(float(current_app.config["PASSWORD_RESET_MINUTES"]) * 60)
    try:
        data = _reset_serializer().loads(token or "", max_age=max_age)
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.is_active or not user.is_local:
        return None
    if not secrets.compare_digest(str(data.get("p", "")), _password_fingerprint(user)):
        return None
    return user


def request_password_reset(email: str, link_for, address: str = "") -> None:
    """Mail a reset link when email names an active local account; otherwise do the same
    amount of work and send nothing, so the answer and its timing tell nobody which it was."""
    from portal.notifications.services import queue_mail

    user = find_user(email)
    typed = (email or "").strip()[:200]
    if user is None or not user.is_active or not user.is_local:
        _reset_serializer().dumps({"u": 0, "p": _password_fingerprint(User())})
        announce("password.reset_request", target=typed, detail="no local account", address=address)
        return
    queue_mail(user.email, "Reset your password", _reset_mail(user, link_for(reset_token(user))))
    announce("password.reset_request", actor=user, target=user.email, address=address)


def send_reset_link(actor: User, user: User, link_for, address: str = "") -> None:
    """An admin mails a user a reset link (the admin never sees the link)."""
    from portal.notifications.services import queue_mail

    if not user.is_local:
        raise AccountError(
            f"{user.email} signs in through {user.auth_source.upper()}; "
            "its password is changed there"
        )
    if not user.is_active:
        raise AccountError(f"{user.email} is deactivated; activate it first")
    queue_mail(user.email, "Reset your password", _reset_mail(user, link_for(reset_token(user))))
    announce("password.reset_sent", actor=actor, target=user.email, address=address)


def _reset_mail(user: User, link: str) -> str:
    minutes = int(float(current_app.config["PASSWORD_RESET_MINUTES"]))
    from portal import branding

    name = branding.name()
    return (
        f"Hello {user.name},\n\n"
        f"someone asked to reset the password of your {name} account. To choose a new one,\n"
        f"open this link within {minutes} minutes (it works once):\n\n{link}\n\n"
        "If you did not ask for this, ignore this mail; your password stays as it is.\n"
    )


def _replace_password(
    user: User,
    password: str,
    action: str,
    keep: UserSession | None,
    revoke_tokens: bool,
    address: str,
) -> int:
    """Set the new password, end the sessions (but `keep`) and maybe the tokens, audit it."""
    check_new_password(password, user)
    user.set_password(password)
    ended = end_sessions(user, keep=keep)
    revoked = revoke_all_tokens(user) if revoke_tokens else 0
    others = "other " if keep is not None else ""
    announce(
        action,
        actor=user,
        target=user.email,
        detail=f"{ended} {others}session(s) ended, {revoked} token(s) revoked",
        address=address,
    )
    return ended


def reset_password(user: User, password: str, revoke_tokens: bool, address: str = "") -> None:
    """Set a new password from a reset link: every session ends, and the tokens if asked."""
    _replace_password(user, password, "password.reset", None, revoke_tokens, address)


def change_password(
    user: User,
    current: str,
    new: str,
    keep: UserSession | None = None,
    revoke_tokens: bool = False,
    address: str = "",
) -> int:
    """Change a password knowing the current one; every other session ends. Returns how many."""
    if not user.is_local:
        raise AccountError("password: this account's password is kept by your sign-in provider")
    if not user.check_password(current or ""):
        raise AccountError("current_password: this is not your current password")
    return _replace_password(user, new, "password.change", keep, revoke_tokens, address)


def set_password_by_admin(user: User, password: str) -> None:
    """`flask users set-password`: for a locked-out admin; every session of the user ends."""
    check_new_password(password, user)
    user.set_password(password)
    if user.auth_source != "local":
        user.auth_source = "local"
    ended = end_sessions(user)
    announce("password.set", target=user.email, detail=f"command line; {ended} session(s) ended")


def update_profile(user: User, name: str) -> bool:
    name = " ".join((name or "").split())[:120]
    if not name:
        raise AccountError("name: say how colleagues should see you")
    if name == user.name:
        return False
    user.name = name
    return True


# -- API tokens -------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    user: User,
    name: str = "",
    expires_at: datetime | None = None,
    actor: User | None = None,
    address: str = "",
) -> str:
    """Issue a token; only its hash is stored, so it is shown once."""
    name = " ".join((name or "").split())[:TOKEN_NAME_MAX]
    if expires_at is not None and as_utc(expires_at) <= utcnow():
        raise AccountError("expires: choose a date in the future")
    token = "ff_" + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user=user, token_hash=hash_token(token), name=name, expires_at=expires_at)
    )
    db.session.flush()
    expiry = f", expires {as_utc(expires_at):%Y-%m-%d}" if expires_at else ""
    announce(
        "token.create",
        actor=actor or user,
        target=user.email,
        detail=f"{name or '(no name)'}{expiry}",
        address=address,
    )
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def all_tokens() -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(actor: User, token: ApiToken, address: str = "") -> None:
    """Delete a token: the next call with it gets 401."""
    announce(
        "token.revoke",
        actor=actor,
        target=token.user.email,
        detail=token.name or "(no name)",
        address=address,
    )
    db.session.delete(token)
    db.session.flush()


def revoke_all_tokens(user: User) -> int:
    rows = tokens_of(user)
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return len(rows)


def user_for_token(token: str) -> User | None:
    """The active user a live token belongs to; notes when it was used (write-behind)."""
    row = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None or not row.user.is_active or row.is_expired():
        return None
    now = utcnow()
    if row.last_used_at is None or as_utc(row.last_used_at) + TOKEN_TOUCH_EVERY <= now:
        row_id = row.id
        writebehind.submit(
            lambda s: s.execute(
                update(ApiToken).where(ApiToken.id == row_id).values(last_used_at=now)
            )
        )
    return row.user


def generate_password() -> str:
    return secrets.token_urlsafe(12)
