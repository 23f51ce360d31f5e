import re

import pytest

from portal.accounts.services import create_token
from portal.api.openapi import SCHEMAS
from portal.extensions import db
from portal.incidents import services

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def config_overrides():
    return {"MAIL_SEND_AFTER_COMMIT": False}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_it_is_an_openapi_31_document_with_bearer_auth(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"]
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    incidents = spec["paths"]["/api/v1/incidents"]
    assert incidents["post"]["security"] == [{"bearerAuth": []}]
    assert spec["servers"][0]["url"].startswith("http://localhost")


def test_every_api_route_and_method_is_documented(app, spec):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    assert len(rules) >= 6
    for rule in rules:
        path = _openapi_path(rule.rule)
        assert path in spec["paths"], f"{rule.rule} is not in openapi.json"
        for method in rule.methods - IGNORED_METHODS:
            assert method.lower() in spec["paths"][path], f"{method} {rule.rule} not documented"
    assert "get" in spec["paths"]["/healthz"]


def test_every_documented_path_exists(app, spec):
    served = {_openapi_path(rule.rule) for rule in app.url_map.iter_rules()}
    assert set(spec["paths"]) <= served


def test_path_parameters_are_declared_and_refs_resolve(spec):
    for path, operations in spec["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, f"{method} {path}"
            assert operation["responses"], f"{method} {path}"
    text = repr(spec)
    for ref in re.findall(r"'\$ref': '#/components/(\w+)/(\w+)'", text):
        assert ref[1] in spec["components"][ref[0]], ref


def _fields(name: str) -> tuple[set[str], set[str]]:
    schema = SCHEMAS[name]
    return set(schema["properties"]), set(schema["required"])


def test_real_responses_match_the_documented_schemas(client, make_user):
    employee, agent = make_user("employee"), make_user("agent")
    tokens = {"employee": create_token(employee), "agent": create_token(agent)}
    db.session.commit()
    headers = {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}
    raised = client.post(
        "/api/v1/incidents",
        json={"title": "Screen flickers", "description": "Since Monday."},
        headers=headers["employee"],
    ).get_json()
    documented, required = _fields("Incident")
    assert required <= set(raised) <= documented and "sla" not in raised
    staff_view = client.get(f"/api/v1/incidents/{raised['ref']}", headers=headers["agent"])
    assert set(staff_view.get_json()) == documented
    page = client.get("/api/v1/incidents", headers=headers["agent"]).get_json()
    assert set(page) == _fields("IncidentPage")[0]
    comment = client.post(
        f"/api/v1/incidents/{raised['ref']}/comments",
        json={"body": "On it"},
        headers=headers["agent"],
    ).get_json()
    assert set(comment) == _fields("Comment")[0] == _fields("Comment")[1]
    assert set(client.get("/healthz").get_json()) <= _fields("Health")[0]
    sla = services.sla_status(services.get_by_ref(raised["ref"]))
    assert set(sla) == _fields("Sla")[0]
    assert set(SCHEMAS["NewIncident"]["properties"]) == {
        "title",
        "description",
        "category",
        "subcategory",
        "impact",
        "urgency",
    }


def test_errors_match_the_error_schema(client):
    documented = _fields("Error")[0]
    unauthorized = client.post("/api/v1/incidents", json={}).get_json()
    assert set(unauthorized) <= documented
    missing = client.get("/api/v1/articles/nope").get_json()
    assert set(missing) <= documented
