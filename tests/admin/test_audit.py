"""The audit log: every change with actor, action, target and old -> new, newest first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.admin import services
from portal.admin.models import AuditEntry
from portal.extensions import db
from tests.conftest import PASSWORD


def test_the_log_is_newest_first_and_paginated(admin_client, admin):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(60):
        entry = services.record(admin, "test.step", f"step {n:02d}", f"{n} -> {n + 1}")
        entry.created_at = start + timedelta(minutes=n)
    db.session.commit()
    first = admin_client.get("/admin/audit").data.decode()
    steps = re.findall(r"<td>step (\d\d)</td>", first)
    # the admin's own sign-in (audited too, and newest) takes the first of the 50 rows
    assert steps[:3] == ["59", "58", "57"] and len(steps) == 49
    assert '<td data-action="signin.success">Signed in</td>' in first
    assert "ada@example.com" in first and "59 -&gt; 60" in first
    second = admin_client.get("/admin/audit", query_string={"page": 2}).data.decode()
    assert re.findall(r"<td>step (\d\d)</td>", second)[-1] == "00"
    assert "Page 2 of 2" in second


def test_the_index_shows_the_latest_changes(admin_client, admin):
    services.set_timezone(admin, "Europe/Paris")
    db.session.commit()
    page = admin_client.get("/admin/").data.decode()
    assert "UTC -&gt; Europe/Paris" in page
    assert "Europe/Paris" in page


def test_actions_read_as_words_not_codes(admin_client, admin):
    services.import_public_holidays(admin, "DE", 2026)
    services.record(admin, "setting.something_new", "x", "a -> b")
    services.record(admin, "gadget.frobbed", "x", "a -> b")
    db.session.commit()
    page = admin_client.get("/admin/audit").data.decode()
    assert ">Imported public holidays</td>" in page
    assert ">Changed the setting something new</td>" in page
    assert ">Gadget frobbed</td>" in page
    assert ">holiday.import<" not in page


def test_every_action_the_portal_writes_has_words():
    """Each action code written anywhere in portal/ has its label in the one mapping."""
    from pathlib import Path

    from portal.admin.actions import LABELS

    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in Path("portal").rglob("*.py")
        if path.name != "actions.py"
    )
    direct = r'(?:record\(\s*\w+,|announce\()\s*"([a-z_]+(?:\.[a-z_]+)*)"'
    families = r'"((?:password|signin|token|holiday)\.[a-z_]+)"'
    written = set(re.findall(direct, source)) | set(re.findall(families, source))
    written |= {
        f"setting.{key}" for key in re.findall(r'_change_setting\(\s*actor, "(\w+)"', source)
    }
    assert {"holiday.import", "signin.failure", "token.revoke", "setting.timezone"} <= written
    assert written - set(LABELS) == set()


def test_entries_name_the_actor(admin):
    services.add_synonym_group(admin, "wifi, wireless")
    db.session.commit()
    entry = db.session.scalars(db.select(AuditEntry)).one()
    assert entry.actor is admin and entry.created_at is not None


class TestWithCsrf:
    """One real CSRF check: a forged POST changes nothing, the page's own form works."""

    @pytest.fixture
    def config_overrides(self, tmp_path) -> dict:
        return {"WTF_CSRF_ENABLED": True, "MAIL_SEND_AFTER_COMMIT": False}

    def test_a_post_without_the_token_is_refused(self, client, admin, audit_log):
        # a cookie naming the user is not enough any more (tests/accounts/test_sessions.py):
        # sign in through the real form
        login = client.get("/login").data.decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        client.post(
            "/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
        )
        response = client.post("/admin/synonyms", data={"terms": "vpn, remote access"})
        assert response.status_code == 400
        assert audit_log() == []
        page = client.get("/admin/synonyms").data.decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            "/admin/synonyms", data={"terms": "vpn, remote access", "csrf_token": token}
        )
        assert response.status_code == 302
        assert [entry[0] for entry in audit_log()] == ["synonyms.add"]
