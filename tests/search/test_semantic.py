"""Meaning as well as words: the embedding model beside Whoosh, and search without it."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from portal import search
from portal.access import EVERYONE, STAFF
from portal.extensions import db
from portal.search import semantic
from portal.search.models import RevisionEmbedding

STARTER_LIBRARY = Path(__file__).resolve().parents[2] / "articles"


@pytest.fixture
def config_overrides() -> dict:
    return {"SEARCH_SEMANTIC": True}


@pytest.fixture
def library(make_article):
    return {
        "monitor": make_article(
            title='Second screen says "No signal"',
            symptoms="The external monitor stays black when the laptop is connected",
            category="Laptops",
        ),
        "printer": make_article(
            title="Printer shows as offline",
            symptoms="Documents wait in the queue and the printer is offline",
            category="Printing",
        ),
        "password": make_article(
            title="Reset a forgotten password",
            symptoms="You forgot your password and cannot sign in",
            category="Accounts",
        ),
        "staff": make_article(
            title="Re-image a laptop (agent procedure)",
            symptoms="Wipe and reinstall a laptop that is beyond repair",
            category="Laptops",
            visibility="staff",
        ),
    }


@pytest.mark.usefixtures("needs_model")
def test_a_paraphrase_finds_the_article_that_shares_no_word_with_it(app, library):
    assert semantic.enabled(), semantic.status()
    results = search.search("i cannot remember my login secret", EVERYONE)
    assert [h.slug for h in results.hits] == [library["password"].slug]
    results = search.search("the monitor next to my notebook is black", EVERYONE)
    assert results.hits and results.hits[0].slug == library["monitor"].slug


def test_a_code_or_name_the_model_does_not_know_is_found_by_its_words(make_article, library):
    """An error code, a product name or any word no dictionary holds means nothing to the
    model, so its meaning score cannot judge the article that holds it (found under load:
    an edited article was not found by the unique word added to it)."""
    vpn = make_article(
        title="VPN is connected but internal sites do not open",
        symptoms="The VPN says connected but shared drives stay offline",
        step="If the client logs error 0x80070005 or ltpxvgmbmmcs, reinstall it.",
    )
    for query in ("ltpxvgmbmmcs", "0x80070005", "vpn ltpxvgmbmmcs"):
        results = search.search(query, EVERYONE)
        assert [h.slug for h in results.hits] == [vpn.slug], query
    # dictionary words that every article shares are still judged on meaning too
    assert search.search("the coffee machine is leaking water", EVERYONE).total == 0


def test_punctuation_around_the_words_finds_what_the_words_find(runner):
    """Marks between words are not meaning: on the starter library "faded blank -;," missed
    the faded printouts article that "faded blank" finds (its cosine fell under the bar)."""
    assert runner.invoke(args=["kb", "import", str(STARTER_LIBRARY)]).exit_code == 0
    plain = [h.slug for h in search.search("faded blank", EVERYONE).hits]
    assert plain == ["print-quality-faded"]
    for noisy in ("faded blank -;,", "faded blank -;", "faded: blank?!", "(faded) -- blank ;"):
        assert [h.slug for h in search.search(noisy, EVERYONE).hits] == plain, noisy
    assert semantic.query_text("e-mail: won't sync?") == "e-mail won't sync"


def test_a_question_no_article_covers_gets_no_match(library):
    results = search.search("the coffee machine is leaking water", EVERYONE)
    assert results.total == 0 and results.hits == []


@pytest.mark.usefixtures("needs_model")
def test_vectors_are_stored_with_the_revision_and_read_by_a_cold_process(app, library, monkeypatch):
    rows = db.session.scalars(select(RevisionEmbedding)).all()
    latest = {a.id: max(r.id for r in a.revisions) for a in library.values()}
    assert {r.revision_id for r in rows} >= set(latest.values())
    assert all(len(r.vector) == semantic.DIM * 4 for r in rows)
    # A node starting cold reads the stored vectors instead of computing them again.
    monkeypatch.setattr(semantic._embedder, "passages", _refuse)
    cold = semantic.VectorStore(lambda: db.engine, 0)
    cold.load(compute=True)
    matrix, ids = cold.snapshot()
    assert set(ids.tolist()) == {a.id for a in library.values()}
    norms = np.linalg.norm(matrix, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-3)


@pytest.mark.usefixtures("needs_model")
def test_a_first_embedding_that_stops_keeps_what_it_computed(app, library, monkeypatch):
    """A large import's first embedding takes minutes; stopped half way (a deploy, Ctrl-C),
    the vectors already computed are stored, and the next process computes only the rest."""
    db.session.query(RevisionEmbedding).delete()
    db.session.commit()
    monkeypatch.setattr(semantic, "PERSIST_EVERY", 2)
    real, calls = semantic._embedder.passages, []

    def stopped_after_one_batch(texts):
        calls.append(len(texts))
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(texts)

    monkeypatch.setattr(semantic._embedder, "passages", stopped_after_one_batch)
    with pytest.raises(KeyboardInterrupt):
        semantic.VectorStore(lambda: db.engine, 0).load(compute=True)
    assert db.session.query(RevisionEmbedding).count() == 2
    monkeypatch.setattr(semantic._embedder, "passages", real)
    calls.clear()
    monkeypatch.setattr(semantic._embedder, "passages", lambda t: calls.append(len(t)) or real(t))
    again = semantic.VectorStore(lambda: db.engine, 0)
    again.load(compute=True)
    assert sum(calls) == len(library) - 2  # only the rest
    assert set(again.snapshot()[1].tolist()) == {a.id for a in library.values()}


@pytest.mark.usefixtures("needs_model")
def test_a_saved_change_gets_a_new_vector_through_the_outbox(app, library):
    from portal.articles.services import save_article, to_data

    article = library["printer"]
    data = to_data(article)
    data.title = "Plotter refuses large drawings"
    data.body_md = data.body_md.replace("printer is offline", "plotter stops on big sheets")
    save_article(data, None, article=article)
    db.session.commit()
    revision = max(r.id for r in article.revisions)
    assert db.session.get(RevisionEmbedding, (revision, semantic.MODEL)) is not None
    results = search.search("the big drawing machine halts", EVERYONE)
    # the old vector (a printer offline) is far from this; the new one is the nearest
    shown = results.hits + results.related
    assert shown and shown[0].slug == article.slug


def test_related_articles_follow_the_audience_rules(library, make_article):
    close = make_article(
        title="Second monitor stays black after docking (agent procedure)",
        symptoms="The external screen shows no signal when the laptop is docked",
        category="Laptops",
        visibility="staff",
    )
    laptop = library["monitor"]
    public = [h.slug for h in search.related_articles(laptop.id, EVERYONE)]
    staff = [h.slug for h in search.related_articles(laptop.id, STAFF)]
    assert laptop.slug not in public and close.slug not in public
    assert close.slug in staff


def test_without_the_model_package_search_is_lexical_and_health_says_so(
    app, client, library, monkeypatch
):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now fails
    monkeypatch.setattr(semantic, "_embedder", semantic.Embedder())
    search.store()  # the same index, a process that never had the model
    app.extensions["search_cache"].clear()
    assert not semantic.enabled()
    assert search.search("i cannot remember my login secret", EVERYONE).total == 0
    assert search.search("printer offline", EVERYONE).hits[0].slug == library["printer"].slug
    detail = client.get("/healthz?detail=1").get_json()["detail"]["search"]["semantic"]
    assert detail.startswith("off: onnxruntime is not installed")


def _refuse(*_args, **_kwargs):
    raise AssertionError("a cold process must read stored vectors, not compute them")


@pytest.mark.usefixtures("needs_model")
def test_a_query_embedded_ahead_gives_the_same_answer_and_is_embedded_once(
    app, library, monkeypatch
):
    """The embedding thread computes the query's vector while the words are read; the
    answer must be the one computed in turn, and the model must not embed it twice."""
    model = semantic._embedder.load()
    calls: list[str] = []
    real = model.query

    def counting(text):
        calls.append(threading.current_thread().name)
        return real(text)

    monkeypatch.setattr(model, "query", counting)
    answers = {}
    for ahead in (False, True):
        app.config["SEARCH_SEMANTIC_AHEAD"] = ahead
        app.extensions["search_cache"].clear()
        semantic._embedder._queries.clear()
        calls.clear()
        results = search.search("the monitor next to my notebook is black", EVERYONE)
        answers[ahead] = [(h.slug, h.score) for h in results.hits + results.related]
        assert len(calls) == 1, calls
        assert calls[0].startswith("query-embedding") == ahead, calls
    assert answers[True] == answers[False] and answers[True]
