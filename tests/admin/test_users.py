"""Users and roles: create with a password shown once, change roles, deactivate."""

from __future__ import annotations

import re

import pytest

from portal.accounts.models import User
from portal.accounts.services import find_user
from portal.admin import services
from portal.admin.services import AdminError
from portal.extensions import db


def reload(user: User) -> User:
    db.session.rollback()
    return db.session.get(User, user.id)


def test_a_user_is_created_with_a_password_shown_once(admin_client, client, auth, audit_log):
    response = admin_client.post(
        "/admin/users",
        data={"email": "Nina@Example.com", "name": "Nina New", "roles": ["agent", "editor"]},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(rb"<code>([^<]+)</code>", response.data).group(1).decode()
    assert len(password) >= 12
    db.session.rollback()
    nina = find_user("nina@example.com")
    assert nina.roles == {"agent", "editor"}
    assert nina.password_hash and password not in nina.password_hash
    assert password.encode() not in admin_client.get("/admin/users").data
    assert audit_log() == [("user.create", "nina@example.com", "none -> agent, editor")]
    auth.logout()
    assert auth.login("nina@example.com", password).status_code == 302
    assert client.get("/incidents/queue").status_code == 200


def test_a_user_without_roles_is_an_employee(admin):
    user, _ = services.create_account(admin, "emma@example.com", "Emma", [])
    assert user.roles == {"employee"}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"email": "ada@example.com", "name": "Again"}, "Email: ada@example.com already has"),
        ({"email": "not-an-address", "name": "X"}, "Email: not a valid address."),
        ({"email": "x@example.com", "name": "X", "roles": ["wizard"]}, "Unknown role wizard"),
        ({"email": "x@example.com", "name": ""}, "Name: This field is required."),
    ],
)
def test_bad_users_are_refused(admin_client, audit_log, data, message):
    response = admin_client.post("/admin/users", data=data)
    assert response.status_code == 400
    assert message in response.data.decode()
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1
    assert audit_log() == []


def test_roles_change_with_checkboxes_and_are_audited(admin_client, make_user, audit_log):
    erin = make_user("employee")
    response = admin_client.post(f"/admin/users/{erin.id}/roles", data={"roles": ["agent"]})
    assert response.status_code == 302
    assert reload(erin).roles == {"agent"}
    page = admin_client.get("/admin/users").data.decode()
    assert f'value="agent" id="roles-{erin.id}-agent" checked' in page
    assert audit_log() == [("user.roles", erin.email, "employee -> agent")]


def test_an_admin_cannot_remove_their_own_admin_role(admin_client, admin, audit_log):
    response = admin_client.post(f"/admin/users/{admin.id}/roles", data={"roles": ["agent"]})
    assert response.status_code == 400
    assert "You cannot remove your own admin role" in response.data.decode()
    assert reload(admin).roles == {"admin"}
    assert audit_log() == []


def test_another_admin_may_remove_an_admin_role(admin, make_user):
    other = make_user("admin")
    assert services.set_user_roles(admin, other, ["editor"]) is True
    assert other.roles == {"editor"}


def test_unknown_roles_are_refused(admin, make_user):
    with pytest.raises(AdminError, match="Unknown role root"):
        services.set_user_roles(admin, make_user(), ["root"])


def test_deactivating_stops_sign_in_and_activating_restores_it(
    admin_client, client, auth, make_user, audit_log
):
    erin = make_user("employee")
    assert admin_client.post(f"/admin/users/{erin.id}/deactivate").status_code == 302
    assert reload(erin).is_active_account is False
    assert b"Deactivated" in admin_client.get("/admin/users").data
    assert admin_client.post(f"/admin/users/{erin.id}/activate").status_code == 302
    assert reload(erin).is_active_account is True
    assert [entry[2] for entry in audit_log()] == ["active -> inactive", "inactive -> active"]
    admin_client.post(f"/admin/users/{erin.id}/deactivate")
    auth.logout()
    auth.login(erin)
    assert client.get("/incidents/").status_code == 302  # not signed in


def test_an_admin_cannot_deactivate_themselves(admin_client, admin, audit_log):
    response = admin_client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400
    assert "You cannot deactivate your own account." in response.data.decode()
    assert reload(admin).is_active_account is True
    assert audit_log() == []


def test_the_list_finds_users_and_pages(admin_client, make_user):
    make_user("agent", email="zed@example.com", name="Zed Agent")
    page = admin_client.get("/admin/users", query_string={"q": "zed"}).data.decode()
    assert "zed@example.com" in page and "ada@example.com" not in page
    page = admin_client.get("/admin/users", query_string={"q": "100%_"}).data.decode()
    assert "No users found." in page


def test_the_pages_own_role_checkboxes_round_trip(admin_client, make_user, audit_log):
    from tests.admin.conftest import submit

    erin = make_user(["employee", "editor"])
    response = submit(admin_client, "/admin/users", f"/admin/users/{erin.id}/roles")
    assert response.status_code == 302
    assert reload(erin).roles == {"employee", "editor"}
    assert audit_log() == []
