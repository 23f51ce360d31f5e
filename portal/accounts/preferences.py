"""Per-user settings, kept as JSON in `users.preferences`; readers go through this module.

Shape (every key optional; a missing key means its default):

    {"mail": {"my_incidents": true, "followed": true, "assigned": true, "new_incidents": true}}

- `mail.my_incidents`: mail about incidents I raised (replies, waiting on me, resolved).
- `mail.followed`: mail about incidents I follow (updates posted for followers).
- `mail.assigned` (staff): an incident was assigned to me, or its requester answered.
- `mail.new_incidents` (staff): new incidents reaching the desk's queue.

The language is its own column, `users.language` ("" follows the portal's language).
Mail that a person asked for (a password reset link) is always sent.
"""

from __future__ import annotations

from portal.accounts.models import User

# kind -> (label on the profile page, only for staff)
MAIL_KINDS: dict[str, tuple[str, bool]] = {
    "my_incidents": ("Updates on incidents I raised", False),
    "followed": ("Updates on incidents I follow", False),
    "assigned": ("Incidents assigned to me, and requesters' answers on them", True),
    "new_incidents": ("New incidents in the desk's queue", True),
}

LANGUAGES: dict[str, str] = {"": "The portal's language", "en": "English"}


def wants_mail(user: User, kind: str) -> bool:
    """Whether user wants mail of this kind (all kinds are on until switched off)."""
    if kind not in MAIL_KINDS:
        raise KeyError(f"unknown kind of mail: {kind}")
    mail = (user.preferences or {}).get("mail") or {}
    return bool(mail.get(kind, True))


def mail_settings(user: User) -> dict[str, bool]:
    """Every kind of mail that applies to user, with the current choice."""
    return {
        kind: wants_mail(user, kind)
        for kind, (_, staff_only) in MAIL_KINDS.items()
        if user.is_staff or not staff_only
    }


def set_mail_settings(user: User, choices: dict[str, bool]) -> bool:
    """Store the choices for the kinds that apply to user; True when something changed."""
    current = mail_settings(user)
    wanted = {kind: bool(choices.get(kind, False)) for kind in current}
    if wanted == current:
        return False
    preferences = dict(user.preferences or {})
    preferences["mail"] = {**(preferences.get("mail") or {}), **wanted}
    user.preferences = preferences  # a new dict, so SQLAlchemy sees the change
    return True
