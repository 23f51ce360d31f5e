"""Grouping failed queries into knowledge gaps: variants of one need appear once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.analytics import gaps
from portal.analytics.gaps import QueryStats, group, group_key
from portal.analytics.models import SearchEvent
from portal.analytics.reports import Period
from portal.extensions import db
from portal.search.models import SynonymGroup


def stats(text: str, searches: int = 1, incidents: set[int] | None = None) -> QueryStats:
    return QueryStats(text, searches, searches, 0, searches, incidents or set())


def titles(found) -> list[list[str]]:
    return [sorted(gap.variants) for gap in found]


def test_variants_of_one_need_share_a_key_and_other_needs_do_not():
    connect = {group_key(t) for t in ("vpn not connecting", "vpn wont connect", "cant connect vpn")}
    assert connect == {frozenset({"vpn", "connect"})}
    assert group_key("Can't connect to the VPN") in connect  # apostrophe, case, stop words
    assert group_key("VPN connection fails") in connect
    assert group_key("vpn slow") == frozenset({"vpn", "slow"})
    assert group_key("vpn keeps disconnecting") == frozenset({"vpn", "disconnect"})


def test_a_query_of_only_filler_keeps_its_words():
    assert group_key("not working") == frozenset({"not", "work"})
    assert group_key("the") == frozenset({"the"})


def test_synonyms_fold_into_one_term():
    synonyms = [["vpn", "remote access"]]
    assert group_key("remote access not connecting", synonyms) == group_key(
        "vpn wont connect", synonyms
    )
    assert group_key("remote access not connecting") != group_key("vpn wont connect")


def test_group_merges_variants_and_adds_their_counts():
    found = group(
        [
            stats("vpn not connecting", 4, {1, 2}),
            stats("vpn wont connect", 2, {2}),
            stats("cant connect vpn", 1, {3}),
            stats("vpn slow", 3),
        ]
    )
    assert titles(found) == [
        ["cant connect vpn", "vpn not connecting", "vpn wont connect"],
        ["vpn slow"],
    ]
    vpn = found[0]
    assert (vpn.title, vpn.searches, vpn.failed, vpn.incident_ids) == (
        "vpn not connecting",
        7,
        7,
        {1, 2, 3},
    )
    assert vpn.queries == ["vpn not connecting", "vpn wont connect", "cant connect vpn"]


def test_a_query_contained_in_one_need_joins_it_but_not_when_in_several():
    found = group([stats("printer"), stats("printer offline"), stats("printer jam paper")])
    assert titles(found) == [["printer"], ["printer jam paper"], ["printer offline"]]
    found = group([stats("printer"), stats("printer offline", 2)])
    assert titles(found) == [["printer", "printer offline"]]
    chain = group([stats("outlook"), stats("outlook crash"), stats("outlook crash startup")])
    assert titles(chain) == [["outlook", "outlook crash", "outlook crash startup"]]


def test_knowledge_gaps_reads_the_range_and_applies_admin_synonyms(app):
    db.session.add(SynonymGroup(terms="vpn, remote access"))
    march = datetime(2025, 3, 10, tzinfo=UTC)
    for text, results, voted in (
        ("remote access not connecting", 0, None),
        ("vpn wont connect", 0, None),
        ("vpn wont connect", 5, None),  # found something: counted in searches, not failed
        ("teams crash", 3, False),  # found an article that did not help
        ("teams crash", 3, True),
        ("printer", 4, None),  # never failed: not a gap
    ):
        db.session.add(
            SearchEvent(
                session_key="s:x",
                query=text,
                normalised=text,
                result_count=results,
                voted=voted,
                created_at=march,
            )
        )
    db.session.commit()
    found = gaps.knowledge_gaps(Period(date(2025, 3, 1), date(2025, 3, 31)))
    summary = [(g.title, g.searches, g.failed, g.no_result, g.not_helped) for g in found]
    assert summary == [
        ("vpn wont connect", 3, 2, 2, 0),
        ("teams crash", 2, 1, 0, 1),
    ]
    assert gaps.knowledge_gaps(Period(date(2025, 4, 1), date(2025, 4, 30))) == []
