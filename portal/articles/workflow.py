"""The editorial workflow: which article status may follow which, and who may move it.

Agents write drafts and submit them for review; editors publish, send back with a comment,
archive or bring back; admins may do everything (User.has_role counts admin as every role).
"""

from __future__ import annotations

from typing import Any

TRANSITIONS: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("draft", "review"): ("submitted", frozenset({"agent", "editor"})),
    ("review", "draft"): ("sent back", frozenset({"editor"})),
    ("draft", "published"): ("published", frozenset({"editor"})),
    ("review", "published"): ("published", frozenset({"editor"})),
    ("published", "draft"): ("unpublished", frozenset({"editor"})),
    ("draft", "archived"): ("archived", frozenset({"editor"})),
    ("review", "archived"): ("archived", frozenset({"editor"})),
    ("published", "archived"): ("archived", frozenset({"editor"})),
    ("archived", "draft"): ("restored", frozenset({"editor"})),
}

LABELS = {"draft": "Draft", "review": "In review", "published": "Published", "archived": "Archived"}


class WorkflowError(ValueError):
    pass


def role_of(user: Any) -> str | None:
    """The workflow role of a user: editor (editors and admins), agent, or none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.has_role("editor"):
        return "editor"
    if user.is_staff:
        return "agent"
    return None


def action(current: str, target: str) -> str:
    return TRANSITIONS[(current, target)][0]


def allowed(current: str, target: str, user: Any) -> bool:
    role = role_of(user)
    entry = TRANSITIONS.get((current, target))
    return bool(role and entry and role in entry[1])


def targets(current: str, user: Any) -> list[str]:
    return [to for (frm, to) in TRANSITIONS if frm == current and allowed(frm, to, user)]


def check(current: str, target: str, user: Any) -> None:
    if current == target:
        raise WorkflowError(f"The article is already {LABELS[target].lower()}.")
    if not allowed(current, target, user):
        raise WorkflowError(
            f"You cannot move an article from {LABELS[current].lower()} to "
            f"{LABELS[target].lower()}; "
            + (
                "an editor must do that."
                if role_of(user) == "agent"
                else "that step does not exist."
            )
        )
