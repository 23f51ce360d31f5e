"""Create users, check passwords, issue API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select

from portal.accounts.models import ROLES, ApiToken, User
from portal.extensions import db
from portal.timeutil import utcnow

# A real hash to compare against when the email is unknown, so both failures take as long.
_DUMMY_HASH: str | None = None


class AccountError(ValueError):
    pass


def find_user(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    ).first()


def create_user(email: str, name: str, roles: list[str] | set[str], password: str | None) -> User:
    """Add a user; raises AccountError for a taken email or an unknown role."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise AccountError("email: not a valid address")
    if find_user(email):
        raise AccountError(f"email: {email} already has an account")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"role: unknown {', '.join(sorted(unknown))}; use {', '.join(ROLES)}")
    if password is not None and len(password) < 10:
        raise AccountError("password: at least 10 characters")
    user = User(email=email, name=(name or email).strip())
    user.set_roles(set(roles) or {"employee"})
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when email and password match an active account, else None (one answer)."""
    global _DUMMY_HASH
    user = find_user(email)
    if user is None or not user.password_hash:
        from werkzeug.security import check_password_hash, generate_password_hash

        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.check_password(password or "") or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "") -> str:
    """Issue a token; only its hash is stored, so it is shown once."""
    token = "ff_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=hash_token(token), name=name))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None or not row.user.is_active:
        return None
    return row.user


def generate_password() -> str:
    return secrets.token_urlsafe(12)
