"""Known issues at intake: one shared word is not the same problem; the relevance bar and
meaning decide (portal.search.same_problem, used by portal.incidents.similar)."""

from __future__ import annotations

import pytest

from portal import search
from portal.incidents.similar import similar_open

OPEN = [
    "Laptop will not start",
    "Laptop bag strap broke",
    "VPN drops every hour",
    "Printer jams on floor 3",
    "Laptop",
]


def matches(text: str) -> list[str]:
    scores = search.same_problem(text, OPEN)
    return [title for title, score in zip(OPEN, scores, strict=True) if score > 0]


def test_one_shared_word_is_not_the_same_problem(app):
    assert matches("laptop") == ["Laptop"]  # all either title says, on both sides
    assert matches("My laptop screen flickers") == []
    assert matches("printer") == []
    assert matches("VPN password expired") == []


def test_the_relevance_bar_finds_the_same_problem_in_other_words(app):
    assert matches("The VPN drops all the time") == ["VPN drops every hour"]
    assert matches("printer jams") == ["Printer jams on floor 3"]
    assert matches("laptop won't start after the update") == ["Laptop will not start"]
    assert matches("") == [] and matches("how can I please help") == []


def test_synonyms_count_as_the_word(app, make_user):
    from portal.extensions import db
    from portal.search.models import SynonymGroup

    db.session.add(SynonymGroup(terms="notebook, laptop"))
    db.session.commit()
    app.extensions["search_synonyms"].invalidate()
    assert "Laptop will not start" in matches("notebook will not start")


def test_the_raise_form_offers_no_incident_for_a_shared_word(client, auth, make_user, employee):
    from portal.extensions import db
    from portal.incidents import services

    other = make_user("employee", email="oscar@example.com")
    services.raise_incident(other, "Laptop will not start", "Black screen after the logo.")
    db.session.commit()
    auth.login(employee)
    page = client.get("/incidents/new?q=laptop").text
    assert "Others reported this" not in page and "Laptop will not start" not in page
    live = client.get("/incidents/similar?q=laptop").text
    assert "Laptop will not start" not in live
    assert "Laptop will not start" in client.get("/incidents/similar?q=laptop won't start").text
    assert [i.title for i in similar_open("my laptop does not start")] == ["Laptop will not start"]


class TestMeaning:
    @pytest.fixture
    def config_overrides(self) -> dict:
        return {"SEARCH_SEMANTIC": True}

    @pytest.mark.usefixtures("needs_model")
    def test_close_in_meaning_without_the_words(self, app):
        scores = search.same_problem("vpn disconnects hourly", OPEN)
        assert [t for t, s in zip(OPEN, scores, strict=True) if s > 0] == ["VPN drops every hour"]

    def test_one_word_is_not_the_same_problem_in_meaning_either(self, app):
        # "laptop" is 0.48 from "Laptop will not start" in meaning
        scores = search.same_problem("laptop", OPEN)
        assert [t for t, s in zip(OPEN, scores, strict=True) if s > 0] == ["Laptop"]

    def test_words_without_the_meaning_are_not_enough(self, app, monkeypatch):
        from portal.search import semantic

        monkeypatch.setattr(semantic, "text_similarity", lambda text, others: [0.1] * len(others))
        assert search.same_problem("printer jams", OPEN) == [0.0] * len(OPEN)
