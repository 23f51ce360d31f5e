"""The figures behind /reports/: SQL aggregates, as plain functions taking a Period.

Every number is counted by the database (GROUP BY, COUNT, SUM over CASE), never by loading
rows into Python, so a page stays fast at 100,000 incidents and a million search events.
Days are UTC days. SQLite and PostgreSQL truncate dates and subtract timestamps differently;
bucket() and hours_between() are the only places that know it. Expressions holding bound
values are grouped through a subquery, because PostgreSQL compares a GROUP BY expression with
the selected one literally and two bound parameters never look alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    desc,
    exists,
    extract,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)

from portal import settings
from portal.accounts.models import STAFF_ROLES, UserRole
from portal.analytics.models import SearchEvent
from portal.articles.models import Article, Category
from portal.extensions import db
from portal.incidents.models import OPEN_STATUSES, STATUS_LABELS, Incident, IncidentArticle

GRAINS = ("day", "week", "month")
DEFAULT_DAYS = 30
MAX_DAYS = 3660  # ten years of months is still a readable chart
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
TOP = 20
UNCATEGORISED = "(no category yet)"


# -- the date range --------------------------------------------------------------------


class PeriodError(ValueError):
    """A date range that cannot be reported on, with a message fit for the person who asked."""


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both included, as UTC days."""

    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, UTC)

    @property
    def end_at(self) -> datetime:
        """The first instant after the range (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def grain(self) -> str:
        """Days up to two months, ISO weeks up to a year, months beyond."""
        if self.days <= 62:
            return "day"
        return "week" if self.days <= 366 else "month"

    def buckets(self) -> list[str]:
        """Every bucket start in the range as 'YYYY-MM-DD', so empty ones show as zero."""
        if self.grain == "day":
            first, step = self.start, None
        elif self.grain == "week":
            first, step = self.start - timedelta(days=self.start.weekday()), None
        else:
            first, step = self.start.replace(day=1), "month"
        out, current = [], first
        while current <= self.end:
            out.append(current.isoformat())
            if step == "month":
                current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
            else:
                current += timedelta(days=7 if self.grain == "week" else 1)
        return out

    def label(self, bucket: str) -> str:
        """A bucket as people read it on an axis."""
        day = date.fromisoformat(bucket)
        if self.grain == "month":
            return day.strftime("%b %Y")
        if self.grain == "week":
            return "wk " + day.strftime("%d %b")
        return day.strftime("%d %b")

    def args(self) -> dict[str, str]:
        """The query string that selects this range."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def default_period(today: date) -> Period:
    """The last 30 days, today included."""
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def _parse_day(text: str, name: str) -> date:
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(
            f'"{name}" must be a date written YYYY-MM-DD, such as 2025-03-31; '
            f'"{text[:40]}" is not one.'
        ) from None
    if not EARLIEST <= value <= LATEST:
        raise PeriodError(f'"{name}" must lie between {EARLIEST} and {LATEST}.')
    return value


def parse_period(start: str | None, end: str | None, today: date) -> Period:
    """The range asked for in ?from=&to= (either may be left out), or PeriodError."""
    default = default_period(today)
    end_day = _parse_day(end, "To") if end and end.strip() else default.end
    if start and start.strip():
        start_day = _parse_day(start, "From")
    else:
        start_day = end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        raise PeriodError(f'"From" ({start_day}) comes after "To" ({end_day}); swap them.')
    period = Period(start_day, end_day)
    if period.days > MAX_DAYS:
        raise PeriodError(f"Pick a range of at most {MAX_DAYS} days.")
    return period


# -- tables: what pages show and CSV downloads write -------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    # text | int | pct (a share 0..1) | hours (shown as hours and minutes, CSV in decimal
    # hours) | link (row[key + "_url"])
    kind: str = "text"


@dataclass
class Table:
    """A report's table. `counts` names the columns that say whether a time row has anything
    in it: on the page, runs of rows where all are zero read as one line (CSV keeps them all,
    a spreadsheet wants every day)."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: tuple[str, ...] = ()
    empty_text: str = "nothing"

    def shown_rows(self) -> list[dict[str, Any]]:
        """The rows for the page: each run of empty time rows collapsed into one line."""
        if not self.counts:
            return self.rows
        return collapse_empty(self.rows, self.counts, self.empty_text)


def collapse_empty(
    rows: list[dict[str, Any]], counts: tuple[str, ...], empty_text: str = "nothing"
) -> list[dict[str, Any]]:
    """Rows of a time series with each run of all-zero rows made one row holding `gap`:
    "01 Nov – 09 Nov (9 days): nothing". A single empty row stays as it is."""
    out: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            first, last = run[0], run[-1]
            span = f"{first.get('label', first['bucket'])} – {last.get('label', last['bucket'])}"
            out.append(
                {
                    "bucket": first["bucket"],
                    "gap": f"{span} ({len(run)} {_unit(first, len(run))}): {empty_text}",
                }
            )
        run.clear()

    for row in rows:
        if all(not row.get(key) for key in counts):
            run.append(row)
        else:
            flush()
            out.append(row)
    flush()
    return out


def _unit(row: dict[str, Any], n: int) -> str:
    label = str(row.get("label", ""))
    unit = "month" if len(label) == 8 and label[3] == " " and label[4:].isdigit() else "day"
    if label.startswith("wk "):
        unit = "week"
    return unit if n == 1 else unit + "s"


def hours_minutes(hours: float | None) -> str:
    """A duration in hours as people say it: "45 min", "3 h 25 min", "26 h"; "–" for none.

    The one way report pages, charts and figures write a time, so they always agree."""
    if hours is None:
        return "–"
    minutes = round(float(hours) * 60)
    h, m = divmod(minutes, 60)
    if h == 0:
        return f"{m} min"
    return f"{h} h" if m == 0 else f"{h} h {m:02d} min"


def rate(part: int | None, whole: int | None) -> float | None:
    """part / whole, or None when there is nothing to divide."""
    return (part or 0) / whole if whole else None


# -- SQL helpers that differ between SQLite and PostgreSQL -------------------------------


def dialect() -> str:
    return db.session.get_bind().dialect.name


def _sql(constant: str):
    """One of our own constants as an SQL string literal (never user input)."""
    return literal_column(f"'{constant}'", String)


def bucket(column, grain: str):
    """The start of the day, ISO week (from Monday) or month holding a UTC timestamp.

    SQLite: text 'YYYY-MM-DD'. PostgreSQL: a timestamp, which it groups by hashing, three
    times faster than grouping the same value as text. bucket_key() reads either.
    """
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}")
    if dialect() == "postgresql":
        return func.date_trunc(_sql(grain), func.timezone(_sql("UTC"), column))
    if grain == "day":
        return func.date(column, type_=String)
    if grain == "week":  # to the next Sunday (or stay), then back six days: Monday
        return func.date(column, _sql("weekday 0"), _sql("-6 days"), type_=String)
    return func.strftime(_sql("%Y-%m-01"), column, type_=String)


def bucket_key(value: Any) -> str:
    """A value of bucket() as 'YYYY-MM-DD'."""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value)[:10]


def id_list(column):
    """The non-null values of an integer column in each group, as text 'a,b,a' (repeats
    kept: without DISTINCT, PostgreSQL can still group by hashing; parse_ids makes a set)."""
    if dialect() == "postgresql":
        return func.string_agg(cast(column, String), _sql(","))
    return func.group_concat(column)


def parse_ids(text: str | None) -> set[int]:
    return {int(part) for part in (text or "").split(",") if part}


def hours_between(start, end):
    """Wall-clock hours from `start` to `end`, as a float."""
    if dialect() == "postgresql":
        return extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def unindexed(column):
    """`column` as an expression, for GROUP BY on SQLite.

    Given a bare indexed column (priority, category), SQLite walks that index to get rows in
    group order, one random table lookup per row: three to four times slower than scanning
    the table and sorting. An expression cannot use the index. PostgreSQL plans well alone.
    """
    if dialect() != "sqlite":
        return column
    if isinstance(column.type, Integer):
        return column + literal_column("0")
    return column.op("||")(literal_column("''"))


def between(column, period: Period):
    return and_(column >= period.start_at, column < period.end_at)


def count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _series(period: Period, rows: Iterable, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows keyed by bucket, one per bucket of the range, zeros where nothing happened."""
    found = {bucket_key(row[0]): row[1:] for row in rows}
    out = []
    for b in period.buckets():
        values = found.get(b, (0,) * len(keys))
        out.append({"bucket": b, "label": period.label(b), **dict(zip(keys, values, strict=True))})
    return out


# -- self-service ----------------------------------------------------------------------

SELF_SERVICE_DEFINITION = (
    "A search session is one browser session's searches on one UTC day, on the search page, "
    "by an employee or an anonymous visitor (staff searches and the API are left out). It "
    "ended in an incident when a search that belongs to an incident raised in that session "
    "was made in it (the last few before raising that share its words or meaning). It counts "
    "as self-served only on a positive signal, and no incident: an article voted “helped”, "
    "or an article read after the session's last search (no further search followed). A "
    "session that just stops, or whose article was voted “did not help”, is neither: nobody "
    "knows it was solved. A mail to the desk counts as a session of its own (searched like a "
    'query): self-served when its sender answered "This solved it" to the articles offered. '
    "Self-service rate = self-served sessions ÷ all sessions."
)


def _staff_ids():
    return select(UserRole.user_id).where(UserRole.role.in_(STAFF_ROLES))


def self_service(period: Period) -> dict[str, Any]:
    """Search sessions, those self-served on a positive signal and those that ended in an
    incident, per bucket and in total."""
    day = bucket(SearchEvent.created_at, "day").label("day")
    keys = [day] if period.grain == "day" else [bucket(SearchEvent.created_at, period.grain), day]
    read = and_(SearchEvent.opened_article_id.is_not(None), SearchEvent.voted.is_not(False))
    sessions = (
        select(
            keys[0].label("b"),
            func.max(case((SearchEvent.incident_id.is_not(None), 1), else_=0)).label("escalated"),
            func.max(case((SearchEvent.voted.is_(True), 1), else_=0)).label("helped"),
            func.max(SearchEvent.created_at).label("last_at"),
            func.max(case((read, SearchEvent.created_at), else_=None)).label("last_read_at"),
            func.max(case((SearchEvent.source == "mail", 1), else_=0)).label("mail"),
        )
        .where(
            between(SearchEvent.created_at, period),
            SearchEvent.source.in_(("page", "mail")),
            or_(SearchEvent.user_id.is_(None), SearchEvent.user_id.not_in(_staff_ids())),
        )
        .group_by(*keys, SearchEvent.session_key)
        .subquery()
    )
    c = sessions.c
    served = and_(c.escalated == 0, or_(c.helped == 1, c.last_read_at == c.last_at))
    stmt = (
        select(
            c.b,
            func.count(),
            func.sum(c.escalated),
            func.sum(case((served, 1), else_=0)),
            func.sum(case((and_(served, c.mail == 1), 1), else_=0)),
        )
        .group_by(c.b)
        .order_by(c.b)
    )
    series = _series(
        period, db.session.execute(stmt), ("sessions", "escalated", "self_served", "by_mail")
    )
    for row in series:
        for name in ("escalated", "self_served", "by_mail"):
            row[name] = row[name] or 0
        row["unknown"] = row["sessions"] - row["escalated"] - row["self_served"]
        row["rate"] = rate(row["self_served"], row["sessions"])
    total = {
        name: sum(r[name] for r in series)
        for name in ("sessions", "escalated", "self_served", "unknown", "by_mail")
    }
    total["rate"] = rate(total["self_served"], total["sessions"])
    return {"series": series, "total": total}


def self_service_table(data: dict[str, Any]) -> Table:
    return Table(
        "self-service",
        "Self-service rate over time",
        [
            Column("bucket", "From"),
            Column("sessions", "Search sessions", "int"),
            Column("self_served", "Self-served (helped vote or article read last)", "int"),
            Column("escalated", "Ended in an incident", "int"),
            Column("unknown", "No signal either way", "int"),
            Column("by_mail", "Solved by an article offered by mail", "int"),
            Column("rate", "Self-service rate", "pct"),
        ],
        data["series"],
        counts=("sessions", "by_mail"),
        empty_text="no search sessions",
    )


# -- searches --------------------------------------------------------------------------


def search_totals(period: Period) -> dict[str, Any]:
    """All searches (pages and API) in the range, and how many found nothing."""
    row = db.session.execute(
        select(
            func.count(SearchEvent.id),
            count_if(SearchEvent.result_count == 0),
            count_if(SearchEvent.voted.is_(False)),
        ).where(between(SearchEvent.created_at, period))
    ).one()
    searches, no_result, not_helped = row
    return {
        "searches": searches,
        "no_result": no_result,
        "no_result_rate": rate(no_result, searches),
        "not_helped": not_helped,
    }


def top_searches(period: Period, limit: int = TOP) -> Table:
    """The most frequent queries (normalised: spacing collapsed, lowercased)."""
    searches = func.count(SearchEvent.id).label("searches")
    stmt = (
        select(
            SearchEvent.normalised,
            searches,
            count_if(SearchEvent.result_count == 0).label("no_result"),
            count_if(SearchEvent.opened_article_id.is_not(None)).label("opened"),
            count_if(SearchEvent.incident_id.is_not(None)).label("escalated"),
        )
        .where(between(SearchEvent.created_at, period))
        .group_by(SearchEvent.normalised)
        .order_by(desc("searches"), SearchEvent.normalised)
        .limit(limit)
    )
    rows = [
        {
            "query": r.normalised,
            "searches": r.searches,
            "no_result": r.no_result,
            "opened": r.opened,
            "opened_rate": rate(r.opened, r.searches),
            "escalated": r.escalated,
        }
        for r in db.session.execute(stmt)
    ]
    return Table(
        "top",
        "Top searches",
        [
            Column("query", "Query"),
            Column("searches", "Searches", "int"),
            Column("no_result", "Found nothing", "int"),
            Column("opened", "Opened an article", "int"),
            Column("opened_rate", "Opened share", "pct"),
            Column("escalated", "Followed by an incident", "int"),
        ],
        rows,
    )


def top_no_result(period: Period, limit: int = TOP) -> Table:
    """The most frequent queries that found nothing."""
    searches = func.count(SearchEvent.id).label("searches")
    stmt = (
        select(
            SearchEvent.normalised,
            searches,
            func.count(func.distinct(SearchEvent.session_key)).label("sessions"),
            func.max(SearchEvent.created_at).label("last"),
        )
        .where(between(SearchEvent.created_at, period), SearchEvent.result_count == 0)
        .group_by(SearchEvent.normalised)
        .order_by(desc("searches"), SearchEvent.normalised)
        .limit(limit)
    )
    rows = [
        {
            "query": r.normalised,
            "searches": r.searches,
            "sessions": r.sessions,
            "last": str(r.last)[:16],
        }
        for r in db.session.execute(stmt)
    ]
    return Table(
        "no-result",
        "Top searches that found nothing",
        [
            Column("query", "Query"),
            Column("searches", "Searches", "int"),
            Column("sessions", "Sessions", "int"),
            Column("last", "Last searched (UTC)"),
        ],
        rows,
    )


# -- incidents by category -------------------------------------------------------------


def _category_names() -> dict[int, str]:
    return dict(db.session.execute(select(Category.id, Category.name)).all())


def incidents_raised(period: Period) -> int:
    return db.session.scalar(
        select(func.count(Incident.id)).where(between(Incident.created_at, period))
    )


def incidents_by_category(period: Period) -> Table:
    """Incidents raised in the range per category and subcategory, most first."""
    category, subcategory = unindexed(Incident.category_id), unindexed(Incident.subcategory_id)
    stmt = (
        select(category, subcategory, func.count(Incident.id))
        .where(between(Incident.created_at, period))
        .group_by(category, subcategory)
    )
    names = _category_names()
    counts = list(db.session.execute(stmt))
    total = sum(n for *_, n in counts)
    per_category: dict[str, int] = {}
    for cat, _sub, n in counts:
        key = names.get(cat, UNCATEGORISED)
        per_category[key] = per_category.get(key, 0) + n
    rows = [
        {
            "category": names.get(cat, UNCATEGORISED),
            "subcategory": names.get(sub, ""),
            "incidents": n,
            "share": rate(n, total),
            "category_incidents": per_category[names.get(cat, UNCATEGORISED)],
        }
        for cat, sub, n in counts
    ]
    rows.sort(
        key=lambda r: (
            -r["category_incidents"],
            r["category"] == UNCATEGORISED,
            r["category"],
            -r["incidents"],
            r["subcategory"],
        )
    )
    return Table(
        "by-category",
        "Incidents by category and subcategory",
        [
            Column("category", "Category"),
            Column("subcategory", "Subcategory"),
            Column("incidents", "Incidents", "int"),
            Column("share", "Share of all", "pct"),
            Column("category_incidents", "Category total", "int"),
        ],
        rows,
    )


def categories_over_time(period: Period) -> Table:
    """Incidents raised per bucket and category (long format: one row per pair)."""
    inner = (
        select(
            bucket(Incident.created_at, period.grain).label("b"),
            unindexed(Incident.category_id).label("category_id"),
        )
        .where(between(Incident.created_at, period))
        .subquery()
    )
    stmt = (
        select(inner.c.b, inner.c.category_id, func.count())
        .group_by(inner.c.b, inner.c.category_id)
        .order_by(inner.c.b)
    )
    names = _category_names()
    rows = [
        {
            "bucket": bucket_key(b),
            "label": period.label(bucket_key(b)),
            "category": names.get(cat, UNCATEGORISED),
            "incidents": n,
        }
        for b, cat, n in db.session.execute(stmt)
    ]
    return Table(
        "over-time",
        "Incidents by category over time",
        [
            Column("bucket", "From"),
            Column("category", "Category"),
            Column("incidents", "Incidents", "int"),
        ],
        rows,
    )


# -- SLA -------------------------------------------------------------------------------

SLA_DEFINITION = (
    "Incidents raised in the range. First response met: the service desk first answered "
    "(a public reply or starting work) by the time the priority's policy allows; resolution "
    "met: resolved by its due time. Due times count business hours only and stand still "
    "while the incident waits on the requester; they follow the policy, business hours and "
    "holidays in force when the incident was raised or re-prioritised, not later edits. "
    "Missed: done late, or not done and already past due. Pending: not done and not yet due "
    "(or paused). Compliance = met ÷ (met + missed)."
)


def _clock(done, due, now: datetime):
    met = and_(done.is_not(None), due.is_not(None), done <= due)
    missed = or_(
        and_(done.is_not(None), due.is_not(None), done > due),
        and_(done.is_(None), due.is_not(None), due < now),
    )
    return count_if(met), count_if(missed)


def sla_compliance(period: Period, now: datetime) -> Table:
    """Per priority: first responses and resolutions met, missed and pending."""
    priority = unindexed(Incident.priority)
    stmt = (
        select(
            priority,
            func.count(Incident.id),
            *_clock(Incident.first_response_at, Incident.response_due_at, now),
            *_clock(Incident.resolved_at, Incident.resolution_due_at, now),
        )
        .where(between(Incident.created_at, period))
        .group_by(priority)
    )
    found = {row[0]: row[1:] for row in db.session.execute(stmt)}
    priorities = sorted(set(settings.policies()) | set(found))
    rows = [_sla_row(p, found.get(p, (0, 0, 0, 0, 0))) for p in priorities]
    sums = tuple(sum(found[p][i] for p in found) for i in range(5))
    rows.append(_sla_row("All", sums))
    return Table(
        "sla",
        "SLA compliance per priority",
        [
            Column("priority", "Priority"),
            Column("incidents", "Incidents", "int"),
            Column("response_met", "Response met", "int"),
            Column("response_missed", "Response missed", "int"),
            Column("response_pending", "Response pending", "int"),
            Column("response_rate", "Response compliance", "pct"),
            Column("resolution_met", "Resolution met", "int"),
            Column("resolution_missed", "Resolution missed", "int"),
            Column("resolution_pending", "Resolution pending", "int"),
            Column("resolution_rate", "Resolution compliance", "pct"),
        ],
        rows,
    )


def _sla_row(priority: str, values: tuple) -> dict[str, Any]:
    total, r_met, r_missed, s_met, s_missed = values
    return {
        "priority": priority,
        "incidents": total,
        "response_met": r_met,
        "response_missed": r_missed,
        "response_pending": total - r_met - r_missed,
        "response_rate": rate(r_met, r_met + r_missed),
        "resolution_met": s_met,
        "resolution_missed": s_missed,
        "resolution_pending": total - s_met - s_missed,
        "resolution_rate": rate(s_met, s_met + s_missed),
    }


# -- time to resolve -------------------------------------------------------------------

RESOLVE_DEFINITION = (
    "Incidents resolved in the range; time to resolve = from the moment it was raised to the "
    "moment it was resolved, on the clock (nights, weekends and waits included), in hours and "
    "minutes. Median: the middle value (the mean of the two middle values for an even count), "
    "computed by the database."
)


def _resolve_stats(period: Period) -> tuple[dict[str, tuple], tuple]:
    """(count, mean, median) of hours to resolve per priority, and for all, in one scan.

    PostgreSQL: percentile_cont(0.5) WITHIN GROUP, per priority and overall through
    GROUPING SETS. SQLite has no percentile function: window functions rank the hours within
    the priority and overall, and the median is the mean of the middle one or two rows, still
    computed by the database.
    """
    hours = hours_between(Incident.created_at, Incident.resolved_at).cast(Float)
    resolved = between(Incident.resolved_at, period)
    if dialect() == "postgresql":
        stmt = (
            select(
                Incident.priority,
                func.grouping(Incident.priority),
                func.count(),
                func.avg(hours),
                func.percentile_cont(0.5).within_group(hours),
            )
            .where(resolved)
            .group_by(func.grouping_sets(tuple_(Incident.priority), tuple_()))
        )
        per, everything = {}, (0, None, None)
        for priority, is_total, n, mean, median in db.session.execute(stmt):
            if is_total:
                everything = (n, mean, median)
            else:
                per[priority] = (n, mean, median)
        return per, everything
    base = (
        select(unindexed(Incident.priority).label("priority"), hours.label("hours"))
        .where(resolved)
        .subquery()
    )
    order = {"order_by": base.c.hours}
    ranked = select(
        base.c.priority,
        base.c.hours,
        func.row_number().over(partition_by=base.c.priority, **order).label("rn"),
        func.count().over(partition_by=base.c.priority).label("n"),
        func.row_number().over(**order).label("rn_all"),
        func.count().over().label("n_all"),
    ).subquery()

    def middle(rn, n):
        return or_(rn == (n + 1) // 2, rn == (n + 2) // 2)

    all_middle = middle(ranked.c.rn_all, ranked.c.n_all)
    stmt = select(
        ranked.c.priority,
        func.count(),
        func.avg(ranked.c.hours),
        func.avg(case((middle(ranked.c.rn, ranked.c.n), ranked.c.hours))),
        func.sum(case((all_middle, ranked.c.hours), else_=0.0)),
        func.sum(case((all_middle, 1), else_=0)),
    ).group_by(ranked.c.priority)
    per, n_all, total, middle_sum, middle_n = {}, 0, 0.0, 0.0, 0
    for priority, n, mean, median, mid_sum, mid_n in db.session.execute(stmt):
        per[priority] = (n, mean, median)
        n_all, total = n_all + n, total + mean * n
        middle_sum, middle_n = middle_sum + mid_sum, middle_n + mid_n
    everything = (
        n_all,
        total / n_all if n_all else None,
        middle_sum / middle_n if middle_n else None,
    )
    return per, everything


def time_to_resolve(period: Period) -> Table:
    """Count, mean and median hours to resolve, per priority and for all."""
    per, everything = _resolve_stats(period)
    priorities = sorted(set(settings.policies()) | set(per))

    def row(priority: str, values: tuple) -> dict[str, Any]:
        n, mean, median = values
        return {
            "priority": priority,
            "resolved": n,
            "mean_hours": _hours(mean),
            "median_hours": _hours(median),
        }

    rows = [row(p, per.get(p, (0, None, None))) for p in priorities]
    rows.append(row("All", everything))
    return Table(
        "time-to-resolve",
        "Time to resolve per priority",
        [
            Column("priority", "Priority"),
            Column("resolved", "Resolved", "int"),
            Column("mean_hours", "Mean time", "hours"),
            Column("median_hours", "Median time", "hours"),
        ],
        rows,
    )


def _hours(value) -> float | None:
    return None if value is None else round(float(value), 4)


# -- backlog ---------------------------------------------------------------------------

AGES = (
    ("under_1d", "Under 1 day", timedelta(days=1)),
    ("d1_3", "1–3 days", timedelta(days=3)),
    ("d3_7", "3–7 days", timedelta(days=7)),
    ("d7_30", "7–30 days", timedelta(days=30)),
    ("over_30d", "Over 30 days", None),
)
BACKLOG_DEFINITION = (
    "Incidents open now (New, In progress, Waiting on requester, Reopened), by status and by "
    "age = time since they were raised. A snapshot: the date range does not apply."
)


def backlog(now: datetime) -> Table:
    """Open incidents by status and age bucket, as of `now`."""
    age = case(
        *[(Incident.created_at >= now - span, i) for i, (_, _, span) in enumerate(AGES) if span],
        else_=len(AGES) - 1,
    )
    inner = (
        select(Incident.status, age.label("age"))
        .where(Incident.status.in_(OPEN_STATUSES))
        .subquery()
    )
    stmt = select(inner.c.status, inner.c.age, func.count()).group_by(inner.c.status, inner.c.age)
    counts = {(status, int(a)): n for status, a, n in db.session.execute(stmt)}
    rows = []
    for status in OPEN_STATUSES:
        row: dict[str, Any] = {"status": STATUS_LABELS[status]}
        for i, (key, _, _) in enumerate(AGES):
            row[key] = counts.get((status, i), 0)
        row["total"] = sum(row[key] for key, _, _ in AGES)
        rows.append(row)
    all_row: dict[str, Any] = {"status": "All open"}
    for key, _, _ in AGES:
        all_row[key] = sum(r[key] for r in rows)
    all_row["total"] = sum(r["total"] for r in rows)
    rows.append(all_row)
    return Table(
        "backlog",
        "Backlog by status and age",
        [
            Column("status", "Status"),
            *[Column(key, label, "int") for key, label, _ in AGES],
            Column("total", "Total", "int"),
        ],
        rows,
    )


# -- articles: link rate, new versus known, most reused ---------------------------------

LINK_DEFINITION = (
    "Incidents resolved in the range. Link rate = those with at least one linked article ÷ all "
    "of them. New: solved by an article created from the incident; known: linked only to "
    "articles that already existed (reused); none: no article linked."
)


def resolution_links(period: Period) -> dict[str, Any]:
    """Resolved incidents per bucket: linked to a new article, to a known one, or to none."""
    created = exists().where(
        IncidentArticle.incident_id == Incident.id, IncidentArticle.kind == "created"
    )
    used = exists().where(
        IncidentArticle.incident_id == Incident.id, IncidentArticle.kind == "used"
    )
    inner = (
        select(
            bucket(Incident.resolved_at, period.grain).label("b"),
            case((created, 1), else_=0).label("new"),
            case((and_(used, ~created), 1), else_=0).label("known"),
        )
        .where(between(Incident.resolved_at, period))
        .subquery()
    )
    stmt = (
        select(inner.c.b, func.count(), func.sum(inner.c.new), func.sum(inner.c.known))
        .group_by(inner.c.b)
        .order_by(inner.c.b)
    )
    series = _series(period, db.session.execute(stmt), ("resolved", "new", "known"))
    for row in series:
        row["new"], row["known"] = row["new"] or 0, row["known"] or 0
        row["linked"] = row["new"] + row["known"]
        row["none"] = row["resolved"] - row["linked"]
        row["link_rate"] = rate(row["linked"], row["resolved"])
    total = {k: sum(r[k] for r in series) for k in ("resolved", "new", "known", "linked", "none")}
    total["link_rate"] = rate(total["linked"], total["resolved"])
    total["new_share"] = rate(total["new"], total["linked"])
    return {"series": series, "total": total}


def resolution_links_table(data: dict[str, Any]) -> Table:
    return Table(
        "links",
        "Link rate and new versus known over time",
        [
            Column("bucket", "From"),
            Column("resolved", "Resolved", "int"),
            Column("linked", "With an article", "int"),
            Column("link_rate", "Link rate", "pct"),
            Column("new", "New article", "int"),
            Column("known", "Known article", "int"),
            Column("none", "No article", "int"),
        ],
        data["series"],
        counts=("resolved",),
        empty_text="nothing resolved",
    )


def most_reused(period: Period, limit: int = TOP) -> Table:
    """Articles linked as "used" to incidents in the range, most first."""
    reuses = func.count(IncidentArticle.id).label("reuses")
    stmt = (
        select(Article.slug, Article.title, Article.reuse_count, reuses)
        .join(IncidentArticle, IncidentArticle.article_id == Article.id)
        .where(IncidentArticle.kind == "used", between(IncidentArticle.created_at, period))
        .group_by(Article.id, Article.slug, Article.title, Article.reuse_count)
        .order_by(desc("reuses"), Article.title)
        .limit(limit)
    )
    rows = [
        {
            "article": r.title,
            "slug": r.slug,
            "reuses": r.reuses,
            "reuse_count": r.reuse_count,
        }
        for r in db.session.execute(stmt)
    ]
    return Table(
        "most-reused",
        "Articles most reused",
        [
            Column("article", "Article", "link"),
            Column("reuses", "Reused in the range", "int"),
            Column("reuse_count", "Reused in all", "int"),
        ],
        rows,
    )
