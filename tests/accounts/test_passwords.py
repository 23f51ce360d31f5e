"""Forgotten and changed passwords, with the reset mail through a real SMTP server."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from sqlalchemy import func, select

from portal.accounts.models import ApiToken, UserSession
from portal.accounts.services import create_token, reset_token
from portal.admin.models import AuditEntry
from portal.extensions import db
from portal.notifications.models import MailMessage
from portal.notifications.services import send_pending
from tests.conftest import PASSWORD
from tests.notifications.test_mail import Inbox, start_server

NEW = "a fresh passphrase here"
PUBLIC = "https://help.example.com"


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = start_server(handler)
    yield handler
    controller.stop()


@pytest.fixture
def config_overrides(inbox) -> dict:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": inbox.port, "PUBLIC_URL": PUBLIC}


def mailed_link(inbox, count: int = 1) -> str:
    """Send what is queued and return the reset link of the newest mail."""
    send_pending()
    assert inbox.wait_for(count)
    body = inbox.messages[-1][1].get_content()
    return re.search(r"https?://\S+/password/reset/\S+", body).group(0)


def local_path(link: str) -> str:
    assert link.startswith(PUBLIC + "/")
    return link[len(PUBLIC) :]


def test_forgot_follow_the_mailed_link_set_a_new_password_sign_in(client, auth, inbox, employee):
    page = client.get("/login").data.decode()
    assert 'href="/password/forgot"' in page
    response = client.post("/password/forgot", data={"email": "ERIN@example.com "})
    assert response.status_code == 200 and b"Check your mail" in response.data
    link = mailed_link(inbox)
    assert inbox.to() == ["erin@example.com"]
    form = client.get(local_path(link))
    assert form.status_code == 200 and b"Choose a new password" in form.data
    assert form.headers["Referrer-Policy"] == "no-referrer"
    done = client.post(local_path(link), data={"password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert auth.login(employee, PASSWORD).status_code == 401
    assert auth.login(employee, NEW).status_code == 302


def test_a_reset_link_works_once(client, inbox, employee):
    client.post("/password/forgot", data={"email": employee.email})
    path = local_path(mailed_link(inbox))
    assert client.post(path, data={"password": NEW, "confirm": NEW}).status_code == 302
    again = client.post(path, data={"password": "another one entirely", "confirm": "x"})
    assert again.status_code == 400 and b"This link no longer works" in again.data
    assert client.get(path).status_code == 400


def test_a_reset_link_dies_when_the_password_changes_another_way(client, auth, inbox, employee):
    client.post("/password/forgot", data={"email": employee.email})
    path = local_path(mailed_link(inbox))
    auth.login(employee)
    client.post(
        "/profile/password", data={"current_password": PASSWORD, "password": NEW, "confirm": NEW}
    )
    assert client.get(path).status_code == 400


def test_a_reset_link_expires(app, client, employee, monkeypatch):
    import itsdangerous.timed

    real = time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 61 * 60)
    with app.test_request_context():
        token = reset_token(employee)
    monkeypatch.setattr(itsdangerous.timed.time, "time", real)
    assert client.get(f"/password/reset/{token}").status_code == 400


def test_a_forged_or_mangled_token_is_refused(client, employee):
    assert client.get("/password/reset/not-a-token").status_code == 400
    with client.application.test_request_context():
        token = reset_token(employee)
    assert client.get(f"/password/reset/{token[:-2]}xx").status_code == 400


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, inbox, employee):
    known = client.post("/password/forgot", data={"email": employee.email})
    unknown = client.post("/password/forgot", data={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200

    def strip(response) -> str:
        text = response.data.decode()
        return text.replace(employee.email, "X").replace("nobody@example.com", "X")

    assert strip(known) == strip(unknown)
    assert db.session.scalar(select(func.count(MailMessage.id))) == 1


def test_an_unknown_address_takes_about_as_long(client, employee):
    """Median of 8 alternating requests each: within 15 ms (both answer after a fixed time)."""
    client.post("/password/forgot", data={"email": employee.email})  # warm up
    known, unknown = [], []
    for _ in range(8):
        for email, times in ((employee.email, known), ("nobody@example.com", unknown)):
            start = time.perf_counter()
            client.post("/password/forgot", data={"email": email})
            times.append(time.perf_counter() - start)
    gap = abs(statistics.median(known) - statistics.median(unknown))
    assert gap < 0.015, (
        f"known {statistics.median(known):.4f}s unknown {statistics.median(unknown):.4f}s"
    )


def test_reset_ends_every_session_and_optionally_the_tokens(app, client, auth, inbox, employee):
    auth.login(employee)
    keep = create_token(employee, "kept")
    db.session.commit()
    browser = app.test_client()
    browser.post("/password/forgot", data={"email": employee.email})
    browser.post(local_path(mailed_link(inbox)), data={"password": NEW, "confirm": NEW})
    assert client.get("/profile").status_code == 302  # signed out
    assert db.session.scalar(select(func.count(UserSession.id))) == 0
    api = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {keep}"})
    assert api.status_code == 200  # tokens kept unless asked
    browser.post("/password/forgot", data={"email": employee.email})
    browser.post(
        local_path(mailed_link(inbox, 2)),
        data={
            "password": "third passphrase ok",
            "confirm": "third passphrase ok",
            "revoke_tokens": "y",
        },
    )
    api = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {keep}"})
    assert api.status_code == 401
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_the_link_starts_from_public_url_not_the_host_header(client, inbox, employee):
    client.post(
        "/password/forgot", data={"email": employee.email}, headers={"Host": "evil.example"}
    )
    assert mailed_link(inbox).startswith(PUBLIC + "/password/reset/")


def test_a_single_sign_on_account_gets_no_reset_mail(client, make_user, inbox):
    user = make_user()
    user.auth_source = "oidc"
    user.password_hash = None
    db.session.commit()
    response = client.post("/password/forgot", data={"email": user.email})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(MailMessage.id))) == 0


def test_a_weak_or_mismatched_new_password_is_refused_with_a_reason(client, inbox, employee):
    client.post("/password/forgot", data={"email": employee.email})
    path = local_path(mailed_link(inbox))
    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert short.status_code == 400 and b"at least 10 characters" in short.data
    differ = client.post(path, data={"password": NEW, "confirm": NEW + "!"})
    assert differ.status_code == 400 and b"The two passwords differ." in differ.data
    assert client.get(path).status_code == 200  # the link still works after a refusal


def test_changing_needs_the_current_password(client, auth, employee):
    auth.login(employee)
    wrong = client.post(
        "/profile/password",
        data={"current_password": "not it at all", "password": NEW, "confirm": NEW},
    )
    assert wrong.status_code == 400 and b"this is not your current password" in wrong.data
    assert auth.login(employee, PASSWORD).status_code == 302


def test_an_admin_sends_a_reset_link(client, auth, make_user, inbox, employee):
    admin = make_user("admin", email="ada@example.com")
    auth.login(admin)
    response = client.post(f"/admin/users/{employee.id}/reset-link")
    assert response.status_code == 302
    assert (
        f"A reset link is on its way to {employee.email}"
        in client.get("/admin/users").data.decode()
    )
    link = mailed_link(inbox)
    assert inbox.to() == [employee.email]
    other = client.application.test_client()
    assert other.post(local_path(link), data={"password": NEW, "confirm": NEW}).status_code == 302
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "password.reset_sent" in actions and "password.reset" in actions


def test_set_password_from_the_command_line(runner, auth, make_user):
    admin = make_user("admin", email="ada@example.com")
    result = runner.invoke(args=["users", "set-password", admin.email, "--password", NEW])
    assert result.exit_code == 0, result.output
    assert "password of ada@example.com set" in result.output
    assert auth.login(admin, NEW).status_code == 302
    short = runner.invoke(args=["users", "set-password", admin.email, "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    ghost = runner.invoke(args=["users", "set-password", "ghost@example.com", "--password", NEW])
    assert ghost.exit_code != 0 and "no user ghost@example.com" in ghost.output


class TestResetRateLimit:
    @pytest.fixture
    def config_overrides(self, inbox):
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": inbox.port,
            "RATELIMIT_ENABLED": True,
            "PASSWORD_RESET_RATE_LIMIT": "3 per hour",
        }

    def test_reset_requests_are_rate_limited_per_account(self, app, employee):
        codes = []
        for n in range(4):  # four addresses, one account
            codes.append(
                app.test_client()
                .post(
                    "/password/forgot",
                    data={"email": employee.email},
                    environ_base={"REMOTE_ADDR": f"127.0.3.{n + 1}"},
                )
                .status_code
            )
        assert codes == [200, 200, 200, 429]
        assert db.session.scalar(select(func.count(MailMessage.id))) == 3
