"""The report figures against data placed at known times, computed by hand. These run on
SQLite and, with TEST_DATABASE_URL, on PostgreSQL: the date truncation, duration and median
helpers differ between the two."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.analytics import reports
from portal.analytics.models import SearchEvent
from portal.analytics.reports import Period, PeriodError, parse_period
from portal.extensions import db
from portal.incidents import services

MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def event(created_at, session="s:a", query="vpn", results=0, **fields) -> SearchEvent:
    row = SearchEvent(
        session_key=session,
        query=query,
        normalised=query,
        result_count=results,
        created_at=created_at,
        **fields,
    )
    db.session.add(row)
    return row


# -- the date range --------------------------------------------------------------------


def test_period_defaults_to_the_last_30_days():
    period = parse_period(None, "", date(2025, 3, 31))
    assert (period.start, period.end, period.days) == (date(2025, 3, 2), date(2025, 3, 31), 30)
    assert parse_period("", "2025-01-31", date(2025, 3, 31)).start == date(2025, 1, 2)


def test_period_picks_a_grain_and_lists_every_bucket():
    assert MARCH.grain == "day" and len(MARCH.buckets()) == 31
    quarter = Period(date(2025, 1, 1), date(2025, 3, 31))
    assert quarter.grain == "week"
    assert quarter.buckets()[:2] == ["2024-12-30", "2025-01-06"]  # weeks start on Monday
    years = Period(date(2024, 11, 15), date(2026, 2, 1))
    assert years.grain == "month"
    assert years.buckets()[0] == "2024-11-01" and years.buckets()[-1] == "2026-02-01"
    assert len(years.buckets()) == 16


@pytest.mark.parametrize("bad", ["31/03/2025", "2025-02-29", "", "x" * 500])
def test_period_refuses_what_is_not_a_date(bad):
    if not bad:
        return  # empty means "the default", not an error
    with pytest.raises(PeriodError, match="YYYY-MM-DD"):
        parse_period(bad, None, date(2025, 3, 31))


# -- self-service and the date buckets ------------------------------------------------


def test_self_service_counts_sessions_per_day_in_day_week_and_month_buckets(
    app, place_incident, agent
):
    incident = place_incident(at(3, 9))
    event(at(2, 23, 30), "s:a")  # Sunday night
    event(at(3, 0, 10), "s:a", incident_id=incident.id)  # same browser, Monday: a new session
    event(at(3, 0, 20), "s:a")
    event(at(3, 10), "s:b", results=4)
    event(at(3, 11), "s:c", source="api")  # the API is not a search session
    event(at(3, 12), "s:d", user_id=agent.id)  # nor is staff searching
    event(at(1, 0, 0) - timedelta(microseconds=1), "s:e")  # just before the range
    db.session.commit()

    data = reports.self_service(MARCH)
    by_day = {row["bucket"]: row for row in data["series"]}
    assert (by_day["2025-03-02"]["sessions"], by_day["2025-03-02"]["escalated"]) == (1, 0)
    assert (by_day["2025-03-03"]["sessions"], by_day["2025-03-03"]["escalated"]) == (2, 1)
    # No session gave a positive signal: none is self-served, whatever did not end in one.
    assert by_day["2025-03-03"]["rate"] == 0.0 and by_day["2025-03-04"]["rate"] is None
    assert data["total"] == {
        "sessions": 3,
        "escalated": 1,
        "self_served": 0,
        "unknown": 2,
        "by_mail": 0,
        "rate": 0.0,
    }

    weeks = reports.self_service(Period(date(2025, 1, 1), date(2025, 6, 30)))
    by_week = {row["bucket"]: row["sessions"] for row in weeks["series"] if row["sessions"]}
    assert by_week == {"2025-02-24": 2, "2025-03-03": 2}  # Sunday 2 March and 28 Feb
    months = reports.self_service(Period(date(2024, 1, 1), date(2025, 12, 31)))
    by_month = {row["bucket"]: row["sessions"] for row in months["series"] if row["sessions"]}
    assert by_month == {"2025-02-01": 1, "2025-03-01": 3}


def test_a_session_is_self_served_only_on_a_positive_signal(app, make_article, place_incident):
    article = make_article(title="Printer offline")
    incident = place_incident(at(4, 9))
    event(at(4, 10), "s:helped", opened_article_id=article.id, voted=True)
    event(at(4, 10), "s:read", results=3, opened_article_id=article.id)  # read, nothing after
    event(at(4, 10), "s:read-then-searched", opened_article_id=article.id)
    event(at(4, 11), "s:read-then-searched")  # searched again: the article was not the end
    event(at(4, 10), "s:did-not-help", opened_article_id=article.id, voted=False)
    event(at(4, 10), "s:stopped", results=5)  # found something and left: no signal
    event(at(4, 10), "s:incident", opened_article_id=article.id, voted=True)
    event(at(4, 11), "s:incident", incident_id=incident.id)
    event(at(4, 10), "m:1", source="mail", opened_article_id=article.id, voted=True)
    event(at(4, 10), "m:2", source="mail")  # a mail answered, no "This solved it"
    db.session.commit()

    total = reports.self_service(MARCH)["total"]
    assert total == {
        "sessions": 8,
        "self_served": 3,  # helped, read, and the mail solved by an article
        "escalated": 1,
        "unknown": 4,
        "by_mail": 1,
        "rate": 3 / 8,
    }


def test_search_reports_count_queries_and_those_that_found_nothing(app):
    for hour in range(3):
        event(at(5, hour), f"s:{hour}", "vpn slow", results=0)
    event(at(5, 4), "s:1", "printer", results=2, opened_article_id=None)
    event(at(6, 4), "s:1", "printer", results=2, voted=False)
    db.session.commit()
    assert reports.search_totals(MARCH) == {
        "searches": 5,
        "no_result": 3,
        "no_result_rate": 0.6,
        "not_helped": 1,
    }
    top = reports.top_searches(MARCH).rows
    assert [(r["query"], r["searches"], r["no_result"]) for r in top] == [
        ("vpn slow", 3, 3),
        ("printer", 2, 0),
    ]
    nothing = reports.top_no_result(MARCH).rows
    assert [(r["query"], r["searches"], r["sessions"]) for r in nothing] == [("vpn slow", 3, 3)]


# -- incidents --------------------------------------------------------------------------


def test_incidents_by_category_and_subcategory_over_time(app, make_article, place_incident):
    make_article(category="Network", subcategory="VPN")
    make_article(category="Network", subcategory="Wi-Fi")
    make_article(category="Printing", subcategory="Printers")
    for day, sub in ((3, "VPN"), (3, "VPN"), (4, "Wi-Fi")):
        place_incident(at(day), category="Network", subcategory=sub)
    place_incident(at(4), category="Printing", subcategory="Printers")
    place_incident(at(5))  # not triaged yet
    place_incident(at(5) + timedelta(days=40), category="Printing")  # outside March
    rows = reports.incidents_by_category(MARCH).rows
    assert [(r["category"], r["subcategory"], r["incidents"]) for r in rows] == [
        ("Network", "VPN", 2),
        ("Network", "Wi-Fi", 1),
        ("Printing", "Printers", 1),
        (reports.UNCATEGORISED, "", 1),
    ]
    assert rows[0]["share"] == 0.4 and rows[0]["category_incidents"] == 3
    over_time = reports.categories_over_time(MARCH).rows
    assert [(r["bucket"], r["category"], r["incidents"]) for r in over_time] == sorted(
        [
            ("2025-03-03", "Network", 2),
            ("2025-03-04", "Network", 1),
            ("2025-03-04", "Printing", 1),
            ("2025-03-05", reports.UNCATEGORISED, 1),
        ]
    )


def test_sla_compliance_per_priority(app, place_incident):
    now = at(20)
    start = at(10, 9)
    minutes = timedelta(minutes=1)
    due = {"response_due_at": start + 15 * minutes, "resolution_due_at": start + 240 * minutes}
    # met both
    place_incident(
        start,
        priority="P1",
        status="resolved",
        first_response_at=start + 10 * minutes,
        resolved_at=start + 60 * minutes,
        **due,
    )
    # missed both: answered and resolved late
    place_incident(
        start,
        priority="P1",
        status="resolved",
        first_response_at=start + 20 * minutes,
        resolved_at=start + 300 * minutes,
        **due,
    )
    # response overdue and never given; resolution not due yet
    late = {"response_due_at": now - minutes, "resolution_due_at": now + 60 * minutes}
    place_incident(start, priority="P1", **late)
    # nothing due yet
    future = {"response_due_at": now + minutes, "resolution_due_at": now + 60 * minutes}
    place_incident(start, priority="P1", **future)
    # P2: answered on time, still open, resolution overdue
    place_incident(
        start,
        priority="P2",
        status="in_progress",
        first_response_at=start + minutes,
        response_due_at=start + 60 * minutes,
        resolution_due_at=now - minutes,
    )
    rows = {r["priority"]: r for r in reports.sla_compliance(MARCH, now).rows}

    def counts(row: dict, clock: str) -> tuple[int, int, int]:
        return row[f"{clock}_met"], row[f"{clock}_missed"], row[f"{clock}_pending"]

    p1 = rows["P1"]
    assert p1["incidents"] == 4
    assert counts(p1, "response") == (1, 2, 1)
    assert counts(p1, "resolution") == (1, 1, 2)
    assert p1["response_rate"] == pytest.approx(1 / 3) and p1["resolution_rate"] == 0.5
    p2 = rows["P2"]
    assert (p2["response_rate"], p2["resolution_rate"]) == (1.0, 0.0)
    assert rows["P5"]["incidents"] == 0 and rows["P5"]["response_rate"] is None
    everything = rows["All"]
    assert everything["incidents"] == 5
    assert counts(everything, "response") == (2, 2, 1)
    assert counts(everything, "resolution") == (1, 2, 2)


def test_mean_and_median_time_to_resolve(app, place_incident):
    def resolved(priority: str, hours: float, day: int = 12) -> None:
        done = at(day, 17)
        place_incident(
            done - timedelta(hours=hours), priority=priority, status="resolved", resolved_at=done
        )

    for hours in (1, 2, 10):
        resolved("P1", hours)
    for hours in (4, 8):
        resolved("P2", hours)
    resolved("P2", 500, day=1)  # raised in February, resolved in March: counts
    place_incident(at(12), priority="P3", status="in_progress")  # not resolved: left out
    place_incident(
        at(12), priority="P3", status="resolved", resolved_at=at(12) + timedelta(days=30)
    )  # resolved in April: left out
    rows = {r["priority"]: r for r in reports.time_to_resolve(MARCH).rows}
    p1 = rows["P1"]
    assert p1["resolved"] == 3 and p1["median_hours"] == pytest.approx(2)
    assert p1["mean_hours"] == pytest.approx(13 / 3, abs=0.01)
    assert (rows["P2"]["resolved"], rows["P2"]["median_hours"]) == (3, pytest.approx(8))
    assert rows["P3"]["resolved"] == 0 and rows["P3"]["median_hours"] is None
    everything = rows["All"]
    # 1, 2, 4, 8, 10, 500: an even count, so the mean of the middle two
    assert everything["resolved"] == 6
    assert everything["median_hours"] == pytest.approx(6)
    assert everything["mean_hours"] == pytest.approx(525 / 6, abs=0.01)


def test_backlog_by_status_and_age(app, place_incident, agent):
    now = datetime.now(UTC)
    place_incident(now - timedelta(hours=2))
    place_incident(now - timedelta(days=2), status="in_progress")
    place_incident(now - timedelta(days=10), status="waiting")
    place_incident(now - timedelta(days=40))
    place_incident(now - timedelta(days=40), status="resolved", resolved_at=now)
    rows = {r["status"]: r for r in reports.backlog(now).rows}
    assert (rows["New"]["under_1d"], rows["New"]["over_30d"], rows["New"]["total"]) == (1, 1, 2)
    assert rows["In progress"]["d1_3"] == 1 and rows["Waiting on requester"]["d7_30"] == 1
    assert rows["All open"]["total"] == 4 and rows["Reopened"]["total"] == 0


def test_link_rate_new_versus_known_and_most_reused(app, place_incident, make_article, agent):
    known = make_article(title="Reset your VPN profile")
    other = make_article(title="Clear the print queue")
    written = make_article(title="Written from an incident", status="review")

    def resolved(*links) -> None:
        incident = place_incident(at(8), status="resolved", resolved_at=at(9))
        for article, kind in links:
            services.link_article(incident, article.id, agent, kind=kind)
        db.session.commit()

    resolved((known, "used"))
    resolved((known, "used"), (other, "used"))
    resolved((written, "created"))
    resolved((written, "created"), (known, "used"))  # a new article counts as new
    resolved()
    data = reports.resolution_links(MARCH)
    assert data["total"] == {
        "resolved": 5,
        "new": 2,
        "known": 2,
        "linked": 4,
        "none": 1,
        "link_rate": 0.8,
        "new_share": 0.5,
    }
    day = next(r for r in data["series"] if r["bucket"] == "2025-03-09")
    assert (day["resolved"], day["linked"], day["link_rate"]) == (5, 4, 0.8)
    assert reports.most_reused(Period(date.today(), date.today())).rows[:2] == [
        {"article": "Reset your VPN profile", "slug": known.slug, "reuses": 3, "reuse_count": 3},
        {"article": "Clear the print queue", "slug": other.slug, "reuses": 1, "reuse_count": 1},
    ]
