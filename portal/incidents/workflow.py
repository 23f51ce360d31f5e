"""The one status transition table: which status may follow which, and who may move it.

Actors: "agent" (staff working the incident), "requester" (the employee who raised it, or a
colleague it is shared with; a follower moves nothing), "system" (automatic moves: a
requester's reply, autoclose, a self-solved mail).
"""

from __future__ import annotations

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("new", "in_progress"): frozenset({"agent"}),
    ("new", "waiting"): frozenset({"agent"}),
    ("new", "resolved"): frozenset({"agent"}),
    ("in_progress", "waiting"): frozenset({"agent"}),
    ("in_progress", "resolved"): frozenset({"agent"}),
    ("waiting", "in_progress"): frozenset({"agent", "system"}),
    ("waiting", "resolved"): frozenset({"agent"}),
    ("reopened", "in_progress"): frozenset({"agent"}),
    ("reopened", "waiting"): frozenset({"agent"}),
    ("reopened", "resolved"): frozenset({"agent"}),
    ("resolved", "closed"): frozenset({"agent", "requester", "system"}),
    ("resolved", "reopened"): frozenset({"agent", "requester"}),
    ("closed", "reopened"): frozenset({"requester", "agent"}),
    # "This solved it" from a mail's answer link: the portal closes it as self-solved, for
    # the requester the link was sent to (services.self_solve checks who).
    ("new", "closed"): frozenset({"system"}),
    ("in_progress", "closed"): frozenset({"system"}),
    ("waiting", "closed"): frozenset({"system"}),
    ("reopened", "closed"): frozenset({"system"}),
}


class TransitionError(ValueError):
    """A status change that is not allowed, with a message fit for the person who tried."""


def allowed(current: str, target: str, actor: str) -> bool:
    return actor in TRANSITIONS.get((current, target), frozenset())


def targets(current: str, actor: str) -> list[str]:
    """The statuses an actor may move an incident to from its current status."""
    return [to for (frm, to), actors in TRANSITIONS.items() if frm == current and actor in actors]


def check(current: str, target: str, actor: str) -> None:
    from portal.incidents.models import STATUS_LABELS

    if current == target:
        raise TransitionError(f"The incident is already {STATUS_LABELS[target]}.")
    if not allowed(current, target, actor):
        who = {"agent": "the service desk", "system": "the portal"}.get(actor, "you")
        raise TransitionError(
            f"An incident that is {STATUS_LABELS[current]} cannot be moved to "
            f"{STATUS_LABELS[target]} by {who}."
        )
