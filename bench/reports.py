"""Reports benchmark: every /reports/ page at 100,000 incidents and 1,000,000 search events.

    python bench/reports.py [--incidents 100000] [--events 1000000] [--repeat 3]
                            [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                            [--out DIR] [--keep] [--seed 42]

Builds a throwaway portal database, migrated with the real Alembic scripts: SQLite in a
temporary folder (or an empty --out folder, kept), or with --database-url a new database
created on that PostgreSQL server and dropped at the end (kept with --keep). It is filled by
the driver's executemany in batches of 20,000 rows, the search events' indexes built after
the load: users and roles, the synthetic categories, 2,000 articles, N incidents over the
last 365 days (priorities, statuses, SLA due times from the real SLA clock, response and
resolution times, categories, links to articles used or created), and M search events over
the last 180 days (the retention period) in browser sessions of 1 to 6 searches, some
finding nothing, some opening an article and voting, some followed by an incident.

Then it signs in a staff user through the Flask test client and times each report page and
each chart for the default range (the last 30 days), one warm-up request first, then
--repeat requests; and each page once for the last 180 days. Prints readable figures, then
one line of JSON as the last line.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import json
import logging
import math
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import synthetic

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BATCH = 20_000
ARTICLES = 2_000
EMPLOYEES = 5_000
AGENTS = 30
STAFF_EMAIL, STAFF_PASSWORD = "bench-agent@example.com", "bench password 123"
INCIDENT_DAYS, EVENT_DAYS = 365, 180
PRIORITIES = (("P1", 0.02), ("P2", 0.08), ("P3", 0.40), ("P4", 0.35), ("P5", 0.15))
# Typical hours to first response and to resolution per priority (lognormal medians).
RESPONSE_H = {"P1": 0.15, "P2": 0.6, "P3": 2.5, "P4": 10, "P5": 24}
RESOLVE_H = {"P1": 3, "P2": 7, "P3": 30, "P4": 70, "P5": 140}


def note(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# -- building the data -------------------------------------------------------------------


def insert_tuples(table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Straight to the driver's executemany, values passed through the column types' own
    bind processors (SQLite stores timestamps as text the way SQLAlchemy reads them back;
    JSON goes as text, which PostgreSQL casts to the column's type)."""
    import sqlalchemy as sa

    from portal.extensions import db

    conn = db.session.connection()
    dialect = conn.dialect
    processors = [
        table.c[name].type.bind_processor(dialect)
        or (json.dumps if isinstance(table.c[name].type, sa.JSON) else None)
        for name in columns
    ]
    if any(processors):
        rows = [
            tuple(
                v if f is None or v is None else f(v) for f, v in zip(processors, row, strict=True)
            )
            for row in rows
        ]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    for start in range(0, len(rows), BATCH):
        conn.exec_driver_sql(sql, rows[start : start + BATCH])


def insert_rows(table, rows: list[dict]) -> None:
    """Bulk insert of dicts with the same keys, through insert_tuples."""
    if rows:
        columns = tuple(rows[0])
        insert_tuples(table, columns, [tuple(row[c] for c in columns) for row in rows])


@contextlib.contextmanager
def indexes_dropped(table_name: str):
    """Drop a table's secondary indexes for a bulk load and build them again afterwards, as
    the database read them (one sort per index instead of a million random inserts)."""
    import sqlalchemy as sa

    from portal.extensions import db

    conn = db.session.connection()
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    indexes = list(table.indexes)
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)


def build_people(now: datetime) -> tuple[list[int], list[int], int]:
    """Employees, agents and the staff user who reads the reports."""
    from werkzeug.security import generate_password_hash

    from portal.accounts.models import User, UserRole

    shared = generate_password_hash("not used by the benchmark")
    users, roles = [], []
    for n in range(1, EMPLOYEES + AGENTS + 2):
        is_agent = n > EMPLOYEES
        users.append(
            {
                "id": n,
                "email": f"user{n}@example.com",
                "name": f"{'Agent' if is_agent else 'Employee'} {n}",
                "password_hash": shared,
                "is_active_account": True,
                "created_at": now - timedelta(days=400),
            }
        )
        roles.append({"user_id": n, "role": "agent" if is_agent else "employee"})
    staff_id = EMPLOYEES + AGENTS + 1
    users[-1]["email"] = STAFF_EMAIL
    users[-1]["password_hash"] = generate_password_hash(STAFF_PASSWORD)
    roles.append({"user_id": staff_id, "role": "editor"})
    insert_rows(User.__table__, users)
    insert_rows(UserRole.__table__, roles)
    return list(range(1, EMPLOYEES + 1)), list(range(EMPLOYEES + 1, staff_id + 1)), staff_id


def build_library(rng: random.Random, now: datetime) -> tuple[list[tuple[int, int]], int]:
    """Categories from the synthetic catalogue and published articles (short bodies)."""
    from portal.articles.models import Article, Category
    from portal.articles.services import slugify

    rows, pairs = [], []
    for name, subs in synthetic.categories():
        parent_id = len(rows) + 1
        rows.append({"id": parent_id, "name": name, "slug": slugify(name), "parent_id": None})
        for sub in subs:
            rows.append(
                {
                    "id": len(rows) + 1,
                    "name": sub,
                    "slug": f"{slugify(name)}-{slugify(sub)}",
                    "parent_id": parent_id,
                }
            )
            pairs.append((parent_id, len(rows)))
    insert_rows(Category.__table__, [r | {"description": ""} for r in rows])
    queries = synthetic.queries(rng, ARTICLES)
    articles = []
    for n in range(1, ARTICLES + 1):
        title = queries[n - 1].text.replace('"', "").replace("*", "").capitalize() or "Help"
        cat, sub = rng.choice(pairs)
        articles.append(
            {
                "id": n,
                "slug": f"{slugify(title)}-{n}",
                "title": title,
                "summary": f"How to fix: {title}",
                "body_md": f"## Symptoms\n\n- {title}\n\n## Resolution\n\n1. Restart.\n",
                "body_html": f"<h2>Symptoms</h2><ul><li>{title}</li></ul>",
                "category_id": cat,
                "subcategory_id": sub,
                "visibility": "everyone",
                "status": "published",
                "owner_email": "servicedesk@example.com",
                "views": 0,
                "helpful_count": 0,
                "not_helpful_count": 0,
                "reuse_count": 0,
                "created_at": now - timedelta(days=500),
                "updated_at": now - timedelta(days=500),
                "published_at": now - timedelta(days=500),
            }
        )
    insert_rows(Article.__table__, articles)
    return pairs, len(articles)


def build_incidents(
    rng: random.Random,
    now: datetime,
    count: int,
    employees: list[int],
    agents: list[int],
    pairs: list[tuple[int, int]],
    articles: int,
) -> dict[str, list[tuple[int, datetime]]]:
    """Incidents over the last year with due times from the real SLA clock; returns the
    incidents raised on each day (for the search events that led to them)."""
    from sqlalchemy import text

    from portal import settings
    from portal.extensions import db
    from portal.incidents import sla
    from portal.incidents.models import Incident, IncidentArticle, ref_for

    calendar = settings.calendar()
    policies = {p: settings.policy(p) for p, _ in PRIORITIES}
    names, weights = zip(*PRIORITIES, strict=True)
    starts = sorted(
        now - timedelta(seconds=rng.uniform(0, INCIDENT_DAYS * 86400)) for _ in range(count)
    )
    per_day: dict[str, list[tuple[int, datetime]]] = {}
    rows, links = [], []
    zipf = list(itertools.accumulate(1 / (rank + 1) for rank in range(articles)))
    for n, created in enumerate(starts, 1):
        priority = rng.choices(names, weights)[0]
        policy = policies[priority]
        response_due = sla.due_at(created, policy.response, calendar, policy.around_the_clock)
        resolution_due = sla.due_at(created, policy.resolution, calendar, policy.around_the_clock)
        age_h = (now - created).total_seconds() / 3600
        responded = created + timedelta(
            hours=rng.lognormvariate(math.log(RESPONSE_H[priority]), 0.9)
        )
        resolved = created + timedelta(hours=rng.lognormvariate(math.log(RESOLVE_H[priority]), 1.0))
        first_response_at = responded if responded < now else None
        resolved_at = resolved if resolved < now and rng.random() > 0.02 else None
        closed_at = None
        if resolved_at is None:
            status = rng.choice(["new", "in_progress", "in_progress", "waiting", "reopened"])
            if status == "new":
                first_response_at = None
        elif resolved_at + timedelta(days=5) < now:
            status, closed_at = "closed", resolved_at + timedelta(days=5)
        else:
            status = "resolved"
        cat, sub = rng.choice(pairs) if rng.random() < 0.92 or age_h > 48 else (None, None)
        title = f"Incident {n}: something is broken"
        rows.append(
            {
                "id": n,
                "ref": ref_for(n),
                "requester_id": rng.choice(employees),
                "title": title,
                "description_md": "It stopped working this morning. No change.",
                "description_html": "<p>It stopped working this morning. No change.</p>",
                "category_id": cat,
                "subcategory_id": sub,
                "impact": "medium",
                "urgency": "medium",
                "priority": priority,
                "status": status,
                "assignee_id": rng.choice(agents) if status != "new" else None,
                "solution_md": "Restarted the service." if resolved_at else "",
                "solution_html": "<p>Restarted the service.</p>" if resolved_at else "",
                "no_article_reason": "",
                "search_context": {},
                "created_at": created,
                "updated_at": closed_at or resolved_at or created,
                "first_response_at": first_response_at,
                "resolved_at": resolved_at,
                "closed_at": closed_at,
                "response_due_at": response_due,
                "resolution_due_at": resolution_due,
                "next_due_at": None if resolved_at else resolution_due,
                "reopen_count": 0,
            }
        )
        per_day.setdefault(created.date().isoformat(), []).append((n, created))
        if resolved_at is not None:
            roll = rng.random()
            if roll < 0.55:
                article = rng.choices(range(1, articles + 1), cum_weights=zipf)[0]
                links.append((n, article, "used", resolved_at))
            elif roll < 0.65:
                links.append((n, rng.randint(1, articles), "created", resolved_at))
        if len(rows) >= BATCH:
            insert_rows(Incident.__table__, rows)
            rows = []
    insert_rows(Incident.__table__, rows)
    insert_rows(
        IncidentArticle.__table__,
        [
            {
                "incident_id": i,
                "article_id": a,
                "kind": k,
                "linked_by_id": agents[0],
                "created_at": t,
            }
            for i, a, k, t in links
        ],
    )
    db.session.execute(
        text(
            "UPDATE articles SET reuse_count = (SELECT count(*) FROM incident_articles l "
            "WHERE l.article_id = articles.id AND l.kind = 'used')"
        )
    )
    return per_day


EVENT_COLUMNS = (
    "id",
    "session_key",
    "user_id",
    "query",
    "normalised",
    "result_count",
    "source",
    "opened_article_id",
    "voted",
    "incident_id",
    "created_at",
)


def build_events(
    rng: random.Random,
    now: datetime,
    count: int,
    employees: list[int],
    agents: list[int],
    articles: int,
    incidents_per_day: dict[str, list[tuple[int, datetime]]],
) -> int:
    """Search events in sessions of 1 to 6 searches over the retention period."""
    from portal.analytics.models import SearchEvent

    pool = [q.text for q in synthetic.queries(rng, 20_000)]
    texts = [(q[:300], " ".join(q.lower().split())[:300]) for q in pool]
    zipf = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(pool))))
    sizes = list(itertools.accumulate([30, 25, 18, 12, 9, 6]))
    top, size_top = zipf[-1], sizes[-1]
    random_ = rng.random
    per_day = count / EVENT_DAYS
    made, rows, next_id = 0, [], 1
    start = now - timedelta(days=EVENT_DAYS)
    for day in range(EVENT_DAYS):
        target = int(per_day * (day + 1)) - made if day < EVENT_DAYS - 1 else count - made
        day_start = start + timedelta(days=day)
        raised = incidents_per_day.get(day_start.date().isoformat(), [])
        day_rows: list[tuple] = []
        while len(day_rows) < target:
            size = min(bisect.bisect(sizes, random_() * size_top) + 1, target - len(day_rows))
            session = f"s:{rng.getrandbits(96):024x}"
            who = random_()
            user = (
                employees[int(random_() * len(employees))]
                if who < 0.6
                else (agents[int(random_() * len(agents))] if who < 0.62 else None)
            )
            source = "api" if random_() < 0.05 else "page"
            at = day_start + timedelta(seconds=random_() * (86400 - 600))
            incident = (
                raised[int(random_() * len(raised))][0] if raised and random_() < 0.1 else None
            )
            for _ in range(size):
                query, normalised = texts[bisect.bisect(zipf, random_() * top)]
                found = 0 if random_() < 0.12 else 1 + int(random_() * 60)
                opened = 1 + int(random_() * articles) if found and random_() < 0.5 else None
                voted = (random_() < 0.75) if opened and random_() < 0.3 else None
                day_rows.append(
                    (at, session, user, query, normalised, found, source, opened, voted, incident)
                )
                at += timedelta(seconds=5 + random_() * 85)
        day_rows.sort(key=lambda r: r[0])
        for row in day_rows:
            rows.append((next_id, *row[1:], row[0]))
            next_id += 1
        made += len(day_rows)
        if len(rows) >= BATCH:
            insert_tuples(SearchEvent.__table__, EVENT_COLUMNS, rows)
            rows = []
    insert_tuples(SearchEvent.__table__, EVENT_COLUMNS, rows)
    return made


# -- timing ------------------------------------------------------------------------------


def report_urls(app) -> tuple[list[str], list[str]]:
    from portal.analytics.charts import CHARTS

    pages = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("reports.") and not rule.arguments
    )
    return pages, [f"/reports/chart/{name}.svg" for name in CHARTS]


def time_url(client, url: str, repeat: int) -> dict[str, float]:
    """Wall-clock times of one request, then `repeat` more; CPU time (process_time) too,
    which the load other programs put on the machine disturbs less (SQLite runs in-process;
    PostgreSQL's work is in its server and shows only in the wall-clock time)."""
    warm_start = time.perf_counter()
    response = client.get(url)
    first = (time.perf_counter() - warm_start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    times, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, url
    return {
        "first_ms": round(first, 1),
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "cpu_ms": round(statistics.median(cpu), 1),
        "bytes": len(response.data),
    }


def _row(name: str, t: dict) -> str:
    return (
        f"  {name:27} {t['median_ms']:7.1f} ms {t['max_ms']:7.1f} ms {t['first_ms']:7.1f} ms"
        f" {t['cpu_ms']:7.1f} ms {t['bytes'] / 1024:5.0f} KB"
    )


# -- main --------------------------------------------------------------------------------


def create_database(server_url: str) -> tuple[str, object]:
    import sqlalchemy as sa

    name = f"firstfix_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return re.sub(r"/[^/]*$", f"/{name}", server_url), (admin, name)


def drop_database(handle) -> None:
    import sqlalchemy as sa

    admin, name = handle
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL server; a new database is used")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--out", help="keep the SQLite database here (new or empty folder)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.incidents < 1 or args.events < 1 or args.repeat < 1:
        parser.error("--incidents, --events and --repeat must be positive")
    if args.out:
        workdir = Path(args.out).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        if any(workdir.iterdir()):
            parser.error(f"--out {workdir} is not empty")
    else:
        workdir = Path(tempfile.mkdtemp(prefix="firstfix-reports-"))
    handle = None
    try:
        if args.database_url:
            url, handle = create_database(args.database_url)
        else:
            url = f"sqlite:///{workdir / 'bench.db'}"
        return run(args, url, workdir)
    finally:
        if handle is not None and args.keep:
            handle[0].dispose()
            note(f"kept {url}")
        elif handle is not None:
            drop_database(handle)
        if not args.out:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args, url: str, workdir: Path) -> int:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from portal import create_app
    from portal.analytics.models import SearchEvent
    from portal.extensions import db
    from portal.incidents.models import Incident

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_DIR": str(workdir / "index"),
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_SEND_AFTER_COMMIT": False,
        }
    )
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        logging.getLogger().setLevel(logging.WARNING)
        backend = db.engine.dialect.name
        note(f"building on {backend}: {args.incidents:,} incidents, {args.events:,} events")
        started = time.perf_counter()
        employees, agents, _staff = build_people(now)
        pairs, articles = build_library(rng, now)
        db.session.commit()
        per_day = build_incidents(rng, now, args.incidents, employees, agents, pairs, articles)
        db.session.commit()
        incidents_s = time.perf_counter() - started
        note(f"incidents in {incidents_s:.1f} s")
        started = time.perf_counter()
        with indexes_dropped("search_events"):
            build_events(rng, now, args.events, employees, agents, articles, per_day)
        db.session.commit()
        events_s = time.perf_counter() - started
        note(f"events in {events_s:.1f} s")
        if backend == "postgresql":  # what autovacuum does soon after a bulk load
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        counts = {
            "incidents": db.session.scalar(select(func.count(Incident.id))),
            "search_events": db.session.scalar(select(func.count(SearchEvent.id))),
        }
        db.session.remove()

    load_start = os.getloadavg()[0]
    client = app.test_client()
    response = client.post("/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    if response.status_code != 302:
        raise SystemExit("could not sign in the benchmark's staff user")
    pages, charts = report_urls(app)
    note("timing the pages (last 30 days)")
    page_times = {url: time_url(client, url, args.repeat) for url in pages}
    note("timing the charts (last 30 days)")
    chart_times = {url: time_url(client, url, args.repeat) for url in charts}
    note("timing the pages (last 180 days)")
    today = now.date()
    wide = f"?from={today - timedelta(days=EVENT_DAYS - 1)}&to={today}"
    wide_times = {url: time_url(client, url + wide, 1) for url in pages}
    load_end = os.getloadavg()[0]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

    p = print
    p()
    p(
        f"Firstfix reports benchmark on {backend}: {counts['incidents']:,} incidents, "
        f"{counts['search_events']:,} search events, seed {args.seed}, {os.cpu_count()} cores"
    )
    p(f"  build: incidents {incidents_s:.1f} s, search events {events_s:.1f} s")
    p(f"  load average while timing: {load_start:.1f} at the start, {load_end:.1f} at the end")
    p()
    p("  last 30 days: median, max and first wall-clock time, median CPU time, page size;")
    p("  last 180 days (every search event): one wall-clock time")
    columns = f"{'median':>10} {'max':>10} {'first':>10} {'cpu':>10} {'size':>8}"
    p(f"  {'page':27} {columns} {'180 days':>11}")
    for url in pages:
        t, w = page_times[url], wide_times[url]
        p(f"{_row(url, t)} {w['first_ms']:8.1f} ms")
    p()
    p(f"  {'chart alone (30 days)':27} {columns}")
    for url in charts:
        p(_row(url.removeprefix("/reports/chart"), chart_times[url]))
    slowest = max(pages, key=lambda u: page_times[u]["median_ms"])
    p()
    p(
        f"  slowest page (30 days): {slowest} {page_times[slowest]['median_ms']:.1f} ms; "
        f"p95 over pages {pct([t['median_ms'] for t in page_times.values()], 95):.1f} ms"
    )
    p(
        json.dumps(
            {
                "backend": backend,
                **counts,
                "build_s": {"incidents": round(incidents_s, 1), "events": round(events_s, 1)},
                "load_avg": [round(load_start, 2), round(load_end, 2)],
                "pages_30d_median_ms": {u: t["median_ms"] for u, t in page_times.items()},
                "pages_180d_ms": {u: t["first_ms"] for u, t in wide_times.items()},
                "pages_30d_cpu_ms": {u: t["cpu_ms"] for u, t in page_times.items()},
                "charts_30d_median_ms": {u: t["median_ms"] for u, t in chart_times.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
