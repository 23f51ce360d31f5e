"""Highlighted snippets: whole sentences holding the query's words, marked with <mark>.

Whoosh's context fragmenter cuts a fixed number of characters around a match, so a snippet
often started in the middle of a word or a quote. Here a snippet is made of the sentences
(or list items) that hold the most query terms, each shown from its start; a long sentence
is cut at a word boundary and the cut is shown with an ellipsis.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from markupsafe import Markup, escape
from whoosh.support.charset import accent_map

from portal.search.schema import text_analyzer

MAX_CHARS = 220
SECTIONS = ("symptoms", "summary", "body")
# Sections whose sentences and words are kept analysed: the stemming analyser took about a
# fifth of a search's time when every hit's text was analysed afresh for every query. A few
# hundred sections (tens of kB each at most) cover the articles that are found often.
ANALYSED_SECTIONS = 384
ANALYSED_SENTENCES = 4096

_analyzer = text_analyzer()
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)


def snippet(stored: dict, terms: frozenset[str]) -> Markup | None:
    """The best sentences of the first section (symptoms, summary, body) holding a term."""
    if not terms:
        return None
    for name in SECTIONS:
        text = stored.get(name) or ""
        if text:
            found = _best(text, terms)
            if found is not None:
                return found
    return None


def _best(text: str, terms: frozenset[str]) -> Markup | None:
    # A sentence is analysed only when it holds the start of a term as plain text (a stem
    # less its last letter: "connect" in "connection", "happi" -> "happ" in "happy"), found
    # by one regular expression over the section, so a long body is not stemmed sentence
    # by sentence for every query.
    sentences, folded, starts = _sections(text)
    holding = sorted({bisect_right(starts, m.start()) - 1 for m in _probe(terms).finditer(folded)})
    scored = []
    for index in holding:
        sentence = sentences[index]
        marks = [(a, b) for a, b, term in _tokens(sentence) if term in terms]
        if marks:
            distinct = len({sentence[a:b].lower() for a, b in marks})
            scored.append((-distinct, index, sentence, marks))
    if not scored:
        return None
    chosen = sorted(sorted(scored)[:2], key=lambda row: row[1])
    parts: list[Markup] = []
    budget = MAX_CHARS
    for _, _, sentence, marks in chosen:
        if budget <= 40 and parts:
            break
        parts.append(_render(sentence, marks, budget))
        budget -= min(len(sentence), budget)
    return Markup(" … ").join(parts)


@lru_cache(maxsize=256)
def _probe(terms: frozenset[str]) -> re.Pattern:
    return re.compile("|".join(re.escape(t[: max(2, len(t) - 1)]) for t in sorted(terms)))


@lru_cache(maxsize=ANALYSED_SECTIONS)
def _sections(text: str) -> tuple[tuple[str, ...], str, list[int]]:
    """A section's sentences; their letters as the analyser sees them (lowercase, accents
    folded, no apostrophes), one line each; and where each sentence's line starts."""
    sentences = [m.group(0).strip() for m in _SENTENCE.finditer(text)]
    sentences = [sentence for sentence in sentences if sentence]
    lines = [_fold(sentence) for sentence in sentences]
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    return tuple(sentences), "\n".join(lines), starts


def _fold(sentence: str) -> str:
    return sentence.lower().translate(accent_map).replace("'", "").replace("\u2019", "")


@lru_cache(maxsize=ANALYSED_SENTENCES)
def _tokens(sentence: str) -> tuple[tuple[int, int, str], ...]:
    """A sentence's words: positions and index terms."""
    tokens = _analyzer(sentence, chars=True, mode="query")
    return tuple((t.startchar, t.endchar, t.text) for t in tokens)


def _render(sentence: str, marks: list[tuple[int, int]], budget: int) -> Markup:
    """The sentence from its start (or from a word before its first mark when too long)."""
    start, end = 0, len(sentence)
    if end > budget:
        first = marks[0][0]
        if first > budget - 40:  # the first mark would fall off: start a few words before
            cut = sentence.rfind(" ", 0, max(0, first - 30))
            start = cut + 1 if cut >= 0 else 0
        end = start + budget
        if end < len(sentence):
            space = sentence.rfind(" ", start, end)
            end = space if space > start else end
    out: list[str] = ["… " if start else ""]
    pos = start
    for a, b in marks:
        if a < pos or b > end:
            continue
        out.append(str(escape(sentence[pos:a])))
        out.append(f'<mark class="hl">{escape(sentence[a:b])}</mark>')
        pos = b
    out.append(str(escape(sentence[pos:end])))
    if end < len(sentence):
        out.append(" …")
    return Markup("".join(out))  # noqa: S704 (every piece of text above went through escape)
