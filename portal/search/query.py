"""Turn what a user typed into a Whoosh query. Every input gives a query, never an error.

People type words, not syntax: quotes make a phrase only when they pair up, a trailing ``*``
makes a prefix, and everything else (colons, ``AND``, brackets, markup) is just text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import query as wq

from portal.search.schema import text_analyzer, word_analyzer

FIELD = "content"  # one weighted field holds every section (schema.WeightedSections)

MAX_INPUT = 2000
MAX_TERMS = 24

_PHRASE = re.compile(r'"([^"]*)"')
_CHUNK = re.compile(r"[^\s\"]+")
_OPERATORS = {"and", "or", "not", "to"}

_analyzer = text_analyzer()
_words = word_analyzer()


def analyze(text: str) -> list[str]:
    """The index terms for a piece of text (stemmed, stop words dropped)."""
    return [t.text for t in _analyzer(text)]


def words(text: str) -> list[str]:
    """The words of a piece of text as typed, lowercased."""
    return [t.text for t in _words(text)]


@dataclass
class ParsedQuery:
    """What the user typed, taken apart once: reused for searching and for suggestions."""

    text: str
    terms: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phrases or self.prefixes)


def normalise(text: str) -> str:
    """Collapse white space and trim to a sane length."""
    return " ".join((text or "")[:MAX_INPUT].split())


def parse(text: str) -> ParsedQuery:
    """Take the user's text apart into terms, phrases and prefixes."""
    text = normalise(text)
    parsed = ParsedQuery(text=text)
    rest = text
    for match in _PHRASE.finditer(text):
        phrase = analyze(match.group(1))
        if len(phrase) > 1:
            parsed.phrases.append(phrase)
        else:
            parsed.terms.extend(phrase)
    rest = _PHRASE.sub(" ", text)
    for chunk in _CHUNK.findall(rest):
        if chunk.endswith("*"):
            stem = "".join(words(chunk.rstrip("*")))
            if len(stem) >= 2:
                parsed.prefixes.append(stem)
                continue
        parsed.words.extend(w for w in words(chunk) if w not in _OPERATORS)
        parsed.terms.extend(t for t in analyze(chunk) if t not in _OPERATORS)
    parsed.terms = _unique(parsed.terms)[:MAX_TERMS]
    parsed.words = _unique(parsed.words)[:MAX_TERMS]
    parsed.prefixes = _unique(parsed.prefixes)[:4]
    parsed.phrases = parsed.phrases[:4]
    return parsed


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def term_clause(term: str, boost: float = 1.0) -> wq.Query:
    return wq.Term(FIELD, term, boost=boost)


def phrase_clause(terms: list[str], boost: float = 1.0) -> wq.Query:
    return wq.Phrase(FIELD, terms, boost=boost)


def build(
    parsed: ParsedQuery,
    synonyms: list[list[str]] | None = None,
    corrected: list[str] | None = None,
    common: set[str] | frozenset[str] = frozenset(),
) -> wq.Query | None:
    """One query over all text fields; documents matching more of the words rank higher.

    Words in ``common`` (found in a large share of the library, like "open" or "working")
    only add to the score of documents that match a rarer word, as Lucene's common-terms
    query does: they would otherwise make nearly every document a candidate to score.
    """
    rare = [t for t in parsed.terms if t not in common]
    frequent = [t for t in parsed.terms if t in common]
    clauses: list[wq.Query] = [term_clause(t) for t in rare]
    clauses += [term_clause(t, 0.9) for t in corrected or [] if t not in parsed.terms]
    clauses += [phrase_clause(p, boost=1.5) for p in parsed.phrases]
    clauses += [wq.Prefix(FIELD, p) for p in parsed.prefixes]
    for alternative in expand_synonyms(parsed, synonyms or []):
        clauses.append(
            term_clause(alternative[0], 0.8)
            if len(alternative) == 1
            else phrase_clause(alternative, 0.8)
        )
    if not clauses:  # only common words: they are all there is to match
        clauses, frequent = [term_clause(t) for t in frequent], []
    if not clauses:
        return None
    main = clauses[0] if len(clauses) == 1 else wq.Or(clauses, scale=0.9)
    if frequent:
        optional = [term_clause(t) for t in frequent]
        return wq.AndMaybe(main, optional[0] if len(optional) == 1 else wq.Or(optional))
    return main


def expand_synonyms(parsed: ParsedQuery, groups: list[list[str]]) -> list[list[str]]:
    """The other members of every synonym group that the query mentions, as term lists."""
    haystack = f" {' '.join(parsed.words)} "
    seen_terms = set(parsed.terms)
    extra: list[list[str]] = []
    for group in groups:
        members = [(m, words(m)) for m in group]
        if not any(w and f" {' '.join(w)} " in haystack for _, w in members):
            continue
        for member, member_words in members:
            if member_words and f" {' '.join(member_words)} " in haystack:
                continue
            terms = analyze(member)
            if terms and not (len(terms) == 1 and terms[0] in seen_terms):
                extra.append(terms)
    return extra
