"""Which way a password is checked, and accounts that a provider vouches for.

A local account with a password here is checked here first, so the first admin keeps
signing in while the directory or the identity provider is down. Anyone else is checked
against LDAP when it is configured. An account that a provider vouches for (OIDC or LDAP)
is created on first sign-in ("just in time") and its roles follow the provider's groups,
re-read at every sign-in; roles an admin granted by hand stay.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask import current_app

from portal.accounts.audit import announce
from portal.accounts.models import ROLES, User, UserRole
from portal.accounts.services import AccountError, authenticate, create_user, find_user
from portal.extensions import db

log = logging.getLogger(__name__)

WRONG = "Wrong email or password."


@dataclass
class SignInResult:
    user: User | None
    method: str = "password"
    reason: str = ""
    message: str = WRONG
    unavailable: bool = False


@dataclass
class ExternalIdentity:
    """What a provider says about a person it has just authenticated."""

    source: str  # oidc or ldap
    external_id: str
    email: str
    name: str
    groups: list[str] = field(default_factory=list)


def password_sign_in(login: str, password: str) -> SignInResult:
    """Check a typed login and password the right way; one message for every failure."""
    from portal.accounts import ldap

    login = (login or "").strip()
    user = find_user(login) if "@" in login else None
    if user is not None and user.is_local and user.password_hash:
        checked = authenticate(login, password)
        if checked is None:
            return SignInResult(None, reason="wrong password or deactivated")
        return SignInResult(checked)
    if not ldap.enabled():
        authenticate(login, password)  # same work as a real check: no timing tells
        return SignInResult(None, reason="no such local account")
    try:
        identity = ldap.authenticate(login, password)
    except ldap.DirectoryUnavailable as exc:
        log.warning("LDAP sign-in failed: %s", exc)
        return SignInResult(
            None,
            method="ldap",
            reason=f"directory unavailable: {exc}",
            message="The company directory does not answer, so directory accounts cannot "
            "sign in right now. Try again in a few minutes; local accounts still work.",
            unavailable=True,
        )
    if identity is None:
        return SignInResult(None, method="ldap", reason="directory refused the login")
    try:
        return SignInResult(provision(identity), method="ldap")
    except AccountError as exc:
        return SignInResult(None, method="ldap", reason=str(exc), message=str(exc))


def roles_from_groups(groups: Iterable[str], mapping: Mapping[str, str]) -> set[str]:
    """Roles the groups map to; a group matches by its full name (DN) or by its CN."""
    wanted: dict[str, str] = {str(k).strip().lower(): str(v) for k, v in mapping.items()}
    roles: set[str] = set()
    for group in groups:
        group = str(group).strip().lower()
        names = {group}
        if group.startswith("cn="):
            names.add(group.split(",", 1)[0][3:])
        for name in names:
            role = wanted.get(name)
            if role in ROLES:
                roles.add(role)
    return roles


def _role_map(source: str) -> Mapping[str, str]:
    return current_app.config[f"{source.upper()}_ROLE_MAP"] or {}


def provision(identity: ExternalIdentity) -> User:
    """The account for a person a provider vouches for: found, linked or created, roles
    brought in line with the groups. Raises AccountError for a deactivated account."""
    email = (identity.email or "").strip().lower()
    user = db.session.scalars(
        db.select(User).where(User.external_id == identity.external_id)
    ).first()
    if user is None and email:
        user = find_user(email)
        if user is not None and user.external_id and user.external_id != identity.external_id:
            raise AccountError(
                "Another directory account already uses this email address; ask an admin."
            )
        if user is not None:
            user.external_id = identity.external_id
    if user is None:
        if not email:
            raise AccountError("The sign-in provider did not say your email address.")
        user = create_user(email, identity.name or email, {"employee"}, None, identity.source)
        user.external_id = identity.external_id
        for row in user.role_rows:
            row.source = "directory"
        announce("user.create", target=user.email, detail=f"just in time, from {identity.source}")
    if not user.is_active:
        raise AccountError("This account is deactivated. Ask the service desk to reactivate it.")
    name = " ".join((identity.name or "").split())[:120]
    if name and name != user.name:
        user.name = name
    if email and email != user.email and find_user(email) is None:
        user.email = email
    sync_directory_roles(
        user, roles_from_groups(identity.groups, _role_map(identity.source)), identity.source
    )
    db.session.flush()
    return user


def sync_directory_roles(user: User, mapped: set[str], source: str) -> bool:
    """Directory roles become exactly `mapped` plus employee (everyone the provider vouches for
    is an employee); roles an admin granted by hand stay."""
    mapped = set(mapped) | {"employee"}
    before = set(user.roles)
    by_role = {row.role: row for row in user.role_rows}
    for role, row in list(by_role.items()):
        if row.source == "directory" and role not in mapped:
            user.role_rows.remove(row)
    for role in sorted(mapped):
        if role not in by_role:
            user.role_rows.append(UserRole(role=role, source="directory"))
    after = set(user.roles)
    if after == before:
        return False

    def text(roles: set[str]) -> str:
        return ", ".join(r for r in ROLES if r in roles) or "none"

    announce(
        "user.roles",
        target=user.email,
        detail=f"{text(before)} -> {text(after)} (from the {source} groups)",
    )
    return True
