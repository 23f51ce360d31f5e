"""Sign-in, password, role and token events, announced for the audit log.

The audit log lives in portal.admin, above accounts in the order of domains, so accounts
announces each event on a blinker signal and admin writes the entry when it hears it, in
the caller's transaction (the receiver runs synchronously), so an event is never half-saved.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sent with action, actor (a User or None), target (text), detail (text), address (text)
account_event = _signals.signal("account-event")


def announce(
    action: str, *, actor=None, target: str = "", detail: str = "", address: str = ""
) -> None:
    """Tell the audit log that something happened to an account."""
    account_event.send(action, actor=actor, target=target, detail=detail, address=address or "")
