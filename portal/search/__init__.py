"""The one door to Whoosh: index upkeep (outbox), queries, snippets and suggestions.

Nothing outside this package imports whoosh. Callers pass an audience (see portal.access);
staff-only documents are filtered inside the searcher, so they never reach a count,
a snippet or a suggestion for anyone else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import Flask, current_app
from markupsafe import Markup, escape
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from whoosh import highlight, sorting
from whoosh import query as wq

from portal.access import STAFF
from portal.extensions import db
from portal.search import query as q
from portal.search.index import IndexStore, IndexUnavailable
from portal.search.models import SearchOutbox, SynonymGroup
from portal.search.schema import text_analyzer

log = logging.getLogger(__name__)
_ANALYZER = text_analyzer()

__all__ = [
    "SearchResults",
    "Hit",
    "search",
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


@event.listens_for(Session, "after_rollback")
def _forget_outbox(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop("search_pending", None)


def sync(timeout: float = 5.0) -> int:
    """Apply every pending outbox row to this node's index."""
    return store().sync(timeout=timeout)


def rebuild(procs: int | None = None) -> int:
    """Rebuild this node's index from the database; returns the number of articles."""
    count = store().rebuild(procs=procs or int(current_app.config["SEARCH_BUILD_PROCS"]))
    store().close()
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
                rows = db.session.scalars(select(SynonymGroup)).all()
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
    a missing or damaged index: that is rebuilt, and the database answers meanwhile."""
    parsed = q.parse(text)
    page = max(1, int(page))
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


def _run(searcher, parsed, groups, audience, category, page, per_page, facets, suggest):
    results = SearchResults(
        query=parsed.text, total=0, page=page, per_page=per_page, suggestion=None
    )
    allowed = _allowed(searcher, audience, category)
    corrections = _corrections(searcher, parsed, _allowed(searcher, audience, None))
    if corrections and suggest:
        results.suggestion = " ".join(corrections.get(w, w) for w in q.words(parsed.text))
    # A misspelled word still finds what its correction finds, ranked a little lower.
    extra = [t for fixed in corrections.values() for t in q.analyze(fixed)]
    query = q.build(parsed, groups, corrected=extra, common=_common_terms(searcher, parsed))
    # Nothing the audience may see (an unknown category, or none public yet): no hits and no
    # facets. Whoosh's collector ignores an empty filter set (`if allow else None` in
    # whoosh/collectors.py), and its grouped facets would count every match, staff-only too.
    if query is not None and allowed:
        # The filter is a set of document numbers kept per searcher (whoosh would turn a
        # filter query into a bit set on every search); the total is counted from the
        # matching documents of each clause, as whoosh's own count re-runs the whole query
        # through Python union matchers. search_page would count it again.
        total = len(_matching(searcher, query) & allowed)
        results.total = total
        # optimize=False: whoosh 2.7.4's block-quality skipping can loop forever in
        # AndMaybe/Or matchers when its per-block score bounds are loose (seen with K1=4 on
        # "zivou user account"); it skipped no block on our queries anyway.
        kwargs = {"filter": allowed, "optimize": False}
        if facets:
            kwargs["groupedby"] = sorting.FieldFacet("category_slug")
        pages = -(-total // per_page)
        page_shown = max(1, min(pages, page))
        hits = searcher.search(query, limit=page_shown * per_page, **kwargs)
        if facets:
            results.facets = {k: len(v) for k, v in hits.groups().items() if k}
        if total:
            offset = (page_shown - 1) * per_page
            terms = _highlight_terms(searcher, query)
            results.hits = [_hit(hit, terms) for hit in hits[offset : offset + per_page]]
    return results


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
        if len(memo) > 256:
            memo.clear()
        memo[key] = ids
    return ids


def _matching(searcher, query: wq.Query) -> set[int]:
    """Every document the query matches. Same set as ``searcher.docs_for_query(query)``,
    but an Or is the union of its parts' sets (in C) instead of a tree of Python union
    matchers, and AndMaybe matches what its required part matches."""
    if type(query) in (wq.Or, wq.DisjunctionMax) and not getattr(query, "minmatch", 0):
        ids: set[int] = set()
        for sub in query.subqueries:
            ids |= _matching(searcher, sub)
        return ids
    if type(query) is wq.AndMaybe:
        return _matching(searcher, query.a)
    if type(query) is wq.Term and (query.fieldname, query.text) not in searcher.reader():
        return set()
    return set(searcher.docs_for_query(query))


def _common_terms(searcher, parsed: q.ParsedQuery) -> set[str]:
    """The query's words that appear in a large share of the library."""
    reader = searcher.reader()
    total = reader.doc_count()
    config = current_app.config
    if total < config["SEARCH_COMMON_MIN_DOCS"] or len(parsed.terms) < 2:
        return set()
    limit = total * config["SEARCH_COMMON_SHARE"]
    return {t for t in parsed.terms if reader.doc_frequency(q.FIELD, t) > limit}


def _audience_filter(audience: str) -> wq.Query:
    if audience == STAFF:
        return wq.Or([wq.Term("visibility", "everyone"), wq.Term("visibility", "staff")])
    return wq.Term("visibility", "everyone")


_FRAGMENTER = highlight.ContextFragmenter(maxchars=180, surround=50)
_FORMATTER = highlight.HtmlFormatter(tagname="mark", classname="hl", termclass="t")


def _snippet(hit, terms: frozenset[str]) -> str:
    """Highlighted fragments: from the symptoms, which are short and hold the words people
    type; the body, costly to highlight, only when the words are nowhere else."""
    if not terms:
        return ""
    for name in ("symptoms", "summary", "body"):
        text = hit.get(name) or ""
        if text:
            found = highlight.highlight(
                text, terms, _ANALYZER, _FRAGMENTER, _FORMATTER, top=2, minscore=1
            )
            if found:
                return found
    return ""


def _hit(hit, terms: frozenset[str]) -> Hit:
    snippet = _snippet(hit, terms)
    return Hit(
        article_id=hit["article_id"],
        slug=hit["slug"],
        title=hit["title"],
        summary=hit.get("summary", ""),
        category=hit.get("category_name", ""),
        category_slug=hit.get("category_slug", ""),
        subcategory=hit.get("subcategory_name", ""),
        subcategory_slug=hit.get("subcategory_slug", ""),
        # Whoosh's HtmlFormatter escapes the text around the <mark> tags it adds.
        snippet=Markup(snippet) if snippet else escape(hit.get("summary", "")),  # noqa: S704
        score=round(float(hit.score or 0.0), 4),
    )


def _highlight_terms(searcher, query: wq.Query) -> frozenset[str]:
    """The index terms the query matched, prefixes expanded (what a snippet marks)."""
    return frozenset(
        text.decode("utf-8") if isinstance(text, bytes) else text
        for field_name, text in query.existing_terms(searcher.reader(), expand=True)
        if field_name == q.FIELD
    )


def _corrections(searcher, parsed: q.ParsedQuery, allowed: set[int]) -> dict[str, str]:
    """Did-you-mean: for each word missing from the index, a close word that the same
    audience would find, so staff-only vocabulary never leaks into a suggestion."""
    reader = searcher.reader()
    corrector = None
    found: dict[str, str] = {}
    for word in parsed.words:
        if len(word) < 3 or word.isdigit() or ("spell", word) in reader:
            continue
        corrector = corrector or searcher.corrector("spell")
        for candidate in corrector.suggest(word, limit=4, maxdist=2, prefix=1):
            terms = q.analyze(candidate)
            if terms and _audience_has(searcher, terms[0], allowed):
                found[word] = candidate
                break
    return found


def _audience_has(searcher, term: str, allowed: set[int]) -> bool:
    return not allowed.isdisjoint(_matching(searcher, q.term_clause(term)))
