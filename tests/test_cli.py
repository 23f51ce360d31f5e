from sqlalchemy import func, select

from portal import search
from portal.access import EVERYONE
from portal.accounts.models import ApiToken, User
from portal.articles.models import Article
from portal.extensions import db


def test_users_create_with_several_roles(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Ana@Example.com",
            "--name",
            "Ana",
            "--role",
            "agent",
            "--role",
            "editor",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert user.email == "ana@example.com" and user.roles == {"agent", "editor"}


def test_users_create_refuses_a_taken_email(runner, make_user):
    user = make_user()
    result = runner.invoke(
        args=["users", "create", "--email", user.email, "--name", "x", "--password", "0123456789"]
    )
    assert result.exit_code != 0 and "already has an account" in result.output


def test_tokens_create_prints_a_token_that_works(runner, client, make_user):
    user = make_user("agent")
    result = runner.invoke(args=["tokens", "create", user.email])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("ff_")
    assert db.session.scalar(select(func.count(ApiToken.id))) == 1
    response = client.get("/api/v1/search?q=x", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_setup_loads_the_library_creates_the_admin_and_is_idempotent(runner, app):
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "loaded 2 articles" in first.output and "password (shown once):" in first.output
    assert search.search("offline", EVERYONE).hits[0].slug == "printer-offline"
    second = runner.invoke(args=["setup"])
    assert "loaded" not in second.output and "password" not in second.output
    assert db.session.scalar(select(func.count(Article.id))) == 2
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_setup_takes_the_admin_from_the_environment(runner, app):
    app.config.update(ADMIN_EMAIL="boss@example.com", ADMIN_PASSWORD="given password 1")
    result = runner.invoke(args=["setup"])
    assert "boss@example.com" in result.output and "shown once" not in result.output
    admin = db.session.scalars(select(User)).one()
    assert admin.check_password("given password 1") and "admin" in admin.roles


def test_search_reindex_and_check(runner, make_article):
    make_article(title="Scanner jams")
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "indexed 1 articles" in result.output
    assert runner.invoke(args=["search", "check"]).output.strip() == "index matches the database"


def test_search_check_finds_a_missing_article(runner, make_article, monkeypatch):
    article = make_article(title="Scanner jams")
    with search.store().index().writer() as writer:
        writer.delete_by_term("id", str(article.id))
    monkeypatch.setattr(type(search.store()), "sync", lambda self, **kw: 0)
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and article.slug in result.output
