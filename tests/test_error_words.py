"""Error pages speak to a person (issue 13, item 10): "You do not have access to this page",
not the server's wording; an error that explains itself keeps its own explanation."""

from __future__ import annotations

from tests.conftest import PASSWORD


def test_403_says_you_do_not_have_access(app, client, make_user):
    client.post("/login", data={"email": make_user("employee").email, "password": PASSWORD})
    response = client.get("/incidents/queue")
    assert response.status_code == 403
    assert "<h1>You do not have access to this page</h1>" in response.text
    assert "<title>You do not have access to this page" in response.text
    assert "You don&#39;t have the permission" not in response.text
    assert "the requested resource" not in response.text


def test_404_in_a_persons_words(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "<h1>We could not find this page</h1>" in response.text
    assert "The requested URL was not found on the server" not in response.text


def test_an_error_that_explains_itself_keeps_its_explanation(client):
    response = client.get("/search?q=a%00b")
    assert response.status_code == 400
    assert "The request holds a NUL character, which is not allowed." in response.text


def test_the_api_still_answers_json(client):
    response = client.get("/api/v1/incidents/INC-999999")
    assert response.is_json and response.status_code in (401, 403, 404)
