"""The one door to Whoosh: index upkeep (outbox), queries, snippets and suggestions.

Nothing outside this package imports whoosh. Callers pass an audience (see portal.access);
staff-only documents are filtered inside the searcher, so they never reach a count,
a snippet or a suggestion for anyone else.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from flask import Flask, current_app
from markupsafe import Markup, escape
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from whoosh import query as wq

from portal.access import STAFF
from portal.extensions import db
from portal.search import query as q
from portal.search import ranking, schema, semantic, snippets, spelling, titles
from portal.search.index import WEIGHTING, IndexStore, IndexUnavailable
from portal.search.models import SearchOutbox, SynonymGroup
from portal.transactions import reading

log = logging.getLogger(__name__)

__all__ = [
    "SearchResults",
    "Hit",
    "search",
    "suggestions",
    "related_articles",
    "semantic_similarity",
    "same_problem",
    "record_change",
    "sync",
    "rebuild",
    "check",
    "store",
    "init_app",
]


@dataclass
class Hit:
    article_id: int
    slug: str
    title: str
    summary: str
    category: str
    category_slug: str
    subcategory: str
    subcategory_slug: str
    snippet: Markup
    score: float


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    suggestion: str | None
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, int] = field(default_factory=dict)
    related: list[Hit] = field(default_factory=list)  # weaker candidates, shown apart
    notice: str | None = None  # set when the index could not answer (see fallback)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def init_app(app: Flask) -> None:
    """Create this process's index store and apply the outbox after every commit."""
    app.extensions["search"] = IndexStore(
        app.config["SEARCH_INDEX_DIR"],
        lambda: db.engine,
        sync_interval=float(app.config["SEARCH_SYNC_INTERVAL"]),
        heal_wait=float(app.config["SEARCH_HEAL_WAIT"]),
    )
    app.extensions["search_synonyms"] = _SynonymCache()
    app.extensions["search_cache"] = ResultCache(
        size=int(app.config.get("SEARCH_CACHE_SIZE", 512)),
        ttl=float(app.config.get("SEARCH_CACHE_SECONDS", 60)),
    )
    semantic.init_app(app)


def store() -> IndexStore:
    return current_app.extensions["search"]


# Any constant: the advisory lock that makes outbox rows commit in id order on PostgreSQL.
OUTBOX_LOCK = 7_160_302


def record_change(session: Session, article_id: int) -> None:
    """Note, in the caller's transaction, that an article's index entry must be refreshed.

    Nodes apply the outbox in id order and remember the last id applied. On PostgreSQL two
    transactions could commit their rows out of id order, and a node would skip the late
    one; a transaction-scoped advisory lock taken before the row gets its id makes article
    saves commit one after another (they are rare; searches never take it). SQLite has one
    writer at a time already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(OUTBOX_LOCK)))
    session.add(SearchOutbox(article_id=article_id))


@event.listens_for(Session, "after_flush")
def _note_outbox(session: Session, _flush_context) -> None:
    if any(isinstance(obj, SearchOutbox) for obj in session.new):
        session.info["search_pending"] = True


@event.listens_for(Session, "after_commit")
def _apply_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the real commit comes later
        return
    if not session.info.pop("search_pending", False):
        return
    try:
        store().sync(timeout=0.5)
    except Exception:  # the saved article stays saved; `flask search sync` catches up
        log.exception("search index update after commit failed")
    try:
        semantic.sync()  # the saved revision's vector, computed once and stored
    except Exception:  # search stays lexical for this article until the next sync
        log.exception("semantic vectors update after commit failed")


@event.listens_for(Session, "after_rollback")
def _forget_outbox(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop("search_pending", None)


def sync(timeout: float = 5.0) -> int:
    """Apply every pending outbox row to this node's index (and compute missing vectors)."""
    changed = store().sync(timeout=timeout)
    semantic.sync()
    return changed


def rebuild(procs: int | None = None) -> int:
    """Rebuild this node's index from the database; returns the number of articles."""
    count = store().rebuild(procs=procs or int(current_app.config["SEARCH_BUILD_PROCS"]))
    store().close()
    semantic.sync()
    return count


def check(wait: float | None = None) -> dict[str, list[str]]:
    """Slugs missing from or extra in this node's index, compared with the database."""
    store().sync(timeout=5.0, wait=wait)
    return store().check(wait=wait)


class _SynonymCache:
    """Synonym groups, reread from the database at most once per sync interval."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.loaded_at = -1e9

    def get(self) -> list[list[str]]:
        interval = float(current_app.config["SEARCH_SYNC_INTERVAL"])
        if time.monotonic() - self.loaded_at >= interval:
            try:
                # its own short reader: a search outside a request (CLI, worker, bench)
                # would otherwise leave the caller's session holding SQLite's write lock
                with reading(), Session(db.engine) as session:
                    rows = session.scalars(select(SynonymGroup)).all()
                    self.groups = [g.term_list for g in rows if len(g.term_list) > 1]
            except Exception:
                log.exception("could not load synonyms")
            self.loaded_at = time.monotonic()
        return self.groups

    def invalidate(self) -> None:
        self.loaded_at = -1e9


def synonyms() -> list[list[str]]:
    return current_app.extensions["search_synonyms"].get()


class ResultCache:
    """Answers to repeated popular queries (people search as they type, and many type the
    same words). Keyed by the index generation and the synonyms in force, so any change to
    the index or the synonyms makes old answers unreachable; entries also expire."""

    def __init__(self, size: int = 512, ttl: float = 60.0):
        self.size = size
        self.ttl = ttl
        self._items: OrderedDict[tuple, tuple[float, SearchResults]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> SearchResults | None:
        if self.size <= 0:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if time.monotonic() - item[0] > self.ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple, value: SearchResults) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def search(
    text: str,
    audience: str,
    category: str | None = None,
    page: int = 1,
    per_page: int = 10,
    facets: bool = False,
    suggest: bool = True,
) -> SearchResults:
    """Search published articles the audience may see. Never raises on user input, nor on
    a missing or damaged index: that is rebuilt, and the database answers meanwhile.

    ``hits`` holds only articles that pass the relevance bar (``total`` counts them);
    ``related`` holds at most a few weaker candidates, shown apart."""
    parsed = q.parse(text)
    page = max(1, min(int(page), 1000))
    per_page = max(1, min(int(per_page), 50))
    args = (parsed, audience, category, page, per_page, facets, suggest)
    try:
        results = _indexed(*args)
        # nothing found: make sure a damaged build is not the reason
        if results.total or store().believable():
            return results
    except IndexUnavailable:  # missing, and not rebuilt within SEARCH_HEAL_WAIT
        return _fallback(*args)
    except Exception:
        log.exception("search index read failed")
    if store().recover():  # rebuilt, or reopened on a newer build
        try:
            return _indexed(*args)
        except Exception:
            log.exception("search index read failed again")
    return _fallback(*args)


def _fallback(parsed, audience, category, page, per_page, facets, _suggest) -> SearchResults:
    from portal.search import fallback  # it builds on this module's result types

    return fallback.search(parsed, audience, category, page, per_page, facets)


def _indexed(parsed, audience, category, page, per_page, facets, suggest) -> SearchResults:
    searcher = store().searcher()
    groups = synonyms()
    key = (
        searcher.reader().generation(),
        store().ix_name,  # the build folder the searcher was opened on (no extra file read)
        semantic.generation(),
        tuple(map(tuple, groups)),
        audience,
        parsed.text.lower(),
        category,
        page,
        per_page,
        facets,
        suggest,
    )
    cache = current_app.extensions["search_cache"]
    cached = cache.get(key)
    if cached is not None:
        return cached
    results = _run(searcher, parsed, groups, audience, category, page, per_page, facets, suggest)
    cache.put(key, results)
    return results


@dataclass
class _Ranked:
    """A query's answer before paging: matches in order, then related candidates."""

    matches: np.ndarray
    related: np.ndarray
    scores: dict[int, float]
    terms: frozenset[str]
    coverage: float = 0.0  # share of the query's concepts the first match covers
    top: float = 0.0  # the first match's lexical score


def _run(searcher, parsed, groups, audience, category, page, per_page, facets, suggest):
    results = SearchResults(
        query=parsed.text, total=0, page=page, per_page=per_page, suggestion=None
    )
    table = _table(searcher)
    visible = _allowed_mask(searcher, table, audience, None)
    allowed = _allowed_mask(searcher, table, audience, category) if category else visible
    typos, real_words = spelling.candidates(searcher, parsed, groups, visible, _vocabulary_has)
    corrected = " ".join(typos.get(w, w) for w in q.words(parsed.text)) if typos else ""
    # the text most likely ranked with meaning is embedded while the words are read
    semantic.prefetch(corrected or parsed.text)
    plain = q.concepts(parsed, groups)
    ranked = None
    if typos:
        # Whether the fix finds better is judged on words (the fix and the text as typed,
        # each without meaning); then only the one shown is ranked with meaning, so a query
        # with a typo is mostly embedded once (reading both took it to twice a plain
        # search's time). When the fix matches nothing on words, meaning judges both.
        fixed = q.concepts(parsed, groups, typos)
        on_words = _rank(searcher, table, "", fixed, allowed)
        as_typed = _rank(searcher, table, "", plain, allowed)
        strict = bool(real_words & typos.keys())
        better = None
        if _improves(on_words, as_typed, strict):
            # ranked again only to add meaning: without it, that ranking is on_words
            better = on_words
            if semantic.enabled():
                better = _rank(searcher, table, corrected, fixed, allowed)
        elif not len(on_words.matches):  # words alone cannot tell: meaning decides, as both
            ranked = _rank(searcher, table, parsed.text, plain, allowed)
            candidate = _rank(searcher, table, corrected, fixed, allowed)
            better = candidate if _improves(candidate, ranked, strict) else None
        if better is not None:
            ranked = better
            if suggest:
                results.suggestion = corrected
    if ranked is None:
        ranked = _rank(searcher, table, parsed.text, plain, allowed)
    results.total = int(len(ranked.matches))
    if facets:
        results.facets = _facets(table, ranked, allowed)
    pages = max(1, -(-results.total // per_page))
    page_shown = max(1, min(pages, page))
    results.page = page_shown
    offset = (page_shown - 1) * per_page
    shown = ranked.matches[offset : offset + per_page]
    results.hits = [_hit(searcher, int(d), ranked) for d in shown]
    if page_shown == 1:
        results.related = [_hit(searcher, int(d), ranked) for d in ranked.related]
    return results


def _improves(fixed: _Ranked, plain: _Ranked, strict: bool) -> bool:
    """Whether the corrected query finds better matches: more of them, or a first match
    that covers more of the query or scores higher. A word no dictionary knows may also be
    corrected when its correction finds as well (the same stem, "instalation"); a real but
    rare English word only when the correction finds better."""
    if not len(fixed.matches):
        return False
    if len(fixed.matches) > len(plain.matches):
        return True
    if len(fixed.matches) < len(plain.matches) or fixed.coverage < plain.coverage:
        return False
    if fixed.coverage > plain.coverage or fixed.top > plain.top + 1e-6:
        return True
    return not strict


def _rank(searcher, table, text: str, concepts, allowed: np.ndarray) -> _Ranked:
    """Every allowed document scored; matches pass the relevance bar, best first."""
    config = current_app.config
    lex = ranking.lexical(table, concepts, lambda terms: _phrase_docs(searcher, terms))
    need = ranking.required(lex.concepts)
    passes = (lex.covered >= need) & allowed if lex.concepts else np.zeros_like(allowed)
    touched = (lex.covered > 0) & allowed
    cos = semantic.scores(table, text) if text else None
    is_match = passes
    if cos is not None:
        is_match = _meaning_bar(cos, lex, passes, allowed, config)
        unknown = _unknown_to_the_model(concepts)
        if unknown:  # the model cannot judge a code or a name: its words decide
            literal = ranking.lexical(table, unknown, lambda terms: _phrase_docs(searcher, terms))
            full = (lex.covered >= lex.concepts) & (literal.covered >= literal.concepts)
            is_match = is_match | (full & allowed)
    # The pool that gets the mixed score: the best lexical candidates and the nearest in
    # meaning. Everything else that matches follows in BM25F order (a large result list).
    pool_size = int(config["SEARCH_POOL"])
    lexical_pool = _top(np.flatnonzero(touched), lex.score, pool_size)
    pool = lexical_pool
    if cos is not None:
        nearest = _top(np.flatnonzero(allowed), cos, int(config["SEARCH_SEMANTIC_POOL"]))
        pool = np.union1d(lexical_pool, nearest)
    mixed = _mix(lex.score, cos, pool, float(config["SEARCH_SEMANTIC_WEIGHT"]))
    scores = dict(zip(pool.tolist(), mixed.tolist(), strict=True))
    in_pool = np.zeros_like(allowed)
    in_pool[pool] = True
    pooled = pool[is_match[pool]]
    pooled = pooled[_order(mixed[is_match[pool]], pooled)]
    rest = np.flatnonzero(is_match & ~in_pool)
    rest = rest[_order(lex.score[rest], rest)]
    for d in rest.tolist():
        scores[d] = float(lex.score[d])
    matches = np.concatenate([pooled, rest])
    related = pool[~is_match[pool]]
    if cos is not None:  # close in meaning, though not close enough to be a match
        keep = cos[related] >= float(config["SEARCH_SEMANTIC_RELATED"])
    else:  # half of what was asked
        keep = lex.covered[related] * 2 >= max(1, lex.concepts)
    related = related[keep]
    related = related[_order(np.array([scores[d] for d in related.tolist()]), related)]
    related = related[: int(config["SEARCH_RELATED"])]
    terms = frozenset(
        t
        for c in concepts
        for alt in c.alternatives
        for t in (_expand(searcher, alt.terms[0]) if alt.kind == "prefix" else alt.terms)
    )
    coverage, top = 0.0, 0.0
    if len(matches) and lex.concepts:
        coverage = float(lex.covered[matches[0]]) / lex.concepts
        top = float(lex.score[matches[0]])
    return _Ranked(matches, related, scores, terms, coverage, top)


def _unknown_to_the_model(concepts) -> list[q.Concept]:
    """The query's words that no English dictionary holds (an error code, a product or
    system name, a unique word of one article), each as itself only (no synonym, no
    spelling correction): a meaning score says nothing about an article that holds one."""
    english, _ = spelling.english()
    found = []
    for concept in concepts:
        first = concept.alternatives[0] if concept.alternatives else None
        if first is None or first.kind != "term" or " " in concept.label:
            continue
        word = concept.label.lower()
        if spelling.looks_like_a_name(concept.label, True) or (english and word not in english):
            found.append(q.Concept(concept.label, [first]))
    return found


def _meaning_bar(cos, lex, passes, allowed, config) -> np.ndarray:
    """The relevance bar with meaning: an article is a match when it is very close in
    meaning alone, or covers every informative word and is not far in meaning, or passes
    the word bar with only part of the words and is close in meaning (so "the window in my
    office won't close" no longer matches Windows and Office articles on words alone).
    Documents without a vector yet are judged on words. Thresholds: bench/relevance.py."""
    full = (lex.covered >= lex.concepts) & (lex.concepts > 0)
    meaning = (
        (cos >= float(config["SEARCH_SEMANTIC_MATCH"]))
        | (full & (cos >= float(config["SEARCH_SEMANTIC_FLOOR"])))
        | (passes & (cos >= float(config["SEARCH_SEMANTIC_PARTIAL"])))
    )
    return allowed & np.where(cos > -1, meaning, passes)


def _order(values: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Best score first; ties by document number, so an order never depends on paging."""
    if not len(docs):
        return np.zeros(0, dtype=np.int64)
    return np.lexsort((docs, -np.asarray(values, dtype=np.float64)))


def _top(docs: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` best documents by ``values`` (sorted by document number)."""
    if len(docs) > n:
        part = np.argpartition(-values[docs], n - 1)[:n]
        docs = docs[part]
    return np.sort(docs)


def _mix(bm25: np.ndarray, cos, pool: np.ndarray, weight: float) -> np.ndarray:
    """Min-max normalised BM25F, mixed with min-max normalised cosine (when on)."""
    lexical_part = ranking.minmax(bm25[pool].astype(np.float64))
    if cos is None or not len(pool):
        return lexical_part
    meaning = ranking.minmax(cos[pool].astype(np.float64))
    return (1 - weight) * lexical_part + weight * meaning


def _table(searcher) -> ranking.DocTable:
    memo = _searcher_cache(searcher)
    table = memo.get("table")
    if table is None:
        table = memo["table"] = ranking.DocTable(searcher, WEIGHTING.K1, WEIGHTING.B)
    return table


def _phrase_docs(searcher, terms: tuple[str, ...]) -> np.ndarray:
    memo = _searcher_cache(searcher)
    key = ("phrase", terms)
    docs = memo.get(key)
    if docs is None:
        docs = memo[key] = _phrase_holders(searcher, terms)
    return docs


def _phrase_holders(searcher, terms: tuple[str, ...]) -> np.ndarray:
    """Documents holding the words as a phrase. Two words are one term of the pairs field;
    a longer phrase is looked up by its pairs first (most hold none of them together),
    then whoosh checks the positions of what is left. Deleted documents may be in the
    answer, as in every posting list: callers keep only allowed ones."""
    if len(terms) >= 2 and "pairs" in searcher.schema:  # an index built before: positions
        table = _table(searcher)
        held = None
        for first, second in itertools.pairwise(terms):
            docs = table.holders("pairs", schema.pair(first, second))
            held = docs if held is None else np.intersect1d(held, docs, assume_unique=True)
            if not held.size:
                return held
        if len(terms) == 2:
            return held
    found = sorted(searcher.docs_for_query(q.phrase_clause(list(terms))))
    return np.array(found, dtype=np.int64)


def _expand(searcher, prefix: str) -> tuple[str, ...]:
    """The index words a prefix stands for, most frequent first (bounded)."""
    memo = _searcher_cache(searcher)
    key = ("prefix", prefix)
    found = memo.get(key)
    if found is None:
        reader = searcher.reader()
        words = [
            w.decode("utf-8") if isinstance(w, bytes) else w
            for w in reader.expand_prefix(q.FIELD, prefix)
        ]
        words.sort(key=lambda w: -reader.doc_frequency(q.FIELD, w))
        found = memo[key] = tuple(words[: ranking.PREFIX_EXPANSION])
    return found


def _searcher_cache(searcher) -> dict:
    """Per-searcher memo: a refreshed searcher (new index generation) starts empty."""
    cache = getattr(searcher, "_portal_memo", None)
    if cache is None:
        cache = searcher._portal_memo = {}
    return cache


def _allowed(searcher, audience: str, category: str | None) -> set[int]:
    """Document numbers the audience may see (in the category), kept per searcher.

    Staff-only documents are never in the set for everyone, so they never reach a count,
    a snippet or a suggestion. Treat the set as read-only: it is shared by searches.
    """
    memo = _searcher_cache(searcher)
    key = ("allowed", audience, category)
    ids = memo.get(key)
    if ids is None:
        if category:
            base = _allowed(searcher, audience, None)
            ids = base & set(searcher.docs_for_query(wq.Term("category_slug", category)))
        else:
            ids = set(searcher.docs_for_query(_audience_filter(audience)))
        memo[key] = ids
    return ids


def _allowed_mask(searcher, table, audience: str, category: str | None) -> np.ndarray:
    """The allowed set as a boolean array over document numbers (deleted ones False)."""
    memo = _searcher_cache(searcher)
    key = ("mask", audience, category)
    mask = memo.get(key)
    if mask is None:
        mask = np.zeros(table.size, dtype=bool)
        ids = _allowed(searcher, audience, category)
        if ids:
            mask[np.fromiter(ids, dtype=np.int64, count=len(ids))] = True
        mask.setflags(write=False)
        memo[key] = mask
    return mask


def _facets(table, ranked: _Ranked, allowed: np.ndarray) -> dict[str, int]:
    """Matches per category, counted only over documents the audience may see (in the
    chosen category): an empty allowed set gives no facets at all."""
    docs = ranked.matches
    docs = docs[allowed[docs]] if len(docs) else docs
    if not len(docs):
        return {}
    codes, names = table.categories()
    counts = np.bincount(codes[docs], minlength=len(names))
    return {names[i]: int(n) for i, n in enumerate(counts.tolist()) if n and names[i]}


def _vocabulary_has(searcher, term: str, visible: np.ndarray) -> bool:
    """Whether the audience's documents hold an index term (so staff-only words never
    become suggestions)."""
    docs, _ = _table(searcher).postings(term)
    return bool(docs.size) and bool(visible[docs].any())


def _audience_filter(audience: str) -> wq.Query:
    if audience == STAFF:
        return wq.Or([wq.Term("visibility", "everyone"), wq.Term("visibility", "staff")])
    return wq.Term("visibility", "everyone")


def _hit(searcher, docnum: int, ranked: _Ranked) -> Hit:
    stored = searcher.stored_fields(docnum)
    snippet = snippets.snippet(stored, ranked.terms)
    return Hit(
        article_id=stored["article_id"],
        slug=stored["slug"],
        title=stored["title"],
        summary=stored.get("summary", ""),
        category=stored.get("category_name", ""),
        category_slug=stored.get("category_slug", ""),
        subcategory=stored.get("subcategory_name", ""),
        subcategory_slug=stored.get("subcategory_slug", ""),
        snippet=snippet if snippet else escape(stored.get("summary", "")),
        score=round(float(ranked.scores.get(docnum, 0.0)), 4),
    )


def suggestions(title: str, details: str, audience: str, limit: int = 5) -> list[Hit]:
    """Articles for a problem being described (the incident form, an agent's panel): the
    matches of its title under the relevance bar, then its "might be related" articles.
    A long description would make the bar ask for most of its words, so only the title
    is matched word by word."""
    found: list[Hit] = []
    # the title first; when it finds nothing, each sentence of the description in turn
    sentences = re.split(r"(?<=[.!?])\s+|\n+", (details or "")[:1000])
    for text in [(title or "").strip()] + [t.strip() for t in sentences[:6]]:
        if not text or (found and text != (title or "").strip() and len(found) >= limit):
            continue
        results = search(text[:200], audience, per_page=limit, suggest=False)
        seen = {h.article_id for h in found}
        found += [h for h in results.hits + results.related if h.article_id not in seen]
        if found and text == (title or "").strip():
            break
    return found[:limit]


def related_articles(article_id: int, audience: str, limit: int = 5) -> list[Hit]:
    """Articles close in meaning to one article (its page's "Related articles"), among
    those the audience may see; lexically, the matches of its title, when semantic search
    is off."""
    try:
        searcher = store().searcher()
        table = _table(searcher)
        allowed = _allowed_mask(searcher, table, audience, None)
        own = searcher.document_number(id=str(article_id))
        cos = semantic.article_scores(table, article_id)
    except Exception:  # the article page must render whatever happens to the index
        log.exception("related articles failed")
        return []
    empty = _Ranked(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), {}, frozenset())
    if cos is None:
        if own is None:
            return []
        title = searcher.stored_fields(own)["title"]
        found = search(title, audience, per_page=limit + 1, suggest=False)
        return [h for h in found.hits + found.related if h.article_id != article_id][:limit]
    candidates = allowed & (cos >= float(current_app.config["SEARCH_RELATED_ARTICLE_MIN"]))
    if own is not None:
        candidates[own] = False
    docs = np.flatnonzero(candidates)
    docs = docs[_order(cos[docs], docs)][:limit]
    empty.scores.update({int(d): float(cos[d]) for d in docs})
    return [_hit(searcher, int(d), empty) for d in docs]


def same_problem(text: str, others: list[str]) -> list[float]:
    """For each short text (an open incident's title), how close it is to ``text`` when it
    names the same problem by the search's relevance bar and meaning, else 0.0 (the known
    issues offered at intake; see titles.py)."""
    try:
        return titles.same_problem(text, others, synonyms())
    except Exception:  # the raise form must work whatever happens to the model
        log.exception("same-problem matching failed")
        return [0.0] * len(others)


def semantic_similarity(text: str, others: list[str]) -> list[float] | None:
    """Cosine in meaning between a text and each of some short texts (incident titles),
    or None when semantic search is off; for matching that is not over articles."""
    try:
        return semantic.text_similarity(text, others)
    except Exception:
        log.exception("semantic similarity failed")
        return None
