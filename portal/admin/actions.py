"""What each audit action code means, in words an admin reads (the one mapping of codes to
labels: the audit log, the admin overview and anything else that shows an entry use it)."""

from __future__ import annotations

LABELS: dict[str, str] = {
    # admin area
    "category.create": "Added a category",
    "category.rename": "Renamed a category",
    "category.delete": "Deleted a category",
    "setting.priority_matrix": "Changed the priority matrix",
    "setting.sla_policies": "Changed the SLA policies",
    "setting.requesters_see_priority": "Changed whether requesters see the priority",
    "setting.business_hours": "Changed the business hours",
    "setting.timezone": "Changed the time zone",
    "setting.branding": "Changed the branding",
    "holiday.add": "Added a holiday",
    "holiday.remove": "Removed a holiday",
    "holiday.import": "Imported public holidays",
    "synonyms.add": "Added a synonym group",
    "synonyms.edit": "Changed a synonym group",
    "synonyms.delete": "Deleted a synonym group",
    "user.create": "Created a user",
    "user.roles": "Changed a user's roles",
    "user.active": "Activated or deactivated a user",
    "mail.settings": "Changed the mail settings",
    # accounts (portal/accounts/audit.py announces these)
    "signin.success": "Signed in",
    "signin.failure": "Failed sign-in",
    "signout": "Signed out",
    "signout.everywhere": "Signed out everywhere",
    "password.change": "Changed their password",
    "password.reset": "Reset their password from a link",
    "password.reset_request": "Asked for a password reset link",
    "password.reset_sent": "Sent a password reset link",
    "password.set": "Set a password from the command line",
    "token.create": "Created an API token",
    "token.revoke": "Revoked an API token",
}


def action_label(code: str) -> str:
    """The words for an action code; an unknown code (from a newer or older release) reads
    as itself with its dots and underscores turned into spaces, never as nothing."""
    label = LABELS.get(code)
    if label is not None:
        return label
    if code.startswith("setting."):
        return f"Changed the setting {code.removeprefix('setting.').replace('_', ' ')}"
    words = code.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "(no action)"
