"""A load test that writes: gunicorn (4 workers) on PostgreSQL with mixed traffic, then checks.

    python bench/load.py [--seconds 60] [--clients 8] [--workers 4] [--threads 4]
                         [--employees 3] [--no-indexer] [--seed 42]

Creates a fresh PostgreSQL database (``firstfix_load_<random>`` on 127.0.0.1:5432, user
postgres), seeds it the documented way (``flask db upgrade``, ``flask setup`` with the
starter library, ``flask users create`` and ``flask tokens create``), starts
``gunicorn --workers 4 --threads 4 'portal:create_app()'`` on a free 127.0.0.1 port and, as
the README's production set-up does, ``flask search sync --watch`` beside it. Then --clients
threads (each with one keep-alive connection) send for --seconds a mix of:

- 80% reads: API searches (30%), the search page (25%), article pages (25%), anonymous;
- 15% incidents through the API with an employee's bearer token: new incidents (8%) and
  replies to the thread's own incidents (7%), each with a unique marker;
- 5% article edits by a signed-in staff member through the editor form (GET the form, POST it
  back with a unique marker word added to the body); each client thread edits its own share
  of the articles, so two edits never race for the same article.

Afterwards it verifies: no 5xx answer; every incident it created exists exactly once (the
refs returned against ``GET /api/v1/incidents`` as staff, and against the database), every
reply exactly once; every saved edit's marker is in the article's body in the database and
the article is found by searching for the marker; and ``flask --app portal search check``
with the same environment exits 0. Prints requests/s and p50/p95/p99 per kind, the checks,
the load average, and one JSON line last.

Everything is on 127.0.0.1 and bounded in time; the servers are stopped and the database
dropped at the end, also after an error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import synthetic

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


import http_bench as hb  # noqa: E402  (bench/ is on sys.path when run as a script)

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REQUEST_TIMEOUT = 30.0
CHECK_TIMEOUT = 30.0  # seconds for search check to pass, and for every marker to be found
STAFF_EMAIL = "load-staff@example.com"
KINDS = (
    "api_search",
    "search_page",
    "article_view",
    "incident_create",
    "incident_reply",
    "edit_form",
    "edit_save",
)
# operation -> share of operations in percent (an edit is two requests: the form and the save)
MIX = (
    ("api_search", 30),
    ("search_page", 25),
    ("article_view", 25),
    ("incident_create", 8),
    ("incident_reply", 7),
    ("edit", 5),
)
EXPECTED = {
    "api_search": 200,
    "search_page": 200,
    "article_view": 200,
    "incident_create": 201,
    "incident_reply": 201,
    "edit_form": 200,
    "edit_save": 302,
    "login": 302,
}


def note(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def marker_word(rng: random.Random) -> str:
    """A word no article holds: 'lt' and ten consonants (nothing for a stemmer to cut)."""
    return "lt" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10))


# -- the database --------------------------------------------------------------------------


def admin_connection():
    import psycopg

    last: Exception | None = None
    for dbname in ("postgres", "test"):
        try:
            return psycopg.connect(
                host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True
            )
        except psycopg.OperationalError as exc:
            last = exc
    raise RuntimeError(f"cannot reach PostgreSQL on {PG_HOST}:{PG_PORT}: {last}")


def create_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def db_query(name: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=name) as conn:
        return conn.execute(sql, params).fetchall()


# -- one client ----------------------------------------------------------------------------


class EditorForm(HTMLParser):
    """The fields of the page's ``<form class="editor">`` as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_form = "editor" in a.get("class", "").split()
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            if self._select not in self.fields or "selected" in a:
                self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            # a browser drops the newline right after <textarea>
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            self.fields[self._textarea] = text
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)


@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    status: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    exceptions: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)


class Client:
    """One thread of traffic on one keep-alive connection."""

    def __init__(self, slot, port, run_id, tokens, staff_password, slugs, mine, queries, seed):
        self.slot = slot
        self.port = port
        self.run_id = run_id
        self.token = tokens["employees"][slot % len(tokens["employees"])]
        self.staff_password = staff_password
        self.slugs = slugs  # every public published article: views
        self.mine = mine  # this thread's share of them: edits
        self.queries = queries
        self.rng = random.Random(seed)
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.tally = Tally()
        self.incidents: list[tuple[str, str]] = []  # (ref, title) created and answered 201
        self.uncertain_titles: list[str] = []  # sent, no answer: may or may not exist
        self.replies: list[str] = []  # markers of replies answered 201
        self.uncertain_replies: list[str] = []
        self.edits: list[tuple[str, str]] = []  # (slug, marker) saved (302)
        self.failed_edits: list[tuple[str, str]] = []
        self.counter = 0
        self.t0 = time.monotonic()

    # -- transport

    def request(self, kind, method, path, body=None, headers=None, staff=False):
        """(status, headers, body) or None when the connection failed; timed under kind.

        ``staff`` sends and keeps the signed-in staff member's cookies; other requests are
        anonymous. A GET that fails on a reused keep-alive connection before any answer (the
        server closed it while idle) is sent once more on a new one, as browsers do."""
        headers = dict(headers or {})
        if staff:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        for attempt in (1, 2):
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
                    )
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.conn.close()
                    self.conn = None
                break
            except (OSError, http.client.HTTPException) as exc:
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                stale = isinstance(
                    exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                )
                if attempt == 1 and reused and stale and method == "GET":
                    self.tally.exceptions[f"{kind}: stale keep-alive connection, retried"] += 1
                    continue
                if kind in self.tally.times:
                    self.tally.times[kind].append((time.perf_counter() - start) * 1000.0)
                self.tally.exceptions[f"{kind}: {type(exc).__name__}"] += 1
                if len(self.tally.unexpected) < 20:
                    self.tally.unexpected.append(
                        f"{kind} {method} {path[:60]}: {exc!r} at "
                        f"{time.monotonic() - self.t0:.1f} s into the run"
                    )
                return None
        if kind in self.tally.times:
            self.tally.times[kind].append((time.perf_counter() - start) * 1000.0)
            self.tally.status[kind][resp.status] += 1
        if resp.status != EXPECTED.get(kind, 200) and len(self.tally.unexpected) < 20:
            self.tally.unexpected.append(
                f"{kind} {method} {path[:80]} -> {resp.status} {data[:200]!r}"
            )
        if staff:
            for header in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, resp.headers, data

    def api_json(self, kind, path, payload):
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        return self.request(kind, "POST", path, json.dumps(payload).encode(), headers)

    # -- operations

    def login(self) -> None:
        body = urlencode({"email": STAFF_EMAIL, "password": self.staff_password, "next": ""})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        got = self.request("login", "POST", "/login", body.encode(), headers, staff=True)
        if got is None or got[0] != 302 or "session" not in self.cookies:
            raise RuntimeError(f"client {self.slot}: staff sign-in failed: {got and got[0]}")
        if self.conn is not None:  # idle until the run starts: begin on a fresh connection
            self.conn.close()
            self.conn = None

    def next_marker(self) -> str:
        self.counter += 1
        return f"{marker_word(self.rng)}{self.slot}x{self.counter}"

    def api_search(self):
        q = self.rng.choice(self.queries)
        self.request("api_search", "GET", "/api/v1/search?" + urlencode({"q": q}))

    def search_page(self):
        q = self.rng.choice(self.queries)
        self.request("search_page", "GET", "/search?" + urlencode({"q": q}))

    def article_view(self):
        self.request("article_view", "GET", f"/articles/{self.rng.choice(self.slugs)}")

    def incident_create(self):
        marker = self.next_marker()
        title = f"Load {self.run_id} {marker}: {self.rng.choice(self.queries)}"[:200]
        payload = {
            "title": title,
            "description": f"Raised by bench/load.py, client {self.slot}. Marker {marker}.",
        }
        got = self.api_json("incident_create", "/api/v1/incidents", payload)
        if got is None:
            self.uncertain_titles.append(title)
        elif got[0] == 201:
            self.incidents.append((json.loads(got[2])["ref"], title))

    def incident_reply(self):
        if not self.incidents:
            return self.incident_create()
        ref = self.rng.choice(self.incidents)[0]
        marker = f"Reply {self.run_id} {self.next_marker()}"
        got = self.api_json(
            "incident_reply", f"/api/v1/incidents/{ref}/comments", {"body": f"{marker}: any news?"}
        )
        if got is None:
            self.uncertain_replies.append(marker)
        elif got[0] == 201:
            self.replies.append(marker)

    def edit(self):
        if not self.mine:
            return self.article_view()
        slug = self.rng.choice(self.mine)
        got = self.request("edit_form", "GET", f"/articles/{slug}/edit", staff=True)
        if got is None or got[0] != 200:
            return
        form = EditorForm()
        form.feed(got[2].decode("utf-8", "replace"))
        fields = form.fields
        marker = marker_word(self.rng)
        fields["body"] = fields.get("body", "").rstrip() + f"\n\nChecked in load test {marker}.\n"
        fields["note"] = f"load test edit {marker}"
        fields["save"] = "Save"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        got = self.request(
            "edit_save", "POST", f"/articles/{slug}/edit", urlencode(fields).encode(), headers, True
        )
        location = urlsplit(got[1].get("Location", "")).path if got else ""
        if got is not None and got[0] == 302 and location == f"/articles/{slug}":
            self.edits.append((slug, marker))
        else:
            self.failed_edits.append((slug, marker))

    def run(self, deadline: float, stop: threading.Event) -> None:
        self.t0 = time.monotonic()
        ops = [name for name, _ in MIX]
        weights = [w for _, w in MIX]
        while not stop.is_set() and time.monotonic() < deadline:
            op = self.rng.choices(ops, weights)[0]
            try:
                getattr(self, op)()
            except Exception as exc:  # counted and shown; the run goes on
                self.tally.exceptions[f"{op}: {type(exc).__name__}: {exc}"[:160]] += 1
        if self.conn is not None:
            self.conn.close()


# -- checks --------------------------------------------------------------------------------


def get_json(port: int, path: str, token: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def listed_refs(port: int, token: str) -> tuple[Counter, int | None]:
    """Every incident ref GET /api/v1/incidents shows staff, counted, and the total it states."""
    refs: Counter = Counter()
    total = None
    for page in range(1, 1001):
        status, data = get_json(port, f"/api/v1/incidents?per_page=100&page={page}", token)
        if status != 200:
            raise RuntimeError(f"GET /api/v1/incidents page {page}: {status}")
        total = data["total"]
        refs.update(item["ref"] for item in data["results"])
        if not data["results"] or page * 100 >= total:
            break
    return refs, total


def verify(port, dbname, env, clients, staff_token, run_id) -> dict:
    created = [(ref, title) for c in clients for ref, title in c.incidents]
    uncertain = {t for c in clients for t in c.uncertain_titles}
    replies = [m for c in clients for m in c.replies]
    uncertain_replies = {m for c in clients for m in c.uncertain_replies}
    edits = [e for c in clients for e in c.edits]
    out: dict = {}

    # 1. 5xx
    fivexx: Counter = Counter()
    for c in clients:
        for kind, counts in c.tally.status.items():
            fivexx[kind] += sum(n for code, n in counts.items() if code >= 500)
    out["5xx"] = sum(fivexx.values())
    out["5xx_by_kind"] = {k: n for k, n in fivexx.items() if n}

    # 2. incidents, through the API as staff and in the database
    listed, api_total = listed_refs(port, staff_token)
    rows = db_query(dbname, "SELECT ref, title FROM incidents")
    in_db = Counter(ref for ref, _ in rows)
    titles_db = Counter(title for _, title in rows if title.startswith(f"Load {run_id} "))
    created_refs = Counter(ref for ref, _ in created)
    out["incidents_created"] = len(created)
    out["incidents_uncertain"] = len(uncertain)
    out["incident_problems"] = problems = []
    problems += [f"ref {r} returned {n} times" for r, n in created_refs.items() if n != 1]
    problems += [f"{r} listed {listed[r]} times by the API" for r in created_refs if listed[r] != 1]
    problems += [f"{r} {in_db[r]} times in the database" for r in created_refs if in_db[r] != 1]
    problems += [f"ref {r} on {n} rows" for r, n in in_db.items() if n > 1]
    for ref, title in created:
        if titles_db[title] != 1:
            problems.append(f"{ref}: {titles_db[title]} rows titled {title[:60]!r}")
    expected_titles = {t for _, t in created} | uncertain
    extra = [t for t in titles_db if t not in expected_titles]
    problems += [f"unexpected incident {t[:60]!r}" for t in extra]
    for title, n in titles_db.items():
        if title in uncertain and n > 1:
            problems.append(f"{n} rows titled {title[:60]!r} (request unanswered)")
    out["incidents_listed"] = sum(listed[r] == 1 for r in created_refs)
    out["incidents_in_db"] = sum(in_db[r] == 1 for r in created_refs)
    out["api_total"], out["db_total"] = api_total, len(rows)
    if api_total != len(rows):
        problems.append(f"API total {api_total} but {len(rows)} incidents in the database")

    # 3. replies in the database
    comment_rows = db_query(
        dbname,
        "SELECT body_md FROM incident_comments WHERE body_md LIKE %s",
        (f"Reply {run_id} %",),
    )
    bodies = Counter(body.split(":", 1)[0] for (body,) in comment_rows)
    out["replies_created"] = len(replies)
    out["reply_problems"] = rp = [f"{m}: {bodies[m]} rows" for m in replies if bodies[m] != 1]
    rp += [f"unexpected reply {m}" for m in bodies if m not in set(replies) | uncertain_replies]
    rp += [f"{m}: {n} rows (request unanswered)" for m, n in bodies.items() if n > 1]

    # 4. edits: in the database, and found by search
    body_rows = dict(db_query(dbname, "SELECT slug, body_md FROM articles"))
    out["edits_saved"] = len(edits)
    out["edits_failed"] = sum(len(c.failed_edits) for c in clients)
    missing_db = [f"{s}:{m}" for s, m in edits if m not in body_rows.get(s, "")]
    out["edits_missing_in_db"] = missing_db
    started = time.monotonic()
    waiting = list(edits)
    passes = 0
    while waiting and time.monotonic() - started < CHECK_TIMEOUT:
        passes += 1
        still = []
        for slug, marker in waiting:
            status, data = get_json(port, "/api/v1/search?" + urlencode({"q": marker}))
            if status != 200 or slug not in [hit["slug"] for hit in data["results"]]:
                still.append((slug, marker))
        waiting = still
        if waiting:
            time.sleep(0.5)
    out["edits_not_found"] = [f"{s}:{m}" for s, m in waiting]
    out["edits_found_s"] = round(time.monotonic() - started, 2)
    out["edits_search_passes"] = passes

    # 5. the index against the database, with the CLI and the servers' environment
    attempts = []
    started = time.monotonic()
    while True:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("flask")), "--app", "portal", "search", "check"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        attempts.append((round(time.monotonic() - started, 1), done.returncode))
        if done.returncode == 0 or time.monotonic() - started > CHECK_TIMEOUT:
            break
        time.sleep(2)
    out["search_check"] = {
        "exit": done.returncode,
        "attempts": attempts,
        "output": (done.stdout.strip().splitlines() or [""])[-1][:300],
    }
    return out


# -- the run -------------------------------------------------------------------------------


def seed(env: dict[str, str], employees: int, staff_password: str) -> dict:
    note("flask db upgrade, setup (starter library)")
    hb.flask_cli(env, "db", "upgrade")
    hb.flask_cli(env, "setup")
    note(f"flask users create x{employees + 1}, tokens create x{employees + 1}")
    hb.flask_cli(
        env,
        *("users", "create", "--email", STAFF_EMAIL, "--name", "Load Staff"),
        *("--role", "agent", "--role", "editor", "--password", staff_password),
    )
    tokens = {"staff": hb.flask_cli(env, "tokens", "create", STAFF_EMAIL).strip().splitlines()[-1]}
    tokens["employees"] = []
    for i in range(1, employees + 1):
        email = f"load-employee-{i}@example.com"
        hb.flask_cli(
            env,
            *("users", "create", "--email", email, "--name", f"Load Employee {i}"),
            *("--role", "employee", "--password", secrets.token_urlsafe(12)),
        )
        tokens["employees"].append(
            hb.flask_cli(env, "tokens", "create", email).strip().splitlines()[-1]
        )
    return tokens


def summarize(clients, elapsed: float) -> dict:
    rows = {}
    for kind in KINDS:
        times = [t for c in clients for t in c.tally.times[kind]]
        status: Counter = Counter()
        for c in clients:
            status.update(c.tally.status[kind])
        rows[kind] = {
            "requests": len(times),
            "rps": round(len(times) / elapsed, 2),
            "p50_ms": round(hb.pct(times, 50), 1) if times else None,
            "p95_ms": round(hb.pct(times, 95), 1) if times else None,
            "p99_ms": round(hb.pct(times, 99), 1) if times else None,
            "status": {str(k): v for k, v in sorted(status.items())},
        }
    return rows


def run(args, workdir: Path, state: dict) -> int:
    load_start = hb.loadavg()
    run_id = secrets.token_hex(4)
    dbname = f"firstfix_load_{run_id}"
    staff_password = secrets.token_urlsafe(16)
    env = hb.clean_env(
        {
            "DATABASE_URL": f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{dbname}",
            "PORTAL_SEARCH_INDEX_DIR": str(workdir / "index"),
            "PORTAL_ATTACHMENTS_DIR": str(workdir / "attachments"),
            "PORTAL_SECRET_KEY": secrets.token_hex(16),
            "PORTAL_WTF_CSRF_ENABLED": "false",
            "PORTAL_RATELIMIT_ENABLED": "false",
            "PORTAL_MAIL_SEND_AFTER_COMMIT": "false",  # no SMTP server here: mail stays queued
            "PORTAL_ADMIN_EMAIL": "load-admin@example.com",
            "PORTAL_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        }
    )
    note(f"creating database {dbname}")
    create_database(dbname)
    state["dbname"] = dbname
    tokens = seed(env, args.employees, staff_password)
    slugs = [
        slug
        for (slug,) in db_query(
            dbname,
            "SELECT slug FROM articles WHERE status = 'published' AND visibility = 'everyone' "
            "ORDER BY slug",
        )
    ]
    queries = sorted({q.text for q in synthetic.queries(random.Random(args.seed), 400)})

    server = hb.Gunicorn(
        "portal:create_app()", env, args.workers, args.threads, workdir / "gunicorn.log"
    )
    state["servers"].append(server)
    note(f"gunicorn on 127.0.0.1:{server.port} ({server.settings})")
    server.start("/healthz")
    if args.indexer:
        log = open(workdir / "indexer.log", "ab")  # closed in cleanup()
        flask = str(Path(sys.executable).with_name("flask"))
        indexer = subprocess.Popen(
            [flask, "--app", "portal", "search", "sync", "--watch", "--interval", "1"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        state["processes"].append((indexer, log))

    clients = [
        Client(
            i,
            server.port,
            run_id,
            tokens,
            staff_password,
            slugs,
            slugs[i :: args.clients],  # this thread's share of the articles to edit
            queries,
            args.seed * 1000 + i,
        )
        for i in range(args.clients)
    ]
    for c in clients:
        c.login()
    note(
        f"{args.clients} clients for {args.seconds:g} s on {len(slugs)} public articles "
        f"(load average {hb.loadavg()})"
    )
    stop = threading.Event()
    state["stop"] = stop
    started = time.monotonic()
    deadline = started + args.seconds
    threads = [threading.Thread(target=c.run, args=(deadline, stop), daemon=True) for c in clients]
    for t in threads:
        t.start()
    next_note = started + 15
    while any(t.is_alive() for t in threads):
        if time.monotonic() > deadline + REQUEST_TIMEOUT + 15:
            stop.set()
            break
        if time.monotonic() > next_note:
            done = sum(len(v) for c in clients for v in c.tally.times.values())
            note(f"{time.monotonic() - started:4.0f} s: {done} requests, load {hb.loadavg()}")
            next_note += 15
        time.sleep(0.2)
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT + 5)
    elapsed = time.monotonic() - started
    load_after = hb.loadavg()
    workers_rss = [{"pid": pid, **hb.proc_status(pid)} for pid in server.workers()]

    note("verifying")
    checks = verify(server.port, dbname, env, clients, tokens["staff"], run_id)
    log_full = (workdir / "gunicorn.log").read_text(errors="replace")
    server_log = {
        "worker_timeouts": log_full.count("WORKER TIMEOUT"),
        "tracebacks": log_full.count("Traceback (most recent call last)"),
        "errors": sum(" ERROR " in line for line in log_full.splitlines()),
    }
    log_text = log_full[-2500:] if checks["5xx"] or server_log["tracebacks"] else ""
    queued_mail = db_query(dbname, "SELECT count(*) FROM mail_outbox")[0][0]
    report(
        args,
        clients,
        elapsed,
        checks,
        server.settings,
        (load_start, load_after),
        workers_rss,
        queued_mail,
        (server_log, log_text),
    )
    ok = (
        checks["5xx"] == 0
        and not checks["incident_problems"]
        and not checks["reply_problems"]
        and not checks["edits_missing_in_db"]
        and not checks["edits_not_found"]
        and checks["search_check"]["exit"] == 0
    )
    return 0 if ok else 1


def report(args, clients, elapsed, checks, settings, loads, workers_rss, queued_mail, logs):
    l0, l1 = loads
    server_log, log_text = logs
    rows = summarize(clients, elapsed)
    total = sum(r["requests"] for r in rows.values())
    ops = Counter()
    for c in clients:
        for kind in KINDS:
            ops[kind] += len(c.tally.times[kind])
    reads = ops["api_search"] + ops["search_page"] + ops["article_view"]
    writes_inc = ops["incident_create"] + ops["incident_reply"]
    edits = ops["edit_form"]
    n_ops = reads + writes_inc + edits or 1
    p = print
    p()
    p(
        f"Firstfix load test: gunicorn {settings} on PostgreSQL, {args.clients} client threads "
        f"for {elapsed:.1f} s, starter library, indexer {'on' if args.indexer else 'off'}"
    )
    p(
        f"  machine: {os.cpu_count()} cores; load average (1/5/15 min) {l0} at start, {l1} "
        f"after the load; the clients share the cores with the servers and PostgreSQL"
    )
    p(
        f"  mix of operations: reads {reads / n_ops:.0%}, incidents and replies "
        f"{writes_inc / n_ops:.0%}, edits {edits / n_ops:.0%} (target 80/15/5)"
    )
    p()
    p(f"  {'kind':<18}{'requests':>9}{'req/s':>9}{'p50':>9}{'p95':>9}{'p99':>9}   status")

    def ms(x):
        return f"{x:9.1f}" if x is not None else f"{'-':>9}"

    for kind in KINDS:
        r = rows[kind]
        status = " ".join(f"{k}x{v}" for k, v in r["status"].items())
        p(
            f"  {kind:<18}{r['requests']:>9,}{r['rps']:>9.1f}{ms(r['p50_ms'])}{ms(r['p95_ms'])}"
            f"{ms(r['p99_ms'])}   {status}"
        )
    p(f"  {'all':<18}{total:>9,}{total / elapsed:>9.1f}   (latencies in ms)")
    exceptions: Counter = Counter()
    unexpected = []
    for c in clients:
        exceptions.update(c.tally.exceptions)
        unexpected += c.tally.unexpected
    if exceptions:
        p("  client-side failures: " + "; ".join(f"{k} x{v}" for k, v in exceptions.items()))
    for line in unexpected[:5]:
        p(f"  unexpected answer: {line}")
    p()

    def mark(ok):
        return "ok" if ok else "FAILED"

    inc_ok = not checks["incident_problems"]
    p(f"  no 5xx: {mark(checks['5xx'] == 0)} ({checks['5xx']} {checks['5xx_by_kind'] or ''})")
    p(
        f"  incidents: {checks['incidents_created']} created, {checks['incidents_listed']} "
        f"listed exactly once by GET /api/v1/incidents (staff), {checks['incidents_in_db']} "
        f"exactly once in the database; {checks['incidents_uncertain']} unanswered; API total "
        f"{checks['api_total']} = database {checks['db_total']}: {mark(inc_ok)}"
    )
    for line in checks["incident_problems"][:10]:
        p(f"    {line}")
    p(
        f"  replies: {checks['replies_created']} created, each exactly once in the database: "
        f"{mark(not checks['reply_problems'])}"
    )
    for line in checks["reply_problems"][:10]:
        p(f"    {line}")
    edits_ok = not checks["edits_missing_in_db"] and not checks["edits_not_found"]
    p(
        f"  article edits: {checks['edits_saved']} saved ({checks['edits_failed']} refused or "
        f"unanswered), {len(checks['edits_missing_in_db'])} markers missing from the database, "
        f"{len(checks['edits_not_found'])} not found by searching for the marker "
        f"({checks['edits_search_passes']} pass(es) over the markers right after the load, "
        f"{checks['edits_found_s']} s): {mark(edits_ok)}"
    )
    for line in (checks["edits_missing_in_db"] + checks["edits_not_found"])[:10]:
        p(f"    {line}")
    sc = checks["search_check"]
    p(
        f"  flask --app portal search check: exit {sc['exit']} after {len(sc['attempts'])} "
        f"attempt(s) {sc['attempts']}: {sc['output']}: {mark(sc['exit'] == 0)}"
    )
    rss = [m.get("VmRSS", 0.0) for m in workers_rss]
    p(
        "  RSS per gunicorn worker after the load: "
        + ", ".join(f"{x:.0f} MB" for x in rss)
        + f"; {queued_mail} notification mails queued in the outbox (sending after commit off)"
    )
    p(
        f"  gunicorn log: {server_log['worker_timeouts']} worker timeouts, "
        f"{server_log['tracebacks']} tracebacks, {server_log['errors']} ERROR lines"
    )
    if log_text:
        p("  end of the gunicorn log:")
        for line in log_text.splitlines()[-15:]:
            p(f"    {line}")
    p()
    result = {
        "seconds": round(elapsed, 2),
        "rps": round(total / elapsed, 2),
        "requests": total,
        "kinds": rows,
        "5xx": checks["5xx"],
        "incidents_created": checks["incidents_created"],
        "incident_problems": len(checks["incident_problems"]),
        "replies_created": checks["replies_created"],
        "reply_problems": len(checks["reply_problems"]),
        "edits_saved": checks["edits_saved"],
        "edits_missing_in_db": len(checks["edits_missing_in_db"]),
        "edits_not_found": len(checks["edits_not_found"]),
        "edits_found_s": checks["edits_found_s"],
        "search_check_exit": sc["exit"],
        "rss_workers_mb": [round(x, 1) for x in rss],
        "server_log": server_log,
        "clients": args.clients,
        "gunicorn": settings,
        "indexer": args.indexer,
        "cores": os.cpu_count(),
        "loadavg_start": l0,
        "loadavg_end": l1,
    }
    print(json.dumps(result), flush=True)


def cleanup(state: dict, workdir: Path) -> None:
    if state.get("stop") is not None:
        state["stop"].set()
    for proc, log in state["processes"]:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
    for server in state["servers"]:
        server.stop()
    if state.get("dbname"):
        try:
            drop_database(state["dbname"])
            note(f"dropped database {state['dbname']}")
        except Exception as exc:
            print(f"could not drop database {state['dbname']}: {exc}", file=sys.stderr)
    shutil.rmtree(workdir, ignore_errors=True)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="per worker; 1 = sync workers")
    parser.add_argument("--employees", type=int, default=3, help="employee accounts")
    parser.add_argument(
        "--no-indexer",
        dest="indexer",
        action="store_false",
        help="do not run `flask search sync --watch` beside gunicorn",
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 3600:
        parser.error("--seconds must be 1..3600")
    if min(args.clients, args.workers, args.threads, args.employees) < 1:
        parser.error("--clients, --workers, --threads and --employees must be >= 1")

    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="firstfix-load-"))
    state: dict = {"servers": [], "processes": [], "dbname": None, "stop": None}
    try:
        return run(args, workdir, state)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers and dropping the database", file=sys.stderr)
        return 130
    finally:
        cleanup(state, workdir)


if __name__ == "__main__":
    raise SystemExit(main())
