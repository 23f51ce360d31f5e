"""Self-service API tokens: create (shown once), last used, expiry, revoke; admins see all."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import ApiToken
from portal.accounts.services import create_token
from portal.admin.models import AuditEntry
from portal.extensions import db
from portal.timeutil import utcnow


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def make_token_on_the_profile(client, name: str = "monitoring", expires: str = "") -> str:
    page = client.post("/profile/tokens", data={"token-name": name, "token-expires": expires})
    assert page.status_code == 200, page.data
    assert page.headers["Cache-Control"] == "no-store"
    return re.search(r'<code id="new-token">([^<]+)</code>', page.data.decode()).group(1)


def test_create_use_and_revoke_a_token_from_the_profile(client, auth, employee):
    auth.login(employee)
    token = make_token_on_the_profile(client, "my script")
    listed = client.get("/profile").data.decode()
    assert "my script" in listed and token not in listed  # shown once, never again
    assert listed.count("<td>never</td>") == 2  # not used yet, no expiry
    api = client.application.test_client()
    assert api.get("/api/v1/incidents", headers=bearer(token)).status_code == 200
    db.session.rollback()
    row = db.session.scalars(select(ApiToken)).one()
    assert row.last_used_at is not None  # written behind, after the request
    assert client.get("/profile").data.decode().count("<td>never</td>") == 1  # used now
    response = client.post(f"/profile/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert api.get("/api/v1/incidents", headers=bearer(token)).status_code == 401
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["token.create", "token.revoke"]


def test_an_expired_token_is_refused(client, employee):
    token = create_token(employee, "short-lived", utcnow() + timedelta(hours=1))
    db.session.commit()
    assert client.get("/api/v1/incidents", headers=bearer(token)).status_code == 200
    row = db.session.scalars(select(ApiToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/incidents", headers=bearer(token)).status_code == 401


def test_an_expiry_in_the_past_or_a_missing_name_is_refused(client, auth, employee):
    auth.login(employee)
    past = client.post(
        "/profile/tokens",
        data={"token-name": "x", "token-expires": (date.today() - timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 400 and b"choose a date in the future" in past.data
    nameless = client.post("/profile/tokens", data={"token-name": ""})
    assert nameless.status_code == 400
    assert db.session.scalars(select(ApiToken)).all() == []


def test_an_expiry_date_is_shown_and_kept(client, auth, employee):
    auth.login(employee)
    day = date.today() + timedelta(days=30)
    make_token_on_the_profile(client, "ci", day.isoformat())
    row = db.session.scalars(select(ApiToken)).one()
    assert row.expires_at.date() == day


def test_nobody_revokes_someone_elses_token_from_their_profile(client, auth, employee, agent):
    token = create_token(agent, "agent's bot")
    db.session.commit()
    row = db.session.scalars(select(ApiToken)).one()
    auth.login(employee)
    assert client.post(f"/profile/tokens/{row.id}/revoke").status_code == 404
    assert "agent&#39;s bot" not in client.get("/profile").data.decode()
    api = client.application.test_client()
    assert api.get("/api/v1/incidents", headers=bearer(token)).status_code == 200


def test_admins_see_and_revoke_everyones_tokens(client, auth, make_user, employee, agent):
    create_token(employee, "erin's laptop")
    bot = create_token(agent, "alex's bot")
    db.session.commit()
    auth.login(make_user("admin", email="ada@example.com"))
    page = client.get("/admin/tokens").data.decode()
    assert "erin&#39;s laptop" in page and "alex&#39;s bot" in page and employee.email in page
    row = db.session.scalars(select(ApiToken).where(ApiToken.name == "alex's bot")).one()
    assert client.post(f"/admin/tokens/{row.id}/revoke").status_code == 302
    assert client.get("/api/v1/incidents", headers=bearer(bot)).status_code == 401
    assert "Token of alex@example.com revoked." in client.get("/admin/tokens").data.decode()


def test_employees_cannot_open_the_admin_token_list(client, auth, employee):
    auth.login(employee)
    assert client.get("/admin/tokens").status_code == 403


def test_a_deactivated_users_tokens_stop_working(client, employee):
    token = create_token(employee, "x")
    employee.is_active_account = False
    db.session.commit()
    assert client.get("/api/v1/incidents", headers=bearer(token)).status_code == 401
