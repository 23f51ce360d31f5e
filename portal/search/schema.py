"""The index schema and the analyzer shared by indexing and queries."""

from __future__ import annotations

from whoosh.analysis import (
    STOP_WORDS,
    CharsetFilter,
    Composable,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
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
# Positions left between sections, so a phrase never spans the end of one and the next.
SECTION_GAP = 100
# Bumped whenever the schema or the analysis changes: a node whose index was built with
# another version rebuilds it from the database on start.
SCHEMA_VERSION = "4"  # 4: the pairs field


# Whoosh hands a field's value to its analyzer only when it is a string (a list would be
# taken as ready-made tokens), so the sections travel in one string between these marks.
_SECTION = "\x1e"
_WEIGHT = "\x1f"


def pack_sections(sections: list[tuple[str, float]]) -> str:
    """One string holding (text, weight) sections, for the weighted field."""
    clean = (
        (text.replace(_SECTION, " ").replace(_WEIGHT, " "), weight) for text, weight in sections
    )
    return "".join(f"{_SECTION}{weight:g}{_WEIGHT}{text}" for text, weight in clean if text)


def unpack_sections(value: str) -> list[tuple[str, float]]:
    """The (text, weight) sections of a packed string; plain text is one section of 1."""
    if not value.startswith(_SECTION):
        return [(value, 1.0)]
    sections = []
    for part in value.split(_SECTION)[1:]:
        weight, _, text = part.partition(_WEIGHT)
        sections.append((text, float(weight)))
    return sections


class WeightedSections(Composable):
    """Index one field from (text, weight) sections: each word's weight in the posting is
    the sum of the weights of the sections it appears in, so one posting list per word
    carries title, symptoms, summary, tags, category and body with their boosts (BM25F)
    instead of six lists to walk and score per word of a query."""

    def __init__(self) -> None:
        self.inner = text_analyzer()

    def __call__(self, value, positions=False, start_pos=0, **kwargs):
        pos = start_pos
        for text, weight in unpack_sections(value):
            last = pos
            for token in self.inner(text, positions=positions, start_pos=pos, **kwargs):
                token.boost = weight
                if positions:
                    last = token.pos
                yield token
            pos = last + SECTION_GAP


class WordPairs(Composable):
    """Each two neighbouring words of a section as one term ("desk phone"), for the pairs
    field: a two-word phrase is then one short posting list, where whoosh's phrase query
    walks every position of both words in Python (57 ms for two common words at 10,000
    articles). Neighbours as a phrase query sees them: stop words dropped and positions
    renumbered by the same analysis, and never across two sections."""

    def __init__(self) -> None:
        self.inner = text_analyzer()

    def __call__(self, value, positions=False, start_pos=0, **kwargs):
        for text, _weight in unpack_sections(value):
            previous, previous_pos = None, -2
            # the analyzer hands out one token object again and again: keep its text
            for token in self.inner(text, positions=True, **kwargs):
                word, pos = token.text, token.pos
                if previous is not None and pos == previous_pos + 1:
                    token.text = pair(previous, word)
                    yield token
                previous, previous_pos = word, pos


def pair(first: str, second: str) -> str:
    """The pairs field's term for two neighbouring analysed words."""
    return f"{first} {second}"


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        article_id=NUMERIC(stored=True, sortable=True),  # a column: docnum -> article
        slug=ID(stored=True),
        title=STORED(),
        summary=STORED(),
        symptoms=STORED(),
        body=STORED(),
        content=TEXT(analyzer=WeightedSections()),
        category_slug=ID(stored=True, sortable=True),
        category_name=ID(stored=True),
        subcategory_slug=ID(stored=True, sortable=True),
        subcategory_name=ID(stored=True),
        visibility=ID(stored=True),
        spell=TEXT(analyzer=word_analyzer(), phrase=False),
        pairs=TEXT(analyzer=WordPairs(), phrase=False),  # the content field's value
    )
