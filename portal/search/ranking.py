"""Scores computed over whole arrays: every candidate is scored exactly, once per search.

Whoosh's own collector scores documents through a tree of Python matchers and, with a
coordination factor (``Or(scale=...)``), rebuilds that tree while it collects, so a score
depended on how many results were asked for (the same article on page 1 and page 2). Here
each query term's postings are read once per searcher into arrays (document numbers and
their BM25F scores), and a query's score, the number of its concepts a document covers and
the relevance bar are array operations over every document. Nothing depends on paging, and
nothing is dropped to go faster: a document is only ever left out because it fails the bar.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from portal.search import query as q

# Terms whose postings are kept per searcher, and how many postings at most (about 8 bytes
# each): enough for every term of a 10,000-article library.
MAX_CACHED_POSTINGS = 4_000_000
PREFIX_EXPANSION = 32  # a "meet*" searches at most this many index words


def required(count: int) -> int:
    """How many of a query's concepts an article must cover to be listed as a match:
    all of one or two, all but one of three or four, then about two thirds (Lucene's and
    Elasticsearch's minimum_should_match "2<-1 4<67%"); measured on bench/relevance.py."""
    if count <= 2:
        return count
    if count <= 4:
        return count - 1
    return max(3, math.ceil(count * 0.67))


class DocTable:
    """Per-searcher arrays: field lengths for BM25F and the document-to-article map."""

    def __init__(self, searcher, k1: float, b: float) -> None:
        self.searcher = searcher
        self.k1 = k1
        self.b = b
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        self.count = max(1, self.size)
        lengths = np.zeros(self.size, dtype=np.float32)
        articles = np.full(self.size, -1, dtype=np.int64)
        for leaf, offset in reader.leaf_readers():
            n = leaf.doc_count_all()
            if not n:
                continue
            lengths[offset : offset + n] = [
                leaf.doc_field_length(d, q.FIELD, 0) or 0 for d in range(n)
            ]
            if leaf.has_column("article_id"):
                column = leaf.column_reader("article_id")
                articles[offset : offset + n] = [int(column[d]) for d in range(n)]
        self.article_ids = articles
        self.avg_length = float(searcher.avg_field_length(q.FIELD) or 1.0) or 1.0
        self.norm = (k1 * ((1 - b) + b * lengths / self.avg_length)).astype(np.float32)
        # term -> postings of the content field; (field, term) -> holders in another field
        self._postings: dict[object, tuple[np.ndarray, np.ndarray]] = {}
        self._cached = 0
        self._lock = threading.Lock()
        self._categories: np.ndarray | None = None
        self._category_names: list[str] = []

    # -- postings ------------------------------------------------------------------------

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers holding ``term`` and their BM25F scores for it."""
        found = self._postings.get(term)
        if found is not None:
            return found
        docs, weights = self._read(term)
        if docs.size:
            df = self.searcher.doc_frequency(q.FIELD, term)
            idf = math.log(self.count / (df + 1)) + 1
            scores = (idf * weights * (self.k1 + 1) / (weights + self.norm[docs])).astype(
                np.float32
            )
        else:
            scores = np.zeros(0, dtype=np.float32)
        found = (docs, scores)
        with self._lock:
            if self._cached + docs.size > MAX_CACHED_POSTINGS:
                self._postings.clear()
                self._cached = 0
            self._postings[term] = found
            self._cached += docs.size
        return found

    def holders(self, field: str, term: str) -> np.ndarray:
        """Document numbers holding ``term`` in another field (deleted ones included, as
        in ``postings``), kept beside the postings."""
        key = (field, term)
        found = self._postings.get(key)
        if found is None:
            docs, _ = self._read(term, field)
            found = (docs, np.zeros(0, dtype=np.float32))
            with self._lock:
                if self._cached + docs.size > MAX_CACHED_POSTINGS:
                    self._postings.clear()
                    self._cached = 0
                self._postings[key] = found
                self._cached += docs.size
        return found[0]

    def _read(self, term: str, field: str = q.FIELD) -> tuple[np.ndarray, np.ndarray]:
        reader = self.searcher.reader()
        if (field, term) not in reader:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for leaf, offset in reader.leaf_readers():
            if (field, term) not in leaf:
                continue
            leaf_ids, leaf_weights = _leaf_postings(leaf, term, field)
            ids.append(np.asarray(leaf_ids, dtype=np.int64) + offset)
            weights.append(np.asarray(leaf_weights, dtype=np.float32))
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(ids), np.concatenate(weights)

    # -- categories ----------------------------------------------------------------------

    def categories(self) -> tuple[np.ndarray, list[str]]:
        """Each document's category as a small integer, and the slugs they stand for."""
        if self._categories is None:
            codes = np.zeros(self.size, dtype=np.int32)
            names: dict[str, int] = {"": 0}
            reader = self.searcher.reader()
            for leaf, offset in reader.leaf_readers():
                n = leaf.doc_count_all()
                if not n or not leaf.has_column("category_slug"):
                    continue
                column = leaf.column_reader("category_slug")
                for d in range(n):
                    value = column[d]
                    value = value.decode() if isinstance(value, bytes) else value
                    codes[offset + d] = names.setdefault(value or "", len(names))
            self._category_names = list(names)
            self._categories = codes
        return self._categories, self._category_names


def _leaf_postings(leaf, term: str, field: str = q.FIELD):
    """A segment's postings for one term, read a block at a time.

    Whoosh's matchers hand out one posting per Python call; the block reader already holds
    each block's ids and weights as arrays, so this reads them whole (``_read_ids`` and
    ``_read_weights`` are W3LeafMatcher internals; other matchers take the slow path).
    Deleted documents are still in the postings; callers intersect with the searcher's
    allowed set, which excludes them.
    """
    btext = term.encode("utf-8")
    matcher = leaf._terms.matcher(field, btext, leaf.schema[field].format)
    ids: list = []
    weights: list = []
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            matcher._next_block()
        return ids, weights
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


@dataclass
class Lexical:
    """A query's lexical evidence over every document of the searcher."""

    score: np.ndarray  # BM25F, summed over concepts
    covered: np.ndarray  # how many of the query's concepts each document covers
    concepts: int


def lexical(table: DocTable, concepts: list[q.Concept], phrase_docs) -> Lexical:
    """Score every document for the concepts; ``phrase_docs(terms)`` gives the documents
    holding a phrase (whoosh checks positions)."""
    size = table.size
    total = np.zeros(size, dtype=np.float32)
    covered = np.zeros(size, dtype=np.int16)
    for concept in concepts:
        best = np.zeros(size, dtype=np.float32)
        for alt in concept.alternatives:
            if alt.kind == "term":
                docs, scores = table.postings(alt.terms[0])
                if docs.size:
                    np.maximum.at(best, docs, scores * alt.boost)
            elif alt.kind == "phrase":
                holders = phrase_docs(alt.terms)
                if holders.size:
                    summed = np.zeros(size, dtype=np.float32)
                    for term in alt.terms:
                        docs, scores = table.postings(term)
                        summed[docs] += scores
                    np.maximum.at(best, holders, summed[holders] * alt.boost)
            elif alt.kind == "prefix":
                for term in alt.terms:
                    docs, scores = table.postings(term)
                    if docs.size:
                        np.maximum.at(best, docs, scores * alt.boost)
        total += best
        covered += best > 0
    return Lexical(score=total, covered=covered, concepts=len(concepts))


def minmax(values: np.ndarray) -> np.ndarray:
    """Scale to 0..1 over the given candidates (all equal: all 1)."""
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values)
    return (values - low) / (high - low)
