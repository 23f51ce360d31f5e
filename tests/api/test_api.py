import pytest
from sqlalchemy import select

from portal import search, writebehind
from portal.accounts.services import create_token
from portal.analytics.models import SearchEvent
from portal.extensions import db


@pytest.fixture
def articles(make_article):
    make_article(title="Printer offline", slug="printer-offline", category="Printing")
    make_article(
        title="Directory unlock",
        slug="staff-unlock",
        visibility="staff",
        symptoms="quokkaconsole locked",
    )


@pytest.fixture
def agent_token(make_user):
    token = create_token(make_user("agent"))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_search_returns_the_documented_shape(client, articles):
    data = client.get("/api/v1/search?q=printer").get_json()
    assert set(data) == {
        "query",
        "total",
        "page",
        "per_page",
        "suggestion",
        "notice",
        "results",
        "related",
    }
    hit = data["results"][0]
    assert set(hit) == {
        "slug",
        "title",
        "summary",
        "category",
        "subcategory",
        "url",
        "snippet",
        "score",
    }
    assert hit["slug"] == "printer-offline" and hit["url"].endswith("/articles/printer-offline")
    assert "<mark" in hit["snippet"]


@pytest.mark.parametrize(
    "q", ['"unbalanced', "AND OR NOT", "*", "title:", "x" * 2000, "<script>", "🙂"]
)
def test_search_accepts_any_query(client, articles, q):
    response = client.get("/api/v1/search", query_string={"q": q})
    assert response.status_code == 200
    assert response.get_json()["total"] >= 0


def test_bad_paging_is_a_400_naming_the_field(client, articles):
    response = client.get("/api/v1/search?q=printer&per_page=500")
    assert response.status_code == 400 and response.get_json()["field"] == "per_page"
    assert client.get("/api/v1/search?q=printer&page=abc").get_json()["field"] == "page"


def test_staff_only_article_needs_a_staff_token(client, articles, agent_token):
    assert client.get("/api/v1/search?q=quokkaconsole").get_json()["total"] == 0
    assert client.get("/api/v1/articles/staff-unlock").status_code == 404
    staff = client.get("/api/v1/search?q=quokkaconsole", headers=agent_token).get_json()
    assert staff["total"] == 1
    assert client.get("/api/v1/articles/staff-unlock", headers=agent_token).status_code == 200


def test_employee_token_sees_what_an_employee_sees(client, articles, make_user):
    token = create_token(make_user("employee"))
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/search?q=quokkaconsole", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/articles/staff-unlock", headers=headers).status_code == 404


def test_wrong_token_is_refused_with_json(client, articles):
    response = client.get("/api/v1/search?q=x", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert "token" in response.get_json()["message"]


def test_article_has_markdown_and_safe_html(client, articles):
    data = client.get("/api/v1/articles/printer-offline").get_json()
    assert data["markdown"].startswith("## Symptoms")
    assert '<h2 id="symptoms">' in data["html"]


def test_unknown_article_is_a_json_404(client):
    response = client.get("/api/v1/articles/nope")
    assert response.status_code == 404 and "nope" in response.get_json()["message"]


def test_tokens_are_stored_only_as_hashes(make_user):
    from sqlalchemy import select

    from portal.accounts.models import ApiToken

    token = create_token(make_user("agent"))
    db.session.commit()
    stored = db.session.scalars(select(ApiToken.token_hash)).one()
    assert token not in stored and len(stored) == 64


def test_healthz_ok_and_503_when_the_database_fails(client, monkeypatch):
    search.store().index(wait=30)  # a new node builds its index first (degraded meanwhile)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    detail = client.get("/healthz?detail=1").get_json()["detail"]
    assert detail["search"] == {"semantic": "off: SEARCH_SEMANTIC is false"}
    from portal import health

    def boom(*args, **kwargs):
        raise RuntimeError("db down")

    monkeypatch.setattr(health.db.session, "execute", boom)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["failing"] == ["database"]


def test_an_api_search_without_a_session_sets_no_cookie_but_is_counted(app, client, make_article):
    """A program searching the API keeps no cookies: the answer carries none, and the
    search still reaches the search events; a browser's session still keeps its trail."""
    make_article(title="VPN disconnects every hour")
    response = client.get("/api/v1/search?q=vpn")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    writebehind.flush()
    db.session.rollback()
    assert db.session.scalars(select(SearchEvent.source)).all() == ["api"]
    assert client.get("/search?q=vpn").status_code == 200  # a browser: now a session
    again = client.get("/api/v1/search?q=vpn disconnects")
    assert "Set-Cookie" in again.headers  # its trail gained the search
    with client.session_transaction() as browser:
        assert [q["q"] for q in browser["trail"]["queries"]] == ["vpn", "vpn disconnects"]
