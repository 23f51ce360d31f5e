"""The profile page: name, language and which notifications come by mail."""

from __future__ import annotations

from portal.extensions import db
from portal.notifications.preferences import choices_for, wants_mail


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


def test_mail_choices_are_stored_per_user(client, auth, employee, agent):
    auth.login(employee)
    page = client.get("/profile").data.decode()
    assert "The service desk replied" in page
    assert "A new P1 or P2 incident" not in page  # the desk's kinds only for staff
    kept = [name for name, _, _ in choices_for(employee) if name != "received"]
    response = client.post("/profile/mail", data={"mail": kept})
    assert response.status_code == 302
    db.session.rollback()
    assert not wants_mail(employee, "received") and wants_mail(employee, "public_reply")
    assert wants_mail(agent, "received")  # someone else's choice is untouched
    page = client.get("/profile").data.decode()
    assert 'value="received"' in page and 'value="received" checked' not in page


def test_staff_choose_the_desk_notifications_too(client, auth, agent):
    auth.login(agent)
    page = client.get("/profile").data.decode()
    assert "A new P1 or P2 incident" in page and "always in the top bar" in page
    client.post("/profile/mail", data={"mail": ["new_incident"]})
    db.session.rollback()
    assert wants_mail(agent, "new_incident") and not wants_mail(agent, "urgent_incident")


def test_an_unknown_kind_of_mail_is_refused(client, auth, employee):
    auth.login(employee)
    assert client.post("/profile/mail", data={"mail": ["new_incident"]}).status_code == 400
    assert client.post("/profile/mail", data={"mail": ["no-such"]}).status_code == 400


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
