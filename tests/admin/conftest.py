"""Fixtures for the admin area: an admin, signed in, and a way to read the audit log."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.admin.models import AuditEntry
from portal.extensions import db


@pytest.fixture
def admin(make_user):
    return make_user("admin", email="ada@example.com", name="Ada Admin")


@pytest.fixture
def admin_client(client, auth, admin):
    """A client signed in as the admin."""
    auth.login(admin)
    return client


@pytest.fixture
def audit_log(app):
    """The audit entries so far, oldest first, as (action, target, detail) tuples; sign-ins
    and sign-outs (audited too, see tests/accounts) are left out."""

    def read() -> list[tuple[str, str, str]]:
        db.session.rollback()
        rows = db.session.scalars(
            select(AuditEntry)
            .where(~AuditEntry.action.startswith("signin."), AuditEntry.action != "signout")
            .order_by(AuditEntry.id)
        ).all()
        return [(row.action, row.target, row.detail) for row in rows]

    return read


class _Forms(HTMLParser):
    """The POST forms of a page: action -> list of (name, value) a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            self._fields = []
            self.forms.append((attrs.get("action", ""), self._fields))
        elif tag == "select" and self._fields is not None:
            self._select = [attrs.get("name", ""), None, False]  # name, first option, chosen
        elif tag == "option" and self._select is not None:
            value = attrs.get("value") or ""
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in attrs:
                self._fields.append((self._select[0], value))
                self._select[2] = True
        elif tag == "input" and self._fields is not None and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind != "submit":
                self._fields.append((attrs["name"], attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select" and self._select is not None:
            name, first, chosen = self._select
            if not chosen and first is not None:  # a browser sends the first option
                self._fields.append((name, first))
            self._select = None


def submit(client, page_url: str, action: str, index: int = 0):
    """Post the `index`th form on the page whose action is `action`, with exactly the hidden
    and visible inputs the page rendered (checked boxes only), as a browser would."""
    parser = _Forms()
    parser.feed(client.get(page_url).data.decode())
    matching = [fields for form_action, fields in parser.forms if form_action == action]
    assert matching, f"no form posting to {action} on {page_url}"
    return client.post(action, data=MultiDict(matching[index]))
