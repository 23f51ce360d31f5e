"""The profile page: name, language and mail settings; staff see the staff kinds of mail."""

from __future__ import annotations

from portal.accounts.preferences import mail_settings, wants_mail
from portal.extensions import db


def test_name_and_language_are_saved(client, auth, employee):
    auth.login(employee)
    response = client.post("/profile", data={"name": "  Erin   E. ", "language": "en"})
    assert response.status_code == 302
    db.session.refresh(employee)
    assert employee.name == "Erin E." and employee.language == "en"
    assert "Erin E." in client.get("/profile").data.decode()


def test_a_blank_name_or_unknown_language_is_refused(client, auth, employee):
    auth.login(employee)
    assert client.post("/profile", data={"name": " ", "language": ""}).status_code == 400
    assert client.post("/profile", data={"name": "X", "language": "xx"}).status_code == 400
    db.session.refresh(employee)
    assert employee.name == "Erin Employee"


def test_mail_settings_are_stored_per_user(client, auth, employee, agent):
    auth.login(employee)
    page = client.get("/profile").data.decode()
    assert "Updates on incidents I raised" in page
    assert "New incidents in the desk" not in page  # staff kinds only for staff
    response = client.post("/profile/mail", data={"mail": ["followed"]})
    assert response.status_code == 302
    db.session.refresh(employee)
    assert not wants_mail(employee, "my_incidents") and wants_mail(employee, "followed")
    assert employee.preferences == {"mail": {"my_incidents": False, "followed": True}}
    assert wants_mail(agent, "my_incidents")  # someone else's choice is untouched
    assert set(mail_settings(agent)) == {"my_incidents", "followed", "assigned", "new_incidents"}


def test_an_unknown_kind_of_mail_is_refused(client, auth, employee):
    auth.login(employee)
    assert client.post("/profile/mail", data={"mail": ["new_incidents"]}).status_code == 400


def test_a_single_sign_on_user_has_no_password_to_change(client, auth, employee):
    auth.login(employee)
    employee.auth_source = "oidc"
    db.session.commit()
    page = client.get("/profile").data.decode()
    assert "Change password" not in page and "signs in with OIDC" in page
    refused = client.post(
        "/profile/password",
        data={
            "current_password": "correct horse battery",
            "password": "x" * 12,
            "confirm": "x" * 12,
        },
    )
    assert refused.status_code == 400 and b"kept by your sign-in provider" in refused.data


def test_the_profile_needs_sign_in(client):
    assert client.get("/profile").status_code == 302
