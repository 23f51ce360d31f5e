"""Sessions end for good: sign-out, password change, deactivation, sign out everywhere, idle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import UserSession
from portal.extensions import db
from portal.timeutil import utcnow
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def signed_in_as(client, user) -> bool:
    """The profile page opens for this browser, and it is user's (a User or an email)."""
    email = user if isinstance(user, str) else user.email
    page = client.get("/profile")
    return page.status_code == 200 and email.encode() in page.data


def copy_of(app, client):
    """Another browser holding a copy of client's session cookie (a stolen cookie)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def sessions_of(user) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count(UserSession.id)).where(UserSession.user_id == user.id)
    )


def test_a_copied_cookie_stops_working_at_sign_out(app, client, auth, employee):
    auth.login(employee)
    thief = copy_of(app, client)
    assert signed_in_as(thief, employee)
    auth.logout()
    assert not signed_in_as(client, employee)
    assert not signed_in_as(thief, employee)
    assert sessions_of(employee) == 0


def test_sign_out_in_one_worker_holds_in_another(another_app, client, auth, employee):
    """Two app instances (two gunicorn workers) agree at once: the session is in the database."""
    auth.login(employee)
    other_worker = another_app()
    # plain values only inside the other app: the test's objects would load through its engine
    email = employee.email
    with other_worker.app_context():
        thief = copy_of(other_worker, client)
        assert signed_in_as(thief, email)
        auth.logout()
        assert not signed_in_as(thief, email)


def test_a_cookie_that_only_names_a_user_is_not_a_session(client, employee):
    """Flask-Login's own keys, as a forged or pre-upgrade cookie would carry them."""
    with client.session_transaction() as session:
        session["_user_id"] = str(employee.id)
        session["_fresh"] = True
    assert not signed_in_as(client, employee)
    assert client.get("/incidents/").status_code == 302


def test_changing_the_password_signs_out_other_browsers_only(app, client, auth, employee):
    auth.login(employee)
    laptop = app.test_client()
    laptop.post("/login", data={"email": employee.email, "password": PASSWORD})
    assert signed_in_as(laptop, employee)
    response = client.post(
        "/profile/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert "1 other browser(s) were signed out" in client.get("/profile").data.decode()
    assert signed_in_as(client, employee)
    assert not signed_in_as(laptop, employee)


def test_deactivation_ends_every_session_at_once(app, client, auth, make_user, employee):
    admin = make_user("admin", email="ada@example.com")
    auth.login(employee)
    admin_browser = app.test_client()
    admin_browser.post("/login", data={"email": admin.email, "password": PASSWORD})
    admin_browser.post(f"/admin/users/{employee.id}/deactivate")
    assert sessions_of(employee) == 0
    assert not signed_in_as(client, employee)
    # and the old password does not bring the account back
    assert auth.login(employee).status_code == 401


def test_sign_out_everywhere_from_the_profile(app, client, auth, employee):
    auth.login(employee)
    phone = app.test_client()
    phone.post("/login", data={"email": employee.email, "password": PASSWORD})
    assert sessions_of(employee) == 2
    response = client.post("/profile/sessions/end")
    assert response.headers["Location"].endswith("/login")
    assert not signed_in_as(client, employee) and not signed_in_as(phone, employee)
    assert sessions_of(employee) == 0


def test_an_admin_signs_someone_out_everywhere(app, client, auth, make_user, employee):
    admin = make_user("admin", email="ada@example.com")
    auth.login(employee)
    admin_browser = app.test_client()
    admin_browser.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = admin_browser.post(f"/admin/users/{employee.id}/sign-out")
    assert response.status_code == 302
    assert (
        "signed out everywhere (1 session(s) ended)"
        in admin_browser.get("/admin/users").data.decode()
    )
    assert not signed_in_as(client, employee)
    assert signed_in_as(admin_browser, admin)


def _age_sessions(user, **delta) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(
            last_seen_at=utcnow() - timedelta(**delta), created_at=utcnow() - timedelta(**delta)
        )
    )
    db.session.commit()


class TestIdleExpiry:
    @pytest.fixture
    def config_overrides(self):
        return {"SESSION_IDLE_MINUTES": 30, "SESSION_MAX_HOURS": 10}

    def test_a_session_idle_too_long_ends(self, client, auth, employee):
        auth.login(employee)
        _age_sessions(employee, minutes=29)
        assert signed_in_as(client, employee)  # and this request counts as activity
        db.session.rollback()
        seen = db.session.scalars(select(UserSession.last_seen_at)).one()
        assert utcnow() - seen.replace(tzinfo=seen.tzinfo or utcnow().tzinfo) < timedelta(minutes=1)
        _age_sessions(employee, minutes=31)
        assert not signed_in_as(client, employee)

    def test_an_active_session_still_ends_after_its_longest_life(self, client, auth, employee):
        auth.login(employee)
        db.session.execute(
            update(UserSession).values(created_at=utcnow() - timedelta(hours=10, minutes=1))
        )
        db.session.commit()
        assert not signed_in_as(client, employee)

    def test_expired_sessions_are_forgotten_at_the_next_sign_in(self, client, auth, employee):
        auth.login(employee)
        _age_sessions(employee, hours=1)
        auth.login(employee)
        assert sessions_of(employee) == 1


def test_the_profile_lists_where_i_am_signed_in(client, auth, employee):
    client.post(
        "/login",
        data={"email": employee.email, "password": PASSWORD},
        headers={"User-Agent": "Firefox on the test laptop"},
    )
    page = client.get("/profile").data.decode()
    assert "Firefox on the test laptop" in page and "this browser" in page


def test_sign_ins_and_outs_from_many_browsers_at_once(app, make_user):
    """On SQLite, eight browsers signing in, working and signing out together: no error,
    every session recorded and then gone."""
    import threading

    import requests

    from tests.live import serve

    people = [(u.email, u.name) for u in (make_user() for _ in range(8))]
    failures: list[str] = []

    def browse(person: tuple[str, str]) -> None:
        email, name = person
        http = requests.Session()
        for _ in range(3):
            steps = [
                http.post(
                    f"{url}/login",
                    data={"email": email, "password": PASSWORD},
                    allow_redirects=False,
                ),
                http.get(f"{url}/profile"),
                http.post(
                    f"{url}/profile",
                    data={"name": name, "language": "en"},
                    allow_redirects=False,
                ),
                http.post(f"{url}/logout", allow_redirects=False),
                http.get(f"{url}/profile", allow_redirects=False),
            ]
            codes = [r.status_code for r in steps]
            if codes != [302, 200, 302, 302, 302]:
                failures.append(f"{email}: {codes}")

    with serve(app) as url:
        threads = [threading.Thread(target=browse, args=(p,)) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert failures == []
    db.session.rollback()
    assert db.session.scalar(select(func.count(UserSession.id))) == 0


def test_nobody_sees_anyone_elses_sessions(app, client, employee, agent):
    other = app.test_client()
    other.post(
        "/login",
        data={"email": agent.email, "password": PASSWORD},
        headers={"User-Agent": "Alex's secret browser"},
    )
    client.post("/login", data={"email": employee.email, "password": PASSWORD})
    assert "Alex&#39;s secret browser" not in client.get("/profile").data.decode()
    assert "Alex&#39;s secret browser" in other.get("/profile").data.decode()


def test_the_searches_made_before_signing_in_survive_it(client, employee, make_article):
    """The trail an incident carries (portal.analytics) is kept; anything else is cleared."""
    make_article(title="Printer shows as offline")
    client.get("/search?q=printer offline")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        trail = session.get("trail")
    assert trail and trail["queries"]
    client.post("/login", data={"email": employee.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert session.get("trail") == trail and "planted" not in session
