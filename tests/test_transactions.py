"""Writers wait their turn on SQLite; readers never wait; a GET never writes in its own
transaction; queued writes survive a normal stop."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal import transactions, writebehind
from portal.accounts.services import create_token
from portal.analytics.models import SearchEvent
from portal.extensions import db
from portal.incidents.models import Incident
from portal.timeutil import utcnow


@pytest.fixture
def config_overrides():
    return {"MAIL_SEND_AFTER_COMMIT": False}


def _sqlite_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip(
            "SQLite's write lock only: PostgreSQL upgrades a reading transaction to a writing "
            "one without fail, so there is no failure to reproduce there"
        )


def test_a_writer_that_read_first_waits_for_another_writer_instead_of_failing(app):
    """The failure of the default set-up: B reads, A commits, B writes. With a deferred
    BEGIN, SQLite refuses B's write at once (SQLITE_BUSY_SNAPSHOT); now B waits for A."""
    _sqlite_only(app)
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS tx_probe (who TEXT)"))
    b_has_read = threading.Event()
    errors: list[BaseException] = []
    engine = db.engine

    def writer_b():
        try:
            with transactions.writing(), Session(engine) as s:
                s.execute(text("SELECT count(*) FROM tx_probe")).scalar()
                b_has_read.set()
                time.sleep(0.2)  # A commits meanwhile (when B did not wait for it)
                s.execute(text("INSERT INTO tx_probe VALUES ('b')"))
                s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    with transactions.writing(), Session(db.engine) as s:
        s.execute(text("SELECT count(*) FROM tx_probe")).scalar()
        thread = threading.Thread(target=writer_b)
        thread.start()
        b_has_read.wait(0.5)  # B is waiting for the write lock, so it cannot read yet
        s.execute(text("INSERT INTO tx_probe VALUES ('a')"))
        s.commit()
    thread.join(10)
    with db.engine.begin() as conn:
        rows = sorted(r[0] for r in conn.execute(text("SELECT who FROM tx_probe")))
        conn.execute(text("DROP TABLE tx_probe"))  # the database is shared by the suite
    assert errors == []
    assert rows == ["a", "b"]


def test_a_reader_does_not_wait_for_a_writer(app):
    _sqlite_only(app)
    with transactions.writing(), Session(db.engine) as writer:
        writer.execute(text("SELECT 1"))  # holds the write lock from here
        started = time.monotonic()
        with transactions.reading(), Session(db.engine) as reader:
            assert reader.scalar(select(func.count()).select_from(Incident)) == 0
        assert time.monotonic() - started < 1.0


def test_concurrent_clients_raising_incidents_all_succeed(app, make_user):
    """Eight clients raise incidents through the API while two search: none is refused."""
    people = [make_user("employee") for _ in range(8)]
    tokens = [create_token(p) for p in people]
    db.session.commit()
    clients = 8
    each = 6

    def raise_some(token):
        client = app.test_client()
        codes = []
        with app.app_context():
            for n in range(each):
                response = client.post(
                    "/api/v1/incidents",
                    json={"title": f"Laptop fan loud {n}", "description": "It is loud."},
                    headers={"Authorization": f"Bearer {token}"},
                )
                codes.append(response.status_code)
        return codes

    def search_some(_):
        client = app.test_client()
        with app.app_context():
            return [client.get(f"/search?q=laptop+{n}").status_code for n in range(each * 2)]

    with ThreadPoolExecutor(max_workers=clients + 2) as pool:
        writes = pool.map(raise_some, tokens)
        reads = pool.map(search_some, range(2))
        write_codes = [c for codes in writes for c in codes]
        read_codes = [c for codes in reads for c in codes]
    assert write_codes == [201] * (clients * each)
    assert read_codes == [200] * (2 * each * 2)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Incident)) == clients * each
    writebehind.flush()
    assert db.session.scalar(select(func.count()).select_from(SearchEvent)) == 2 * each * 2


def test_a_get_that_writes_in_its_own_transaction_is_caught_by_the_suite(app):
    """Under TESTING the guard refuses a write inside a safe request's transaction, so a
    view that would fail under load on SQLite fails here first."""
    _sqlite_only(app)

    @app.get("/_probe/write-on-get")
    def _write_on_get():
        db.session.execute(select(func.count()).select_from(Incident))
        db.session.execute(text("UPDATE incidents SET title = title WHERE 0"))
        return "wrote"

    response = app.test_client().get("/_probe/write-on-get")
    assert response.status_code == 500


def test_search_events_are_written_in_the_background_within_the_interval(app, make_article):
    make_article(title="Printer shows as offline")
    queue = writebehind.WriteBehind(app, interval=0.2)
    app.extensions["writebehind"] = queue
    client = app.test_client()
    # (That the request itself never writes is the guard of the test above.)
    assert client.get("/search?q=printer").status_code == 200
    deadline = time.monotonic() + 10
    count = 0
    while time.monotonic() < deadline and not count:
        time.sleep(0.1)
        db.session.rollback()
        count = db.session.scalar(select(func.count()).select_from(SearchEvent))
    assert count == 1


def test_queued_events_are_written_on_a_normal_stop(app, database_url, tmp_path):
    """A process that stops normally (gunicorn's graceful stop) writes what it queued."""
    script = f"""
import sys
from portal import create_app
app = create_app({{
    "TESTING": True, "SQLALCHEMY_DATABASE_URI": {database_url!r},
    "SEARCH_INDEX_DIR": {str(tmp_path / "index")!r}, "SECRET_KEY": "x",
    "WRITEBEHIND_INTERVAL": 3600, "MAIL_SEND_AFTER_COMMIT": False,
}})
client = app.test_client()
for q in ("vpn", "printer", "wifi"):
    assert client.get("/search?q=" + q).status_code == 200
print(app.extensions["writebehind"].pending())
"""
    db.session.rollback()
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"  # still queued when the script ended
    db.session.rollback()
    queries = db.session.scalars(select(SearchEvent.query).order_by(SearchEvent.id)).all()
    assert queries == ["vpn", "printer", "wifi"]


def test_a_bad_row_among_queued_search_events_loses_only_itself(app, make_article):
    """Search events queued together are written by one INSERT; when one row is refused,
    the others are still written, in order, and the refused one is given up."""
    queue = writebehind.WriteBehind(app, interval=3600)
    app.extensions["writebehind"] = queue
    row = {
        "session_key": "s:1",
        "user_id": None,
        "normalised": "x",
        "result_count": 1,
        "source": "page",
        "created_at": utcnow(),
    }
    for query in ("vpn", None, "wifi", "printer"):  # None: the query column is NOT NULL
        queue.insert(SearchEvent, {**row, "query": query})
    for _ in range(writebehind.MAX_TRIES):
        queue.flush()
    db.session.rollback()
    queries = db.session.scalars(select(SearchEvent.query).order_by(SearchEvent.id)).all()
    assert queries == ["vpn", "wifi", "printer"]
    assert queue.pending() == 0 and queue.dropped == 1
