import pytest

from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import PASSWORD


def test_sign_in_and_out(client, auth, make_user):
    user = make_user("employee")
    response = auth.login(user)
    assert response.status_code == 302
    assert user.name.encode() in client.get("/").data
    auth.logout()
    assert b"Sign in" in client.get("/").data


def test_unknown_user_and_wrong_password_get_the_same_message(client, make_user):
    user = make_user()
    wrong = client.post("/login", data={"email": user.email, "password": "nope nope nope"})
    unknown = client.post("/login", data={"email": "ghost@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert b"Wrong email or password." in wrong.data
    assert b"Wrong email or password." in unknown.data


def test_passwords_are_stored_hashed(monkeypatch):
    monkeypatch.undo()  # the real hashing, not the suite's quick one
    user = User(email="x@example.com", name="X")
    user.set_password(PASSWORD)
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("scrypt:")
    assert user.check_password(PASSWORD) and not user.check_password("wrong")


def test_session_is_cleared_at_sign_in(client, make_user):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"email": make_user().email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/articles/x", "/articles/x"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_only_leads_to_this_site(client, make_user, target, expected):
    response = client.post(
        "/login", data={"email": make_user().email, "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == expected


def test_security_headers_on_every_page(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_is_httponly_lax_and_secure_over_https(app, make_user):
    user = make_user()
    plain = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = app.test_client().post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        base_url="https://localhost",
    )
    assert "Secure" in https.headers["Set-Cookie"]


def test_sign_out_needs_a_post(client, auth, make_user):
    auth.login(make_user())
    assert client.get("/logout").status_code == 405


class TestWithRealCsrf:
    @pytest.fixture
    def config_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_form_without_token_is_refused(self, client, make_user):
        response = client.post("/login", data={"email": make_user().email, "password": PASSWORD})
        assert response.status_code == 400
        assert b"The form expired" in response.data

    def test_form_with_token_is_accepted(self, client, make_user):
        page = client.get("/login").data.decode()
        token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/login",
            data={"email": make_user().email, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302


class TestRateLimit:
    @pytest.fixture
    def config_overrides(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_sign_in_attempts_are_rate_limited(self, client, make_user):
        user = make_user()
        codes = [
            client.post("/login", data={"email": user.email, "password": "wrong wrong"}).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        assert client.get("/login").status_code == 200  # reading the form is not limited


@pytest.mark.parametrize("url", ["/articles/x%00y", "/search?q=a%00b", "/api/v1/articles/x%00y"])
def test_nul_characters_get_a_clear_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert b"NUL" in response.data


def test_deactivated_user_is_signed_out_at_the_next_request(client, auth, make_user):
    user = make_user()
    auth.login(user)
    assert user.name.encode() in client.get("/").data
    user.is_active_account = False
    db.session.commit()
    assert user.name.encode() not in client.get("/").data
    assert client.get("/incidents/").status_code == 302
