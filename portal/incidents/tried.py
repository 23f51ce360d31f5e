"""What a requester tried before raising an incident, and which of it belongs to the incident.

A browser session's trail holds every search of the last hours, most of them about other
things (another problem, a colleague's phone number, a stray ``AND``). Only the searches made
for this problem may follow the incident anywhere: into the agent's panel first, into the
knowledge-gap and search reports, and into an article drafted from it that the whole company
will read. One rule decides, here, for all of them:

- a search belongs when it shares an informative word (stemmed, generic question words such
  as "not", "working", "help" set aside) with the incident's title or description, or when it
  means the same as the title (portal.search's embedding model, when installed);
- junk says nothing and never belongs: no informative word after analysis (``*``, ``AND``),
  or only words made of one repeated character (2,000 ``x``);
- only the last few that belong count (``BELONGING_MAX``): those made just before raising.

Drafts carry those searches scrubbed of what identifies people (:func:`scrub`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from portal.search import semantic_similarity
from portal.search.query import GENERIC_TERMS, analyze

BELONGING_MAX = 3
# Cosine (all-MiniLM-L6-v2) between a search and the incident's title that makes them the
# same problem on meaning alone. Measured against "Laptop will not start": "computer wont
# boot" 0.712, "pc does not turn on" 0.515, "my laptop is slow" 0.433; against "VPN will not
# connect": "vpn" 0.624, "wifi not working" 0.384, "printer offline" 0.072. Shared words
# decide the rest.
SAME_MEANING = 0.65
DESCRIPTION_CHARS = 2000


def informative_terms(text: str) -> frozenset[str]:
    """The stemmed words that say what a text is about; empty for junk."""
    return frozenset(
        term
        for term in analyze(text or "")
        if term not in GENERIC_TERMS and len(set(term)) > 1  # "x", "xxxxxxxx": no word
    )


def is_junk(query: str) -> bool:
    """A query that says nothing about a need (``*``, ``AND``, a run of one letter)."""
    return not informative_terms(query)


def belonging(title: str, description: str, queries: Sequence[str]) -> list[int]:
    """The positions in `queries` (oldest first) that belong to an incident, oldest first,
    at most ``BELONGING_MAX`` of them, the latest ones."""
    own = informative_terms(title) | informative_terms((description or "")[:DESCRIPTION_CHARS])
    if not own:
        return []
    candidates = [(i, q) for i, q in enumerate(queries) if not is_junk(q)]
    if not candidates:
        return []
    sharing = {i for i, q in candidates if informative_terms(q) & own}
    others = [(i, q) for i, q in candidates if i not in sharing]
    if others and title:
        meaning = semantic_similarity(title, [q for _, q in others]) or []
        sharing |= {i for (i, _), cos in zip(others, meaning, strict=False) if cos >= SAME_MEANING}
    return sorted(sharing)[-BELONGING_MAX:]


@dataclass
class Tried:
    """A trail split into what belongs to the incident and the rest (staff only)."""

    queries: list[dict] = field(default_factory=list)
    other_queries: list[dict] = field(default_factory=list)
    articles: list[dict] = field(default_factory=list)
    votes: list[dict] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.queries or self.other_queries or self.articles or self.votes)


def scope(context: dict | None, title: str, description: str) -> Tried:
    """Split an incident's search context: the searches that belong, and all the others."""
    context = context or {}
    queries = [q for q in context.get("queries") or [] if isinstance(q, dict) and q.get("q")]
    keep = set(belonging(title, description, [q["q"] for q in queries]))
    return Tried(
        queries=[q for i, q in enumerate(queries) if i in keep],
        other_queries=[q for i, q in enumerate(queries) if i not in keep],
        articles=list(context.get("articles") or []),
        votes=list(context.get("votes") or []),
    )


# -- what a published draft may carry --------------------------------------------------

_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_DIGITS = re.compile(r"\+?\d[\d\s().-]{3,}\d")  # phone, extension, badge or room numbers
_STREET = re.compile(
    r"\b\d+\w?\s+(?:[A-Za-z]+\s+){0,3}(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|"
    r"way|place|pl|square|sq|boulevard|blvd|court|ct)\b\.?",
    re.IGNORECASE,
)
WORDS_MAX = 12


def scrub(text: str, names: Iterable[str] = (), *, query: bool = True) -> str:
    """Text as a draft may show it: no addresses (mail, web, street), numbers that name a
    phone or a person, nor any of `names` (people's names, each word on its own). A query
    also keeps each word once (a 300-word repeated query is three words), at most
    ``WORDS_MAX`` of them."""
    text = _EMAIL.sub(" ", text or "")
    text = _URL.sub(" ", text)
    text = _STREET.sub(" ", text)
    text = _DIGITS.sub(" ", text)
    banned = {part.lower() for name in names for part in re.findall(r"\w+", name or "")}
    banned = {part for part in banned if len(part) > 1}
    kept: list[str] = []
    seen: set[str] = set()
    for word in text.split():
        bare = re.sub(r"^\W+|\W+$", "", word).lower()
        bare = re.sub(r"'s$", "", bare)
        if not bare or bare in banned:
            continue
        if query and bare in seen:
            continue
        seen.add(bare)
        kept.append(word.strip(",;:") if query else word)
    return " ".join(kept[:WORDS_MAX] if query else kept)


_FIRST_PERSON = [
    (re.compile(r"\b(?:i am|i'm|im|we are|we're)\s+", re.IGNORECASE), ""),
    (re.compile(r"\b(?:i have|i've|ive|we have|we've)\s+", re.IGNORECASE), ""),
    (re.compile(r"\b(?:my|our|mine|ours)\b", re.IGNORECASE), "the"),
    (re.compile(r"\b(?:me|us|myself)\b", re.IGNORECASE), "the user"),
    (re.compile(r"\b(?:i|we)\s+", re.IGNORECASE), ""),
]


def neutral(text: str, names: Iterable[str] = ()) -> str:
    """A requester's sentence as an article states a symptom: no "I", "my" or names
    ("My laptop won't start" -> "The laptop won't start")."""
    text = scrub(text, names, query=False)
    for pattern, replacement in _FIRST_PERSON:
        text = pattern.sub(replacement, text)
    text = re.sub(r"\bthe the\b", "the", " ".join(text.split()), flags=re.IGNORECASE)
    text = text.strip(" .,;:!?")
    return text[:1].upper() + text[1:]
