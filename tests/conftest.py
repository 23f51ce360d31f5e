"""Fixtures shared by the suite: a migrated database (SQLite, or PostgreSQL through
TEST_DATABASE_URL), an app per test with its own search index, and factories."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from portal import create_app, transactions
from portal.accounts.services import create_user
from portal.articles.services import ArticleData, save_article
from portal.extensions import db


@pytest.fixture
def needs_model() -> None:
    """For a test of meaning: the model's packages must be installed. Without them the
    portal searches by words (test_without_model.py proves it), so such a test skips, with
    this reason; CI installs them and must run it."""
    from portal.search import model

    try:
        model.check()
    except model.ModelMissing as exc:
        reason = f"the embedding model is not installed ({exc}); search is lexical without it"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the tests of meaning, but {reason}")
        pytest.skip(reason)


PASSWORD = "correct horse battery"
FIXTURES = Path(__file__).parent / "fixtures"

BODY = """## Symptoms

- {symptoms}

## Applies to

- Windows and macOS laptops

## Cause

{cause}

## Resolution

1. {step}
2. If this did not help, raise an incident.
"""


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A fresh database for this run, migrated once with the real Alembic scripts."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        _migrate(url, tmp_path_factory)
        yield url
        return
    name = f"firstfix_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", server)
    try:
        _migrate(url, tmp_path_factory)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str, tmp_path_factory) -> None:
    app = create_app(_config(url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _config(url: str, tmp: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SEARCH_INDEX_DIR": str(tmp / "index"),
        "SEARCH_SYNC_INTERVAL": 0,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp / 'ratelimit.sqlite'}",
        "MAIL_SEND_AFTER_COMMIT": False,
        "SECRET_KEY": "test-secret",
        "ARTICLES_DIR": str(FIXTURES / "articles"),
        "ATTACHMENTS_DIR": str(tmp / "attachments"),
        "SERVER_NAME": None,
        "WRITEBEHIND_INTERVAL": 0,
        # Lexical search unless a test turns meaning on (tests/search/test_semantic.py):
        # the same suite must pass without the model package.
        "SEARCH_SEMANTIC": False,
    }


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch):
    """scrypt costs a third of a second per user; tests create hundreds. Signing in still
    checks the password for real (test_passwords_are_stored_hashed covers the default)."""
    monkeypatch.setattr(
        "portal.accounts.models.generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )


@pytest.fixture
def config_overrides() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, config_overrides) -> Iterator[Flask]:
    app = create_app({**_config(database_url, tmp_path), **config_overrides})
    app.test_client_class = Client
    app.test_cli_runner_class = CliRunner
    # The test itself reads and writes like a person at a shell: its reads must not hold
    # SQLite's write lock while the portal's own threads write. Requests and commands pick
    # their own mode (see portal.transactions).
    with app.app_context(), transactions.reading():
        _empty_tables()
        before = set(threading.enumerate())
        yield app
        _wait_for_threads_started_since(before)
        db.session.remove()
        app.extensions["search"].close()
        db.engine.dispose()


def _wait_for_threads_started_since(before: set[threading.Thread], limit: float = 10) -> None:
    """Let the portal's own short-lived threads (mail after commit, an index rebuild) end
    before the engine is disposed: a connection checked in after that goes back to a pool
    nobody closes, and PostgreSQL's driver warns about it in some later test."""
    deadline = time.monotonic() + limit
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon or thread.name in ("mail-after-commit", "search-heal"):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


class Client(FlaskClient):
    """Each request gets its own app context (a fresh ``g`` and database session), as in
    production; the test's own session ends its transaction first so it sees the result."""

    def open(self, *args, **kwargs):
        db.session.rollback()
        with self.application.app_context():
            return super().open(*args, **kwargs)


class CliRunner(FlaskCliRunner):
    """Like a command run from a shell: the test's own session ends its transaction first
    (on SQLite a test that read something would otherwise hold the write lock)."""

    def invoke(self, *args, **kwargs):
        db.session.rollback()
        with transactions.writing():
            return super().invoke(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app):
    app.test_cli_runner_class = CliRunner
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def make(role: str | list[str] = "employee", email: str | None = None, name: str = ""):
        roles = [role] if isinstance(role, str) else role
        n = next(counter)
        user = create_user(
            email or f"{roles[0]}{n}@example.com",
            name or f"{roles[0].title()} {n}",
            roles,
            PASSWORD,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_article(app):
    counter = iter(range(1, 10_000))

    def make(
        title: str = "",
        symptoms: str = "Something does not work",
        cause: str = "A setting changed.",
        step: str = "Restart the computer.",
        body: str | None = None,
        slug: str | None = None,
        category: str = "General",
        subcategory: str = "Other",
        visibility: str = "everyone",
        status: str = "published",
        tags: list[str] | None = None,
        summary: str = "",
        editor=None,
    ):
        n = next(counter)
        title = title or f"Article {n}"
        data = ArticleData(
            slug=slug or f"article-{n}",
            title=title,
            summary=summary or f"How to fix: {title}",
            body_md=body
            if body is not None
            else BODY.format(symptoms=symptoms, cause=cause, step=step),
            category=category,
            subcategory=subcategory,
            tags=tags or [],
            visibility=visibility,
            status=status,
        )
        article, _ = save_article(data, editor, note="created in a test")
        db.session.commit()
        return article

    return make


@pytest.fixture
def employee(make_user):
    return make_user("employee", email="erin@example.com", name="Erin Employee")


@pytest.fixture
def agent(make_user):
    return make_user("agent", email="alex@example.com", name="Alex Agent")


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password: str = PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)
