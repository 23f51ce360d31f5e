"""The index schema and the analyzer shared by indexing and queries."""

from __future__ import annotations

from whoosh.analysis import (
    STOP_WORDS,
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.support.charset import accent_map

# "can't", "won't" and "doesn't" are how people write, "cant" and "wont" how they type:
# keep the apostrophe inside a word, then drop it, so both meet on one term.
_WORD = r"\w+(?:['\u2019]\w+)*"


class _DropApostrophes(Filter):
    def __call__(self, tokens):
        for token in tokens:
            if "'" in token.text or "\u2019" in token.text:
                token.text = token.text.replace("'", "").replace("\u2019", "")
            yield token


# "not", "can" and "will" matter in "not working", "can't print"; keep them.
_STOP = frozenset(STOP_WORDS) - {"not", "can", "will", "when"}


def text_analyzer():
    """Words, lowercased, accents folded, stop words dropped, stemmed."""
    return (
        RegexTokenizer(_WORD)
        | LowercaseFilter()
        | _DropApostrophes()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=_STOP, minsize=2)
        | StemFilter(cachesize=50000)
    )


def word_analyzer():
    """Words as typed (lowercased, unstemmed): the vocabulary for "did you mean"."""
    return RegexTokenizer(_WORD) | LowercaseFilter() | _DropApostrophes()


# Title and symptoms weigh most: they hold the words people type.
FIELD_BOOSTS: dict[str, float] = {
    "title": 5.0,
    "symptoms": 3.0,
    "summary": 2.0,
    "tags": 2.0,
    "category": 1.0,
    "body": 1.0,
}
TEXT_FIELDS = tuple(FIELD_BOOSTS)
PHRASE_FIELDS = ("title", "symptoms", "summary", "body")


def build_schema() -> Schema:
    analyzer = text_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        article_id=NUMERIC(stored=True),
        slug=ID(stored=True),
        title=TEXT(analyzer=analyzer, stored=True),
        summary=TEXT(analyzer=analyzer, stored=True),
        symptoms=TEXT(analyzer=analyzer, stored=True),
        body=TEXT(analyzer=analyzer, stored=True),
        tags=TEXT(analyzer=analyzer, phrase=False),
        category=TEXT(analyzer=analyzer, phrase=False),
        category_slug=ID(stored=True, sortable=True),
        category_name=ID(stored=True),
        subcategory_slug=ID(stored=True, sortable=True),
        subcategory_name=ID(stored=True),
        visibility=ID(stored=True),
        spell=TEXT(analyzer=word_analyzer(), phrase=False),
    )
