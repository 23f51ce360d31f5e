"""The OpenAPI document and the API agree: what it enumerates is enforced, what is refused
is described, and it lists only the categories the caller may name."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.accounts.services import create_token
from portal.extensions import db


@pytest.fixture
def config_overrides():
    return {"MAIL_SEND_AFTER_COMMIT": False}


@pytest.fixture
def people(make_user, make_article):
    make_article(title="Printer jam", category="Hardware", subcategory="Printers")
    make_article(title="Directory console", category="Directory", visibility="staff")
    employee, agent = make_user("employee"), make_user("agent")
    headers = {}
    for name, user in (("employee", employee), ("agent", agent)):
        headers[name] = {"Authorization": f"Bearer {create_token(user)}"}
    db.session.commit()
    return headers


def _new_incident(client, headers) -> dict:
    spec = client.get("/api/v1/openapi.json", headers=headers).get_json()
    return spec["components"]["schemas"]["NewIncident"]


def test_the_document_lists_only_the_categories_the_caller_may_name(client, people):
    employee = _new_incident(client, people["employee"])["properties"]["category"]["enum"]
    agent = _new_incident(client, people["agent"])["properties"]["category"]["enum"]
    assert "Hardware" in employee and "Directory" not in employee
    assert {"Hardware", "Directory"} <= set(agent)
    branches = _new_incident(client, people["agent"])["anyOf"]
    hardware = next(
        b for b in branches if "Hardware" in b["properties"]["category"].get("enum", [])
    )
    assert "Printers" in hardware["properties"]["subcategory"]["enum"]


def test_a_category_the_caller_may_not_name_is_unknown_to_them(client, people):
    body = {"title": "Console", "description": "Locked", "category": "Directory"}
    refused = client.post("/api/v1/incidents", json=body, headers=people["employee"])
    assert refused.status_code == 400
    assert refused.get_json() == {"error": "unknown category 'Directory'", "field": "category"}
    assert client.post("/api/v1/incidents", json=body, headers=people["agent"]).status_code == 201


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/incidents?mine=true", "mine"),
        ("/api/v1/incidents?mine=", "mine"),
        ("/api/v1/search?q=vpn&source=null", "source"),
        ("/api/v1/search?q=vpn&source=", "source"),
    ],
)
def test_values_outside_a_documented_enum_are_refused(client, people, path, field):
    response = client.get(path, headers=people["agent"])
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_documented_enum_values_are_accepted(client, people):
    assert client.get("/api/v1/incidents?mine=1", headers=people["agent"]).status_code == 200
    assert client.get("/api/v1/search?q=vpn&source=live").status_code == 200


def test_article_times_carry_their_utc_offset(client, people, make_article):
    article = make_article(title="Monitor flickers")
    data = client.get(f"/api/v1/articles/{article.slug}").get_json()
    assert datetime.fromisoformat(data["updated_at"]).utcoffset() is not None


def test_refusals_are_described_in_the_document(client, people):
    spec = client.get("/api/v1/openapi.json").get_json()
    bad_request = spec["components"]["responses"]["BadRequest"]["description"]
    assert "unknown field, category or subcategory" in bad_request and "NUL" in bad_request
    title = spec["components"]["schemas"]["NewIncident"]["properties"]["title"]
    assert "\\u0000" in title["pattern"]
