"""Bad requests and unexpected failures get the portal's own answer: the right status,
its headers, a message for a person or JSON for a program, never an empty 500."""

from __future__ import annotations

import pytest

from portal.accounts.models import User
from portal.extensions import db


@pytest.fixture
def config_overrides():
    return {"MAX_CONTENT_LENGTH": 64 * 1024}


def test_an_oversized_form_gets_413_with_the_error_page(client):
    response = client.post("/login", data={"email": "x" * 100_000, "password": "y"})
    assert response.status_code == 413
    assert "text/html" in response.content_type
    assert "Content-Security-Policy" in response.headers
    assert "Request Entity Too Large" in response.text


def test_an_oversized_api_body_gets_413_as_json(client):
    response = client.post(
        "/api/v1/incidents",
        data=b'{"title": "' + b"x" * 100_000 + b'"}',
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json["error"] == "Request Entity Too Large"


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    api = client.put("/api/v1/search")
    assert api.status_code == 405 and "GET" in api.headers["Allow"]
    assert api.json["error"] == "Method Not Allowed"


def _broken_view():
    # A failed flush leaves the session needing a rollback; the error page then reads
    # current_user (loaded lazily) through the same session.
    db.session.add(User(email="erin@example.com", name="A second Erin"))
    db.session.flush()


@pytest.mark.parametrize("path", ["/_probe/broken", "/api/v1/_probe/broken"])
def test_an_unexpected_database_error_gets_the_portal_error_page(app, path, employee, auth):
    app.add_url_rule(path, view_func=_broken_view, endpoint=path)
    auth.login(employee)  # so the page's header has a user to load
    response = auth.client.get(path)
    assert response.status_code == 500
    assert "Content-Security-Policy" in response.headers
    if path.startswith("/api/"):
        assert response.json["error"] == "Internal Server Error"
    else:
        assert "Internal Server Error" in response.text
        assert "IntegrityError" not in response.text
