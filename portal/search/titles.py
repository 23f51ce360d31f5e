"""Whether two short texts (a new incident's title and an open one's) name the same problem,
by the search's own rule: the relevance bar over informative concepts (generic question
words carry no weight, synonyms count as the word) mixed with meaning when it is on.

Titles are short on both sides, so the bar may be passed either way (the open incident
covers enough of the new title's concepts, or the new title enough of the open one's), and
it takes two shared concepts: one shared word is not a match unless it is all both titles
say ("laptop" does not match "Laptop will not start", nor "Laptop bag strap broke"), and
a one-word title is never matched on meaning alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app

from portal.search import query as q
from portal.search import ranking, semantic


def _covers(concept: q.Concept, terms: set[str]) -> bool:
    for alt in concept.alternatives:
        if alt.kind == "prefix":
            if any(t.startswith(alt.terms[0]) for t in terms):
                return True
        elif set(alt.terms) <= terms:
            return True
    return False


def same_problem(
    text: str, others: Sequence[str], groups: list[list[str]] | None = None
) -> list[float]:
    """For each of `others`, how close it is to `text` when it names the same problem, and
    0.0 when it does not pass the bar. Meaning decides with the words when semantic search
    is on (the thresholds in config: SEARCH_SIMILAR_MATCH for meaning alone, then
    SEARCH_SEMANTIC_PARTIAL and _FLOOR as in the article bar); words alone otherwise."""
    concepts = q.concepts(q.parse(text), groups or [])
    if not concepts or not others:
        return [0.0] * len(others)
    known = {t for c in concepts for alt in c.alternatives for t in alt.terms}
    config = current_app.config
    cos = semantic.text_similarity(text, list(others)) if config.get("SEARCH_SEMANTIC") else None
    scores = []
    for i, other in enumerate(others):
        terms = set(q.informative(q.analyze(other)))
        covered = sum(1 for c in concepts if _covers(c, terms))
        back = len(terms & known)  # the other title's words the new one also says
        n, m = len(concepts), len(terms)
        one_way = covered >= ranking.required(n) or (m > 0 and back >= ranking.required(m))
        lexical = one_way and (min(covered, back) >= 2 or n == m == covered == back == 1)
        full = m > 0 and covered == n and back == m
        words = covered / max(n, m, 1)
        if cos is None:
            scores.append(words if lexical else 0.0)
            continue
        close = float(cos[i])
        # One informative word says too little to be the same problem by meaning alone
        # ("laptop" is 0.48 from "Laptop will not start", "vpn" 0.62 from "VPN will not connect").
        match = (
            (n > 1 and close >= float(config["SEARCH_SIMILAR_MATCH"]))
            or (full and close >= float(config["SEARCH_SEMANTIC_FLOOR"]))
            or (lexical and close >= float(config["SEARCH_SEMANTIC_PARTIAL"]))
        )
        scores.append(max(close, words) if match else 0.0)
    return scores
