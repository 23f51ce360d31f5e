"""Only admins may use any /admin/ URL: the whole matrix of routes, methods and people."""

from __future__ import annotations

import pytest

ANONYMOUS = "anonymous"


def admin_requests(app) -> list[tuple[str, str]]:
    """Every admin route with each of its methods, path arguments filled with placeholders."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        values = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            items = getattr(converter, "items", None)
            values[name] = sorted(items)[0] if items else 1
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return sorted(set(found))


def test_the_matrix_covers_every_admin_page(app):
    requests = admin_requests(app)
    paths = {url for _, url in requests}
    for expected in (
        "/admin/",
        "/admin/categories",
        "/admin/sla",
        "/admin/calendar",
        "/admin/synonyms",
        "/admin/users",
        "/admin/audit",
    ):
        assert expected in paths
    assert sum(1 for method, _ in requests if method == "POST") >= 15


@pytest.mark.parametrize("who", [ANONYMOUS, "employee", "agent", "editor"])
def test_only_admins_get_in(app, client, auth, make_user, who):
    if who != ANONYMOUS:
        auth.login(make_user(who))
    for method, url in admin_requests(app):
        response = client.open(url, method=method, data={})
        if who == ANONYMOUS:
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].startswith("/login"), (method, url)
        else:
            assert response.status_code == 403, (who, method, url)


def test_admins_reach_every_page(app, admin_client):
    for method, url in admin_requests(app):
        if method == "GET":
            response = admin_client.get(url)
            assert response.status_code == 200, url


def test_a_deactivated_admin_is_turned_away(admin_client, admin, make_user):
    from portal.extensions import db

    admin.is_active_account = False
    db.session.commit()
    response = admin_client.get("/admin/")
    assert response.status_code == 302


def test_agents_with_admin_role_too_get_in(client, auth, make_user):
    auth.login(make_user(["agent", "admin"]))
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": "", "terms": "", "day": "", "timezone": "", "roles": "", "country": ""},
        {
            "name": "x" * 5000,
            "parent": "-1",
            "terms": ",,,",
            "day": "9999-99-99",
            "days": ["x", "7"],
            "start": "25:61",
            "end": "-1",
            "timezone": "\x00",
            "country": "ÄÖ",
            "year": "99999999999999999999",
            "roles": ["admin", "\u202e"],
            "email": "@",
            "high_high": "<script>",
            "P1-response": "1e400",
            "P1-response_unit": "weeks",
        },
    ],
)
def test_garbage_from_an_admin_never_gives_a_500(app, admin_client, data):
    for method, url in admin_requests(app):
        if method == "POST":
            response = admin_client.post(url, data=data)
            assert response.status_code in (200, 302, 400, 404), (url, response.status_code)
