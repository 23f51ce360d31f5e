"""Sign-in throttling per account and per address, shared by every worker of a node."""

from __future__ import annotations

import multiprocessing

import pytest

from portal.accounts.throttle import SQLiteStorage
from tests.conftest import PASSWORD


@pytest.fixture
def config_overrides():
    return {
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT": "8 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "5 per minute",
    }


def attempt(app, email, password="wrong wrong wrong", address="127.0.0.1", cookies=None):
    client = app.test_client()  # a new connection, no cookies: as a script would try
    if cookies:
        client.set_cookie("ff_device", cookies)
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_many_addresses_against_one_account_are_stopped(app, employee):
    codes = [attempt(app, employee.email, address=f"127.0.1.{n}").status_code for n in range(1, 21)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    refused = attempt(app, employee.email, address="127.0.1.99")
    assert "Too many sign-in attempts. Wait a minute" in refused.data.decode()


def test_the_owner_on_a_known_browser_still_signs_in_during_an_attack(app, employee):
    owner = app.test_client()
    first = owner.post(
        "/login",
        data={"email": employee.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "127.0.2.1"},
    )
    assert first.status_code == 302
    device = owner.get_cookie("ff_device").value
    for n in range(10):
        attempt(app, employee.email, address=f"127.0.1.{n + 1}")
    assert attempt(app, employee.email, PASSWORD, address="127.0.1.50").status_code == 429
    # the owner's browser carries the device cookie: the account limit does not apply to it
    back = attempt(app, employee.email, PASSWORD, address="127.0.2.1", cookies=device)
    assert back.status_code == 302


def test_a_device_cookie_for_another_account_does_not_help(app, employee, agent):
    owner = app.test_client()
    owner.post("/login", data={"email": agent.email, "password": PASSWORD})
    device = owner.get_cookie("ff_device").value
    for n in range(6):
        attempt(app, employee.email, address=f"127.0.1.{n + 1}", cookies=device)
    assert attempt(app, employee.email, address="127.0.1.9", cookies=device).status_code == 429


def test_a_right_password_does_not_count_against_the_account(app, employee):
    for n in range(8):
        assert attempt(app, employee.email, PASSWORD, address=f"127.0.1.{n}").status_code == 302


def test_one_address_is_limited_across_workers(app, another_app, employee, agent):
    """Two app instances (two gunicorn workers) share the node's counts."""
    other = another_app()
    emails = (employee.email, agent.email)  # plain values: see test_sessions
    codes = []
    for n in range(10):
        worker = app if n % 2 else other
        email = emails[0] if n % 3 else emails[1]  # spread over accounts
        with worker.app_context():
            codes.append(attempt(worker, email).status_code)
    assert codes.count(429) == 2 and codes[:8].count(429) == 0


def _hammer(path: str, n: int) -> None:
    storage = SQLiteStorage(f"sqlite:///{path}")
    for _ in range(n):
        storage.incr("k", 60)


def test_the_storage_counts_exactly_across_processes(tmp_path):
    path = tmp_path / "limits.sqlite"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(str(path), 100)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    assert SQLiteStorage(f"sqlite:///{path}").get("k") == 400


def test_the_storage_window_expires(tmp_path, monkeypatch):
    import portal.accounts.throttle as throttle

    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'l.sqlite'}")
    now = [1000.0]
    monkeypatch.setattr(throttle.time, "time", lambda: now[0])
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    now[0] += 61
    assert storage.get("k") == 0 and storage.incr("k", 60) == 1
