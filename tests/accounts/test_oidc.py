"""OpenID Connect sign-in against a real OpenID Provider (oidc-provider on loopback)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from portal.accounts.models import User
from portal.admin.models import AuditEntry
from portal.extensions import db
from tests.accounts.real_servers import PEOPLE, OpenIDProvider, path_of, sign_in_at_provider
from tests.conftest import PASSWORD

CALLBACK = "http://localhost/login/sso/callback"


@pytest.fixture(scope="module")
def provider():
    provider = OpenIDProvider([CALLBACK])
    yield provider
    provider.stop()


@pytest.fixture
def config_overrides(provider):
    provider.set_people(PEOPLE)
    return provider.portal_config(PUBLIC_URL="http://localhost")


def start(client) -> str:
    """Press the sign-in button: the provider's authorize URL (state etc. in our session)."""
    response = client.get("/login/sso")
    assert response.status_code == 302, response.data[:500]
    return response.headers["Location"]


def sso(client, login: str):
    """The whole round trip: our button, the provider's pages, our callback."""
    back = sign_in_at_provider(start(client), login, CALLBACK)
    return client.get(path_of(back))


def user(email: str) -> User | None:
    db.session.rollback()
    return db.session.scalars(select(User).where(User.email == email)).first()


def signed_in(client) -> str | None:
    page = client.get("/profile")
    return page.data.decode() if page.status_code == 200 else None


def test_the_sign_in_page_offers_single_sign_on_and_a_password(client):
    page = client.get("/login").data.decode()
    assert "Sign in with your company account" in page and 'name="password"' in page


def test_the_authorize_request_uses_pkce_state_and_nonce(client):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert query["scope"] == ["openid email profile groups"]
    assert query["redirect_uri"] == [CALLBACK]


def test_a_new_employee_is_created_at_first_sign_in(client):
    response = sso(client, "nora")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    nora = user("nora.new@example.com")
    assert nora is not None and nora.name == "Nora New" and nora.roles == {"employee"}
    assert nora.auth_source == "oidc" and nora.password_hash is None
    assert "nora.new@example.com" in signed_in(client)
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["user.create", "signin.success"]


def test_a_member_of_the_desk_group_becomes_an_agent(client):
    sso(client, "dana")
    assert user("dana.desk@example.com").roles == {"agent", "employee"}
    assert client.get("/incidents/queue").status_code == 200


def test_roles_follow_the_groups_at_each_sign_in_and_hand_granted_roles_stay(app, client, provider):
    sso(client, "dana")
    dana = user("dana.desk@example.com")
    dana.set_roles(dana.roles | {"editor"})  # an admin grants editor by hand
    db.session.commit()
    provider.set_people({**PEOPLE, "dana": {**PEOPLE["dana"], "groups": ["all-staff"]}})
    again = app.test_client()
    sso(again, "dana")
    assert user("dana.desk@example.com").roles == {"editor", "employee"}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.roles")).all()[
        -1
    ]
    assert entry.detail == "employee, agent, editor -> employee, editor (from the oidc groups)"


def test_an_existing_local_account_is_linked_by_email_and_keeps_its_password(
    client, auth, make_user
):
    local = make_user("admin", email="nora.new@example.com", name="Nora Local")
    sso(client, "nora")
    linked = user("nora.new@example.com")
    assert linked.id == local.id and "admin" in linked.roles
    assert linked.external_id.endswith(" nora")
    assert auth.login(local).status_code == 302  # the password still works, too


def test_a_forged_state_is_refused(client, app):
    victim = app.test_client()
    back = sign_in_at_provider(start(victim), "nora", CALLBACK)  # a code meant for another browser
    start(client)
    query = parse_qs(urlsplit(back).query)
    response = client.get(f"/login/sso/callback?code={query['code'][0]}&state=forged-state")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert (
        "does not belong to a sign-in started in this browser" in client.get("/login").data.decode()
    )
    assert signed_in(client) is None and user("nora.new@example.com") is None


def test_a_callback_with_another_browsers_state_is_refused(client, app):
    victim = app.test_client()
    back = sign_in_at_provider(start(victim), "nora", CALLBACK)
    response = client.get(path_of(back))  # an attacker's browser never started this flow
    assert response.headers["Location"] == "/login" and signed_in(client) is None


def test_a_replayed_callback_is_refused(client):
    back = sign_in_at_provider(start(client), "nora", CALLBACK)
    assert client.get(path_of(back)).headers["Location"] == "/"
    client.post("/logout")
    replay = client.get(path_of(back))
    assert replay.headers["Location"] == "/login" and signed_in(client) is None


class _Tamper:
    """Replace the ID token in the provider's real token response (after a real exchange)."""

    def __init__(self, monkeypatch, provider, change) -> None:
        original = OAuth2Session.fetch_token

        def fetch_token(session, *args, **kwargs):
            token = original(session, *args, **kwargs)
            claims = jwt.decode(token["id_token"], provider.key).claims
            token["id_token"] = change(provider, claims)
            return token

        monkeypatch.setattr(OAuth2Session, "fetch_token", fetch_token)


def _with(**changes):
    return lambda provider, claims: provider.sign({**claims, **changes})


# attack -> (what the hook does to the real ID token, why it must be refused)
ATTACKS = {
    "wrong nonce": (_with(nonce="not-the-nonce-we-sent"), "Invalid claim: 'nonce'"),
    "another audience": (_with(aud="some-other-client", azp="firstfix"), "Invalid claim: 'aud'"),
    "expired": (
        _with(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "The token is expired",
    ),
    "another issuer": (_with(iss="http://127.0.0.1:1/evil"), "Invalid claim: 'iss'"),
    "alg none": (lambda p, claims: p.unsigned(claims), "Algorithm of 'none' is not allowed"),
    "a key that is not the provider's": (
        lambda p, claims: p.sign(
            claims, key=RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})
        ),
        "bad_signature",
    ),
    "no nonce": (
        lambda p, claims: p.sign({k: v for k, v in claims.items() if k != "nonce"}),
        "Missing claim: 'nonce'",
    ),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_bad_id_token_is_refused(client, monkeypatch, provider, attack):
    change, reason = ATTACKS[attack]
    _Tamper(monkeypatch, provider, change)
    response = sso(client, "nora")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").data.decode()
    assert "Single sign-on failed" in page
    assert signed_in(client) is None and user("nora.new@example.com") is None
    failure = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "signin.failure")
    ).one()
    assert failure.detail == f"oidc: the ID token failed a check ({reason})"


def test_the_untampered_token_passes_the_same_route(client, monkeypatch, provider):
    """The tamper hook itself changes nothing when it re-signs the same claims."""
    _Tamper(monkeypatch, provider, lambda p, claims: p.sign(claims))
    assert sso(client, "nora").headers["Location"] == "/"


def test_deactivated_while_signed_in_through_sso(app, client, auth, make_user):
    sso(client, "nora")
    assert signed_in(client)
    admin = make_user("admin", email="ada@example.com")
    admin_browser = app.test_client()
    admin_browser.post("/login", data={"email": admin.email, "password": PASSWORD})
    nora = user("nora.new@example.com")
    admin_browser.post(f"/admin/users/{nora.id}/deactivate")
    assert signed_in(client) is None
    again = sso(client, "nora")  # the provider still vouches for her: we still say no
    assert again.headers["Location"] == "/login"
    assert "This account is deactivated" in client.get("/login").data.decode()
    assert signed_in(client) is None


def test_a_provider_that_does_not_answer(another_app, make_user):
    """A clear message, and local sign-in still works (the first admin keeps getting in)."""
    from tests.accounts.real_servers import free_port

    down = another_app(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}")
    admin_email = make_user("admin", email="ada@example.com").email
    with down.app_context():
        browser = down.test_client()
        response = browser.get("/login/sso")
        assert response.status_code == 302 and response.headers["Location"] == "/login"
        page = browser.get("/login").data.decode()
        assert "does not answer right now" in page and 'name="password"' in page
        signed = browser.post("/login", data={"email": admin_email, "password": PASSWORD})
        assert signed.status_code == 302


def test_an_sso_account_cannot_sign_in_with_a_password(client, auth):
    sso(client, "nora")
    client.post("/logout")
    response = client.post("/login", data={"email": "nora.new@example.com", "password": ""})
    assert response.status_code == 200  # the form wants a password
    response = client.post("/login", data={"email": "nora.new@example.com", "password": "x" * 12})
    assert response.status_code == 401


def test_single_sign_on_is_off_without_an_issuer(another_app):
    off = another_app(OIDC_ISSUER=None)
    with off.app_context():
        browser = off.test_client()
        assert browser.get("/login/sso").status_code == 404
        assert "company account" not in browser.get("/login").data.decode()
