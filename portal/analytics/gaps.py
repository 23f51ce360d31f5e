"""Knowledge gaps: what people searched for and did not find, one row per need.

A search failed when it found nothing, when the reader voted "did not help" on the article it
led to, or when an incident followed in the same session. The database counts per normalised
query; Python then groups the variants of one need ("vpn not connecting", "vpn wont connect",
"cant connect vpn"), which needs the search analyzer and cannot be done in SQL:

1. The key of a query is the set of its stemmed terms (the search index's own analyzer, so
   "connecting" and "connection" meet on "connect"), with admin synonym groups folded into one
   term ("remote access" and "vpn" alike), and filler removed: negations and words every
   complaint carries (not, cant, wont, working, fails, error, help, my...). Word order and
   those words do not change the need; "vpn slow" keeps "slow" and stays apart.
2. Queries with the same key are one gap.
3. A gap whose key is a strict subset of exactly one other gap's key joins it ("printer" joins
   "printer offline"); when several gaps contain it ("vpn" in "vpn connect" and "vpn slow"),
   it stays on its own rather than be guessed into one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import and_, desc, func, or_, select

from portal import search
from portal.analytics.models import SearchEvent
from portal.analytics.reports import (
    Column,
    Period,
    Table,
    between,
    count_if,
    id_list,
    parse_ids,
)
from portal.extensions import db
from portal.incidents import tried
from portal.incidents.models import Incident
from portal.search.query import analyze

CANDIDATES = 10_000  # distinct failed queries read per page, the most failed first
SHOWN_INCIDENTS = 5
DRAFT_QUERIES = 20  # the article editor takes at most this many

FILLER_WORDS = """
    not no never cannot can cant can't will wont won't do does did dont don't doesnt doesn't
    didnt didn't isnt isn't arent aren't wasnt wasn't couldnt couldn't wouldnt wouldn't unable
    work works working worked fail fails failing failed failure broken problem problems issue
    issues error errors help please how why what where when i im i'm my me keep keeps still
    anymore again suddenly just get gets getting got show shows showing
""".split()

DEFINITION = (
    "Searches in the range that found nothing, led to an article voted “did not help”, or "
    "belong to an incident raised after them in the same session (the last few before it "
    "that share its words or meaning; the session's other searches are not credited to it). "
    "A search voted “helped” is no gap, nor is one that says nothing (*, AND, a run of one "
    "letter). Variants of one need are one row: "
    "same stemmed words once negations and filler (not, cant, wont, working, error...) are "
    "set aside and synonyms folded; a query whose words all appear in exactly one other row "
    "joins it."
)


@lru_cache(maxsize=1)
def filler_terms() -> frozenset[str]:
    """The filler words as the analyzer stems them."""
    return frozenset(term for word in FILLER_WORDS for term in analyze(word))


def group_key(text: str, synonyms: Sequence[Sequence[str]] = ()) -> frozenset[str]:
    """The terms that say what a query is about, in any order."""
    return _group_key(text, tuple(tuple(members) for members in synonyms))


@lru_cache(maxsize=1024)
def _terms(text: str) -> frozenset[str]:
    return frozenset(analyze(text))


@lru_cache(maxsize=65536)
def _group_key(text: str, synonyms: tuple[tuple[str, ...], ...]) -> frozenset[str]:
    terms = set(analyze(text))
    for members in synonyms:
        hit = False
        for member in members:
            member_terms = _terms(member)
            if member_terms and member_terms <= terms:
                terms -= member_terms
                hit = True
        if hit:
            terms.add("=" + " ".join(analyze(members[0])))
    key = terms - filler_terms()
    if key:
        return frozenset(key)
    return frozenset(terms) or frozenset({" ".join(text.lower().split())})


@dataclass
class QueryStats:
    """One normalised query's searches in the range."""

    text: str
    searches: int
    no_result: int
    not_helped: int
    failed: int
    incident_ids: set[int] = field(default_factory=set)


@dataclass
class Gap:
    """One need: the query variants people typed for it and how often they failed."""

    key: frozenset[str]
    variants: dict[str, int] = field(default_factory=dict)  # text -> searches
    searches: int = 0
    no_result: int = 0
    not_helped: int = 0
    failed: int = 0
    incident_ids: set[int] = field(default_factory=set)
    incidents: list[tuple[str, str]] = field(default_factory=list)  # (ref, title), shown ones

    def add(self, stats: QueryStats) -> None:
        self.variants[stats.text] = self.variants.get(stats.text, 0) + stats.searches
        self.searches += stats.searches
        self.no_result += stats.no_result
        self.not_helped += stats.not_helped
        self.failed += stats.failed
        self.incident_ids |= stats.incident_ids

    def absorb(self, other: Gap) -> None:
        for text, n in other.variants.items():
            self.variants[text] = self.variants.get(text, 0) + n
        self.searches += other.searches
        self.no_result += other.no_result
        self.not_helped += other.not_helped
        self.failed += other.failed
        self.incident_ids |= other.incident_ids

    @property
    def queries(self) -> list[str]:
        """The variants, most searched first."""
        return sorted(self.variants, key=lambda t: (-self.variants[t], len(t), t))

    @property
    def title(self) -> str:
        """The most common variant."""
        return self.queries[0]

    @property
    def rank(self) -> tuple:
        return (-self.failed, -len(self.incident_ids), -self.searches, self.title)


def group(stats: Iterable[QueryStats], synonyms: Sequence[Sequence[str]] = ()) -> list[Gap]:
    """Group query statistics into gaps, the most failed first."""
    frozen = tuple(tuple(members) for members in synonyms)
    by_key: dict[frozenset[str], Gap] = {}
    for item in stats:
        key = _group_key(item.text, frozen)
        by_key.setdefault(key, Gap(key)).add(item)
    # Largest keys first, so a chain a < a,b < a,b,c collapses into the largest.
    standing: list[Gap] = []
    postings: dict[str, list[Gap]] = defaultdict(list)
    for gap in sorted(by_key.values(), key=lambda g: (-len(g.key), sorted(g.key))):
        rarest = min(gap.key, key=lambda t: len(postings[t]))
        supersets = [g for g in postings[rarest] if gap.key < g.key]
        if len(supersets) == 1:
            supersets[0].absorb(gap)
            continue
        standing.append(gap)
        for term in gap.key:
            postings[term].append(gap)
    return sorted(standing, key=lambda g: g.rank)


def query_stats(period: Period, limit: int = CANDIDATES) -> list[QueryStats]:
    """Per normalised query with at least one failed search: the counts, from SQL."""
    failed = or_(
        SearchEvent.result_count == 0,
        SearchEvent.voted.is_(False),
        # Credited to an incident (only the searches that belong to it, events.py); a search
        # whose article was voted "helped" did its job whatever followed.
        and_(SearchEvent.incident_id.is_not(None), SearchEvent.voted.is_not(True)),
    )
    stmt = (
        select(
            SearchEvent.normalised,
            func.count(SearchEvent.id).label("searches"),
            count_if(SearchEvent.result_count == 0),
            count_if(SearchEvent.voted.is_(False)),
            count_if(failed).label("failed"),
            id_list(SearchEvent.incident_id),
        )
        .where(between(SearchEvent.created_at, period))
        .group_by(SearchEvent.normalised)
        .having(count_if(failed) > 0)
        .order_by(desc("failed"), desc("searches"), SearchEvent.normalised)
        .limit(limit)
    )
    return [
        QueryStats(text, searches, no_result, not_helped, n_failed, parse_ids(ids))
        for text, searches, no_result, not_helped, n_failed, ids in db.session.execute(stmt)
    ]


def knowledge_gaps(period: Period, limit: int = 50) -> list[Gap]:
    """The top gaps of the range, each with the incidents raised after it."""
    stats = [item for item in query_stats(period) if not tried.is_junk(item.text)]
    gaps = group(stats, search.synonyms())[:limit]
    wanted = {i for gap in gaps for i in sorted(gap.incident_ids)[-SHOWN_INCIDENTS:]}
    if wanted:
        found = {
            row.id: (row.ref, row.title)
            for row in db.session.execute(
                select(Incident.id, Incident.ref, Incident.title).where(Incident.id.in_(wanted))
            )
        }
        for gap in gaps:
            shown = sorted(gap.incident_ids)[-SHOWN_INCIDENTS:]
            gap.incidents = [found[i] for i in reversed(shown) if i in found]
    return gaps


def gaps_table(gaps: list[Gap]) -> Table:
    return Table(
        "gaps",
        "Knowledge gaps",
        [
            Column("need", "Need (most common query)"),
            Column("variants", "Queries"),
            Column("searches", "Searches", "int"),
            Column("failed", "Failed searches", "int"),
            Column("no_result", "Found nothing", "int"),
            Column("not_helped", "Did not help", "int"),
            Column("incidents", "Incidents", "int"),
            Column("refs", "Latest incidents"),
        ],
        [
            {
                "need": gap.title,
                "variants": "; ".join(gap.queries),
                "searches": gap.searches,
                "failed": gap.failed,
                "no_result": gap.no_result,
                "not_helped": gap.not_helped,
                "incidents": len(gap.incident_ids),
                "refs": " ".join(ref for ref, _ in gap.incidents),
            }
            for gap in gaps
        ],
    )
