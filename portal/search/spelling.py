"""Did-you-mean that is right or silent.

A word is a typo candidate only when the library does not know it (neither the audience's
articles nor a synonym group), a general English dictionary does not know it either (the
word list of pyspellchecker, a maintained package), and it does not look like a code, a
number, a product name or an acronym ("ME21N", "SAP", "ThinkPad", "Zoom" after the first
word). One more case counts: a rare dictionary word one letter away from a word the library
uses often ("calender" for "calendar", "instal" for "install"): the dictionary lists such
variants at the very bottom of its frequencies. The correction is the library word with the
smallest edit distance, ties broken by how many articles use it; the caller offers it only
when the corrected query finds better matches than the original.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from portal.search import query as q
from portal.search.memory import give_back_freed_memory

log = logging.getLogger(__name__)

# pyspellchecker's English list counts words in subtitles; real-word variants and common
# misspellings it keeps sit below this count (calender 98, instal 50; tethering 94).
RARE = 100
# An English word this rare is still corrected when a library word used in this many
# articles is one edit away.
RARE_FIX_MIN_ARTICLES = 3

_CODE = re.compile(r"\d|_|[a-z][A-Z]|^[A-Z]{2,}$")

_lock = threading.Lock()
_english: tuple[WordList, WordList] | None = None


class WordList:
    """A sorted word list held as one string: ``word in words`` by binary search. The
    160,000 words of the English list took 29 MB of a worker as Python sets (and the
    heap their JSON left behind); this way they take about 3 MB."""

    def __init__(self, words) -> None:
        ordered = sorted(set(words))
        self._text = "\n".join(ordered)
        starts = np.zeros(len(ordered) + 1, dtype=np.int32)
        np.cumsum([len(w) + 1 for w in ordered], out=starts[1:])
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts) - 1

    def _word(self, i: int) -> str:
        return self._text[int(self._starts[i]) : int(self._starts[i + 1]) - 1]

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or "\n" in word:
            return False
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._word(mid) < word:
                lo = mid + 1
            else:
                hi = mid
        return lo < len(self) and self._word(lo) == word


def english() -> tuple[WordList, WordList]:
    """The English word list (lowercase) and its rare part; empty when the package is
    missing (then only the library's vocabulary protects a word)."""
    global _english
    if _english is None:
        with _lock:
            if _english is None:
                _english = _load()
                give_back_freed_memory()
    return _english


def _load() -> tuple[WordList, WordList]:
    try:
        from spellchecker import SpellChecker
    except ImportError:
        log.warning("pyspellchecker is not installed: did-you-mean checks the library only")
        return WordList(()), WordList(())
    counts = SpellChecker(language="en", distance=1).word_frequency.dictionary
    words = WordList(counts)
    rare = WordList(w for w, n in counts.items() if n < RARE)
    return words, rare


def looks_like_a_name(raw: str, first: bool) -> bool:
    """Codes, numbers, acronyms and product names are not typos ("ME21N", "SAP",
    "iPhone", "Okta" when it is not the first word)."""
    if _CODE.search(raw):
        return True
    return not first and raw[:1].isupper()


def candidates(
    searcher,
    parsed: q.ParsedQuery,
    synonym_groups: list[list[str]],
    visible,
    vocabulary_has: Callable,
) -> tuple[dict[str, str], set[str]]:
    """For each word that is a typo candidate, its best correction from the library; and
    which of those words are (rare) English words, whose correction must prove itself."""
    raw_words = re.findall(r"\w+(?:['\u2019]\w+)*", parsed.text)
    raw_of: dict[str, tuple[str, bool]] = {}
    for index, raw in enumerate(raw_words):
        word = raw.lower().replace("'", "").replace("\u2019", "")
        raw_of.setdefault(word, (raw, index == 0))
    synonym_words = {w for group in synonym_groups for m in group for w in q.words(m)}
    reader = searcher.reader()
    words, rare = (None, None)
    found: dict[str, str] = {}
    real_words: set[str] = set()
    for word in parsed.words:
        if len(word) < 3 or word.isdigit() or word in synonym_words:
            continue
        raw, first = raw_of.get(word, (word, True))
        if looks_like_a_name(raw, first):
            continue
        terms = q.analyze(word)
        if not terms:
            continue
        if ("spell", word) in reader and vocabulary_has(searcher, terms[0], visible):
            continue
        if words is None:
            words, rare = english()
        in_english = word in words
        if in_english and word not in rare:
            continue
        fix = _correction(
            searcher, word, visible, vocabulary_has, max_distance=1 if in_english else 2
        )
        if fix and in_english and _articles_using(searcher, fix) < RARE_FIX_MIN_ARTICLES:
            fix = None
        if fix:
            found[word] = fix
            if in_english:
                real_words.add(word)
    return found, real_words


def _correction(searcher, word: str, visible, vocabulary_has, max_distance: int) -> str | None:
    """The library word closest to ``word`` (a swap of neighbouring letters counts once),
    ties broken by how many articles use it, then alphabetically; one the audience's
    articles hold (staff-only words never become suggestions for employees). Kept per
    searcher, word, distance and audience: a repeated typo costs a dictionary look-up."""
    memo = _corrections(searcher, visible, vocabulary_has)
    key = (word, max_distance)
    if key not in memo:
        memo[key] = _closest(searcher, word, visible, vocabulary_has, max_distance)
    return memo[key]


def _corrections(searcher, visible, vocabulary_has) -> dict:
    """This searcher's corrections for one audience. The audience's mask object is cached
    per searcher, so its identity names the audience; the entry keeps a reference to it
    (its id can then never be reused by another mask while the entry lives) and is
    started afresh when another mask or check comes with the same id."""
    from portal.search import _searcher_cache  # the package imports this module

    memo = _searcher_cache(searcher)
    key = ("spell-fix", id(visible))
    entry = memo.get(key)
    if entry is None or entry[0] is not visible or entry[1] != vocabulary_has:
        entry = memo[key] = (visible, vocabulary_has, {})
    return entry[2]


def _closest(searcher, word: str, visible, vocabulary_has, max_distance: int) -> str | None:
    limit = 1 if len(word) < 5 else max_distance
    by_length = _spell_words(searcher, word[:1])
    choices = [
        candidate
        for length in range(len(word) - limit, len(word) + limit + 1)
        for candidate in by_length.get(length, ())
    ]
    options = []
    # OSA distance in C (rapidfuzz), the same figure as edit_distance below
    for candidate, distance, _ in process.extract(
        word, choices, scorer=OSA.distance, score_cutoff=limit, limit=None
    ):
        terms = q.analyze(candidate)
        if not terms:
            continue
        if terms[0] not in q.GENERIC_TERMS and not vocabulary_has(searcher, terms[0], visible):
            continue
        options.append((distance, -_articles_using(searcher, candidate), candidate))
    return min(options)[2] if options else None


def _spell_words(searcher, first: str) -> dict[int, tuple[str, ...]]:
    """The spelling field's words that start with ``first`` (a typo rarely hits the first
    letter), by length; read once per searcher, so a new index generation is seen."""
    from portal.search import _searcher_cache

    memo = _searcher_cache(searcher)
    key = ("spell-words", first)
    found = memo.get(key)
    if found is None:
        by_length: dict[int, list[str]] = {}
        for term in searcher.reader().expand_prefix("spell", first):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            by_length.setdefault(len(text), []).append(text)
        found = memo[key] = {n: tuple(words) for n, words in by_length.items()}
    return found


def _articles_using(searcher, word: str) -> int:
    return searcher.doc_frequency("spell", word)


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance in its optimal-string-alignment form (a swap of two
    neighbouring letters counts once; no substring is edited twice)."""
    return OSA.distance(a, b)
