"""LDAP sign-in against a real OpenLDAP (slapd on loopback, StartTLS and LDAPS)."""

from __future__ import annotations

import pytest
from ldap3 import MODIFY_ADD, MODIFY_DELETE
from sqlalchemy import select

from portal.accounts import ldap
from portal.accounts.models import User
from portal.admin.models import AuditEntry
from portal.extensions import db
from tests.accounts.real_servers import (
    BASE,
    LENA_PASSWORD,
    MAX_PASSWORD,
    Directory,
    free_port,
)
from tests.conftest import PASSWORD


@pytest.fixture(scope="module")
def directory():
    directory = Directory()
    yield directory
    directory.stop()


@pytest.fixture
def config_overrides(directory):
    return directory.portal_config()


def login(client, name: str, password: str):
    return client.post("/login", data={"email": name, "password": password})


def user(email: str) -> User | None:
    db.session.rollback()
    return db.session.scalars(select(User).where(User.email == email)).first()


def test_the_sign_in_page_asks_for_email_or_user_name(client):
    assert "Email or user name" in client.get("/login").data.decode()


def test_a_directory_user_signs_in_by_user_name_and_is_created(client):
    response = login(client, "lena", LENA_PASSWORD)
    assert response.status_code == 302
    lena = user("lena.ldap@example.com")
    assert lena.name == "Lena Ldap" and lena.roles == {"employee"}
    assert lena.auth_source == "ldap" and lena.external_id == f"uid=lena,ou=people,{BASE}"
    assert lena.password_hash is None  # the directory keeps the password
    assert client.get("/profile").status_code == 200
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "signin.success")
    ).one()
    assert entry.detail == "ldap"


def test_signing_in_by_email_finds_the_same_account(client, app):
    login(client, "lena", LENA_PASSWORD)
    other = app.test_client()
    assert login(other, "lena.ldap@example.com", LENA_PASSWORD).status_code == 302
    assert len(db.session.scalars(select(User)).all()) == 1


def test_a_wrong_password_is_refused_with_the_usual_message(client):
    response = login(client, "lena", "not her password")
    assert response.status_code == 401 and b"Wrong email or password." in response.data
    assert user("lena.ldap@example.com") is None


def test_a_member_of_the_desk_group_becomes_an_agent_and_loses_it_with_the_group(
    app, client, directory
):
    login(client, "max", MAX_PASSWORD)
    assert user("max.desk@example.com").roles == {"agent", "employee"}
    with directory.admin() as conn:
        assert conn.modify(
            f"cn=it-servicedesk,ou=groups,{BASE}",
            {"member": [(MODIFY_DELETE, [f"uid=max,ou=people,{BASE}"])]},
        ), conn.result
    try:
        assert login(app.test_client(), "max", MAX_PASSWORD).status_code == 302
        assert user("max.desk@example.com").roles == {"employee"}
    finally:
        with directory.admin() as conn:
            conn.modify(
                f"cn=it-servicedesk,ou=groups,{BASE}",
                {"member": [(MODIFY_ADD, [f"uid=max,ou=people,{BASE}"])]},
            )


@pytest.mark.parametrize("login_text", ["*", "*)(uid=*", "lena)(|(uid=*", "lena*", "*)(|(mail=*"])
def test_filter_characters_in_the_login_match_nothing(client, login_text):
    """Escaped (RFC 4515): with the right password of someone, still no sign-in."""
    for password in (LENA_PASSWORD, MAX_PASSWORD, "x"):
        assert login(client, login_text, password).status_code == 401
    assert db.session.scalars(select(User)).all() == []


def test_the_filter_escapes_the_login():
    assert (
        ldap.user_filter("*)(uid=*", "(|(mail={login})(uid={login}))")
        == r"(|(mail=\2a\29\28uid=\2a)(uid=\2a\29\28uid=\2a))"
    )


def test_an_empty_password_never_reaches_the_directory(app):
    """An LDAP bind with an empty password is an anonymous bind, which succeeds."""
    with app.test_request_context():
        assert ldap.authenticate("lena", "") is None


def test_ldaps_works_too(another_app, directory):
    tls = another_app(LDAP_URL=f"ldaps://127.0.0.1:{directory.tls_port}", LDAP_START_TLS=False)
    with tls.app_context():
        assert login(tls.test_client(), "lena", LENA_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "change, why",
    [
        ({"LDAP_CA_FILE": "other"}, "certificate"),  # a server we cannot verify
        ({"LDAP_URL": "down"}, ""),  # nothing listens
        ({"LDAP_BIND_PASSWORD": "wrong service password"}, "service account"),
    ],
)
def test_a_directory_we_cannot_use_gets_a_clear_answer_and_local_sign_in_works(
    another_app, directory, make_user, change, why
):
    config = dict(change)
    if config.get("LDAP_CA_FILE") == "other":
        config["LDAP_CA_FILE"] = str(directory.folder / "other-ca.pem")
    if config.get("LDAP_URL") == "down":
        config["LDAP_URL"] = f"ldap://127.0.0.1:{free_port()}"
    broken = another_app(**config)
    admin_email = make_user("admin", email="ada@example.com").email
    with broken.app_context():
        browser = broken.test_client()
        response = login(browser, "lena", LENA_PASSWORD)
        assert response.status_code == 503
        assert b"The company directory does not answer" in response.data
        assert login(browser, admin_email, PASSWORD).status_code == 302
        failure = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "signin.failure")
        ).one()
        assert why in failure.detail


def test_a_deactivated_directory_user_cannot_sign_in(client, app):
    login(client, "lena", LENA_PASSWORD)
    lena = user("lena.ldap@example.com")
    lena.is_active_account = False
    db.session.commit()
    assert client.get("/profile").status_code == 302  # the session ended at once
    response = login(app.test_client(), "lena", LENA_PASSWORD)
    assert response.status_code == 401 and b"This account is deactivated" in response.data


def test_a_local_account_is_checked_here_first(client, make_user):
    """The first admin signs in with their own password even where LDAP is configured."""
    admin = make_user("admin", email="ada@example.com")
    assert login(client, admin.email, PASSWORD).status_code == 302
