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


@dataclass
class Alternative:
    """One way to satisfy a concept: a term, a phrase or a prefix, with its weight."""

    kind: str  # "term", "phrase" or "prefix"
    terms: tuple[str, ...]
    boost: float = 1.0


@dataclass
class Concept:
    """One informative thing the user asked about: a word with its synonyms and its
    spelling correction, a quoted phrase, or a prefix. The bar counts concepts."""

    label: str
    alternatives: list[Alternative] = field(default_factory=list)


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


def informative(terms: list[str]) -> list[str]:
    """The terms that say what the problem is (generic words of questions dropped)."""
    return [t for t in terms if t not in GENERIC_TERMS]


def concepts(
    parsed: ParsedQuery,
    synonyms: list[list[str]] | None = None,
    corrections: dict[str, str] | None = None,
) -> list[Concept]:
    """What the query asks about, one concept per informative word, phrase or prefix.

    A word's synonyms (admins' groups) and its spelling correction are other ways to cover
    the same concept; a multi-word synonym ("remote access") is a phrase alternative.
    """
    corrections = corrections or {}
    by_term: dict[str, Concept] = {}
    found: list[Concept] = []
    dropped: set[str] = set()
    for word in parsed.words:
        for term in analyze(word):
            if term in GENERIC_TERMS or term in by_term:
                continue
            fixed = corrections.get(word)
            if fixed and all(t in GENERIC_TERMS for t in analyze(fixed)):
                dropped.add(term)  # a misspelt "wokring": a generic word, no weight either
                continue
            concept = Concept(word, [Alternative("term", (term,))])
            for alt in analyze(fixed) if fixed else []:
                if alt != term:
                    concept.alternatives.append(Alternative("term", (alt,), 0.9))
            by_term[term] = concept
            found.append(concept)
    for term in parsed.terms:  # words inside a one-word "quoted" phrase
        if term not in by_term and term not in GENERIC_TERMS and term not in dropped:
            by_term[term] = Concept(term, [Alternative("term", (term,))])
            found.append(by_term[term])
    for phrase in parsed.phrases:
        found.append(Concept(" ".join(phrase), [Alternative("phrase", tuple(phrase), 1.5)]))
    for prefix in parsed.prefixes:
        found.append(Concept(prefix + "*", [Alternative("prefix", (prefix,))]))
    _add_synonyms(parsed, synonyms or [], by_term, found)
    return found


def _add_synonyms(parsed, groups, by_term, found) -> None:
    """Each synonym group the query mentions joins its members to the mentioned concept."""
    haystack = f" {' '.join(parsed.words)} "
    for group in groups:
        members = [(m, words(m)) for m in group]
        mentioned = [w for _, w in members if w and f" {' '.join(w)} " in haystack]
        if not mentioned:
            continue
        target = _concept_for(mentioned[0], by_term, found)
        if target is None:
            continue
        for member, member_words in members:
            if member_words and f" {' '.join(member_words)} " in haystack:
                continue
            terms = tuple(analyze(member))
            if not terms:
                continue
            kind = "term" if len(terms) == 1 else "phrase"
            if any(a.terms == terms for a in target.alternatives):
                continue
            target.alternatives.append(Alternative(kind, terms, 0.8))


def _concept_for(mentioned_words, by_term, found):
    """The concept a mentioned synonym belongs to; a multi-word one merges its words."""
    terms = [t for w in mentioned_words for t in analyze(w) if t in by_term]
    if not terms:
        return None
    target = by_term[terms[0]]
    for other in terms[1:]:  # "remote access" is one thing, not two
        concept = by_term[other]
        if concept is not target and concept in found:
            found.remove(concept)
            by_term[other] = target
    if len(terms) > 1:
        target.label = " ".join(mentioned_words)
        target.alternatives = [Alternative("phrase", tuple(terms))]
    return target


# Words of questions and complaints that say nothing about the problem itself: they carry
# no weight in matching or ranking and are not highlighted ("how can I ...", "... not
# working, please help").
GENERIC_WORDS = """
a about after again all also always am an any anymore anyone anything are as ask at be
been being but by can cannot cant could did didnt do does doesnt doing done dont each
even ever every for from get gets getting go going got had has have having hello help
helps hi how i id if im in into is isnt issue issues it its ive just keep keeps kind
know like make me might more most much must my need needed needs no not now of ok okay
on or other our please problem problems really seem seems should so some someone
something sometimes still such suddenly sure tell than thank thanks that the their them
then there these they thing things this those time times to today too try tried trying
unable until us use used using very want wanted wants was way we were what whats when
where which while who why will with wont work worked working works would yet you your
""".split()

GENERIC_TERMS: frozenset[str] = frozenset(t for w in GENERIC_WORDS for t in analyze(w))
