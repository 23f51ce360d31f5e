"""Signing in as people do: through the real OpenID Provider's own pages, with an LDAP
account, with a password forgotten and reset from the mailed link; and API tokens."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.notifications.services import send_pending
from tests.accounts.real_servers import LENA_PASSWORD, Directory, OpenIDProvider, free_port
from tests.browser.conftest import EMPLOYEE_EMAIL
from tests.notifications.test_mail import Inbox, start_server

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a new passphrase from the mail"


@pytest.fixture(scope="module")
def inbox():
    handler = Inbox()
    controller = start_server(handler)
    yield handler
    controller.stop()


@pytest.fixture(scope="module")
def live_config(inbox):
    port = free_port()
    provider = OpenIDProvider([f"http://127.0.0.1:{port}/login/sso/callback"])
    try:
        directory = Directory()
    except BaseException:
        provider.stop()
        raise
    yield {
        "LIVE_PORT": port,
        **provider.portal_config(),
        **directory.portal_config(),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": inbox.port,
    }
    provider.stop()
    directory.stop()


def roles_of(live_portal, email: str) -> set[str]:
    with live_portal.app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        roles = set(user.roles)
        db.session.remove()
    return roles


def sign_in_at_the_provider(page, live_portal, login: str, shot: str) -> None:
    page.goto("/login")
    page.click("#sso")
    page.wait_for_selector("input[name=login]")
    assert page.url.startswith("http://127.0.0.1:") and "/interaction/" in page.url
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "whatever the provider asks")
    live_portal.shot(page, f"{shot}-1-provider-login")
    page.click("button[type=submit]")
    if "/interaction/" in page.url:  # the provider asks to share the claims
        live_portal.shot(page, f"{shot}-2-provider-consent")
        page.click("button[type=submit]")
    page.wait_for_url(f"{live_portal.url}/")


def test_a_new_employee_signs_in_through_the_provider(page, live_portal):
    sign_in_at_the_provider(page, live_portal, "nora", "oidc-employee")
    assert "Signed in as Nora New." in page.inner_text(".flashes")
    live_portal.shot(page, "oidc-employee-3-signed-in")
    assert roles_of(live_portal, "nora.new@example.com") == {"employee"}
    page.click("header .who a")
    assert "employee" in page.inner_text("main") and "signs in with OIDC" in page.inner_text("main")
    live_portal.shot(page, "oidc-employee-4-profile")


def test_a_member_of_the_desk_group_signs_in_as_an_agent(page, live_portal):
    sign_in_at_the_provider(page, live_portal, "dana", "oidc-agent")
    assert roles_of(live_portal, "dana.desk@example.com") == {"agent", "employee"}
    assert page.locator("header a", has_text="Queue").count() == 1
    page.click("header a:has-text('Queue')")
    live_portal.shot(page, "oidc-agent-queue")


def test_an_ldap_user_signs_in_with_the_directory_password(page, live_portal):
    page.goto("/login")
    assert "Email or user name" in page.inner_text("main")
    page.fill("input[name=email]", "lena")
    page.fill("input[name=password]", LENA_PASSWORD)
    page.click("main input[type=submit][value='Sign in']")
    assert "Signed in as Lena Ldap." in page.inner_text(".flashes")
    page.goto("/profile")
    assert "signs in with LDAP" in page.inner_text("main")
    live_portal.shot(page, "ldap-signed-in")


def test_forget_the_password_follow_the_mail_set_a_new_one_sign_in(page, live_portal, inbox):
    page.goto("/login")
    page.click("text=Forgot your password?")
    page.fill("input[name=email]", EMPLOYEE_EMAIL)
    page.click("main input[type=submit]")
    assert "Check your mail" in page.inner_text("h1")
    live_portal.shot(page, "reset-1-check-your-mail")
    before = len(inbox.messages)
    with live_portal.app.app_context():
        send_pending()
        db.session.remove()
    assert inbox.wait_for(before + 1)
    body = inbox.messages[-1][1].get_content()
    link = re.search(r"http://127\.0\.0\.1:\d+/password/reset/\S+", body).group(0)
    page.goto(link)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    live_portal.shot(page, "reset-2-new-password")
    page.click("main input[type=submit]")
    assert "Your password was changed." in page.inner_text(".flashes")
    page.fill("input[name=email]", EMPLOYEE_EMAIL)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("main input[type=submit][value='Sign in']")
    assert "Signed in as Erin Employee." in page.inner_text(".flashes")
    live_portal.shot(page, "reset-3-signed-in")
    page.goto(link)
    assert "This link no longer works" in page.inner_text("h1")


def test_create_and_revoke_an_api_token(page, live_portal):
    page.goto("/login")
    page.fill("input[name=email]", "alex.agent@example.com")
    page.fill("input[name=password]", "correct horse battery")
    page.click("main input[type=submit][value='Sign in']")
    page.goto("/profile#tokens")
    page.fill("input[name=token-name]", "monitoring script")
    page.click("input[type=submit][value='Create token']")
    token = page.inner_text("#new-token").strip()
    live_portal.shot(page, "token-1-created")
    api = f"{live_portal.url}/api/v1/incidents"
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.get(api, headers=auth, timeout=10).status_code == 200
    page.goto("/profile#tokens")
    row = page.locator("#tokens tr", has_text="monitoring script")
    assert "never" not in row.locator("td").nth(2).inner_text()  # last used: just now
    live_portal.shot(page, "token-2-listed")
    row.locator("button:has-text('Revoke')").click()
    assert "revoked" in page.inner_text(".flashes")
    live_portal.shot(page, "token-3-revoked")
    assert requests.get(api, headers=auth, timeout=10).status_code == 401
