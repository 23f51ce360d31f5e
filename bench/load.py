"""A load test that writes: gunicorn under mixed traffic on SQLite or PostgreSQL, then checks.

    python bench/load.py [--db sqlite|postgresql] [--seconds 60] [--clients 8]
                         [--workers 2 (sqlite) | 4 (postgresql)] [--threads 4]
                         [--employees 3] [--kill] [--smtp-outage] [--no-indexer] [--seed 42]

``--db sqlite`` (the default) is the default `make run`: a fresh SQLite file in WAL mode in a
temporary folder, ``gunicorn --workers 2 --threads 4 'portal:create_app()'`` and ``flask
worker`` beside it (mail, SLA). ``--db postgresql`` creates a fresh PostgreSQL database
(``firstfix_load_<random>`` on 127.0.0.1:5432, user postgres), runs gunicorn with 4 workers,
``flask worker`` and, as the README's production set-up does, ``flask search sync --watch``.
Both are seeded the documented way (``flask db upgrade``, ``flask setup`` with the starter
library, ``flask users create`` and ``flask tokens create``), and mail goes to a small SMTP
sink inside this script (plain SMTP on a free 127.0.0.1 port) that records every message.
Then --clients threads (each with one keep-alive connection) send for --seconds a mix of:

- reads (65%): API searches (25%), the search page (20%), article pages (20%), anonymous;
- incidents through the API with an employee's bearer token: new incidents (10%) and
  replies to the thread's own incidents (8%), each with a unique marker;
- votes "No" with a unique marker as the comment, anonymous (7%);
- sign-ins of an employee with a password (5%);
- article edits by a signed-in staff member through the editor form (5%: GET the form, POST
  it back with a unique marker word added to the body); each client thread edits its own
  share of the articles, so two edits never race for the same article.

``--kill``: a quarter into the run one gunicorn worker gets SIGKILL (the master starts
another); half way, the master, its workers and ``flask worker`` all get SIGKILL and are
started again on the same port (a refused connection is retried after 0.2 s).
``--smtp-outage``: the SMTP sink refuses connections from a quarter to half of the run, then
accepts again.

Afterwards it verifies: no 5xx answer; every incident it created exists exactly once (the
refs returned against ``GET /api/v1/incidents`` as staff, and against the database), every
reply and vote exactly once, nothing it did not send or may have sent (a request without an
answer may or may not have been saved, never twice); every saved edit's marker is in the
article's body in the database, no other marker is, and the article is found by searching
for the marker; ``flask --app portal search check`` with the same environment exits 0; and
the mail: every outbox row sent (waiting for the retries after an outage), each received by
the sink once, none it does not know; a second copy counts as documented only when the
outbox shows that a process was killed while it held the message (claimed and sent again).
Prints requests/s and p50/p95/p99 per kind, the checks, the load average, and one JSON line.

Everything is on 127.0.0.1 and bounded in time; the servers are stopped and the database
dropped at the end, also after an error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
MAIL_DRAIN_TIMEOUT = 300.0  # seconds for the outbox to empty after the load (retries wait)
KINDS = (
    "api_search",
    "search_page",
    "article_view",
    "incident_create",
    "incident_reply",
    "vote",
    "sign_in",
    "edit_form",
    "edit_save",
)
# operation -> share of operations in percent (an edit is two requests: the form and the save)
MIX = (
    ("api_search", 25),
    ("search_page", 20),
    ("article_view", 20),
    ("incident_create", 10),
    ("incident_reply", 8),
    ("vote", 7),
    ("sign_in", 5),
    ("edit", 5),
)
EXPECTED = {
    "api_search": 200,
    "search_page": 200,
    "article_view": 200,
    "incident_create": 201,
    "incident_reply": 201,
    "vote": 302,
    "sign_in": 302,
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
    """Rows of ``sql`` (``%s`` placeholders) on the PostgreSQL database ``name``, or on the
    SQLite file ``name`` when it is a path (read only, beside the servers)."""
    if name.endswith(".db"):
        conn = sqlite3.connect(f"file:{name}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=name) as conn:
        return conn.execute(sql, params).fetchall()


# -- a mail server that records -----------------------------------------------------------


class SmtpSink:
    """Plain SMTP on a fixed 127.0.0.1 port, one thread per session; keeps every message's
    Message-ID. ``down()`` closes the listening socket (connections are refused, as with a
    server that is off) and ``up()`` listens again on the same port."""

    def __init__(self) -> None:
        self.port = hb.free_port()
        self.received: Counter = Counter()  # message key -> copies received
        self.sessions = 0
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def up(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self._sock = sock
        self._thread = threading.Thread(target=self._accept, args=(sock,), daemon=True)
        self._thread.start()

    def down(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with self._lock:
            self.sessions += 1
        conn.settimeout(30)
        reader = conn.makefile("rb")

        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        try:
            say("220 sink ESMTP")
            while True:
                line = reader.readline()
                if not line:
                    return
                verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    say("250-sink")
                    say("250 8BITMIME")
                elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                    say("250 ok")
                elif verb == "DATA":
                    say("354 go on")
                    data = []
                    while (chunk := reader.readline()) not in (b".\r\n", b".\n", b""):
                        data.append(chunk)
                    with self._lock:
                        self.received[mail_key(b"".join(data))] += 1
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("502 not implemented")
        except OSError:
            return
        finally:
            reader.close()
            conn.close()


def mail_key(raw: bytes) -> str:
    """The outbox row a message came from: its stored Message-ID, or ``firstfix.<id>`` for
    the ids the sender makes up from the row (see portal/notifications/sender.py)."""
    found = re.search(rb"^Message-ID:\s*(<[^>\r\n]+>)", raw, re.IGNORECASE | re.MULTILINE)
    mid = found.group(1).decode("ascii", "replace") if found else "(no Message-ID)"
    made = re.match(r"<firstfix\.(\d+)\.", mid)
    return f"firstfix.{made.group(1)}" if made else mid


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
        self.employee = tokens["passwords"][slot % len(tokens["passwords"])]  # (email, password)
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
        self.votes: list[str] = []  # comment markers of votes answered 302
        self.uncertain_votes: list[str] = []
        self.sign_ins = 0
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
                refused = isinstance(exc, ConnectionRefusedError)
                if kind in self.tally.times and not refused:  # refused: the server was down
                    self.tally.times[kind].append((time.perf_counter() - start) * 1000.0)
                self.tally.exceptions[f"{kind}: {type(exc).__name__}"] += 1
                if refused:
                    time.sleep(0.2)  # being restarted: try again soon, as a person would
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

    def vote(self):
        """An anonymous reader answers "No" with a comment: one new vote row per session."""
        slug = self.rng.choice(self.slugs)
        marker = f"Vote {self.run_id} {self.next_marker()}"
        body = urlencode({"no": "No", "comment": marker}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        got = self.request("vote", "POST", f"/articles/{slug}/vote", body, headers)
        if got is None:
            self.uncertain_votes.append(marker)
        elif got[0] == 302 and "voted=1" in got[1].get("Location", ""):
            self.votes.append(marker)

    def sign_in(self):
        """An employee signs in with a password (a fresh browser: no cookies kept)."""
        email, password = self.employee
        body = urlencode({"email": email, "password": password, "next": ""}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        got = self.request("sign_in", "POST", "/login", body, headers)
        if got is not None and got[0] == 302 and "/login" not in got[1].get("Location", ""):
            self.sign_ins += 1

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

    # 3b. votes in the database (the comment is the marker)
    votes = [m for c in clients for m in c.votes]
    uncertain_votes = {m for c in clients for m in c.uncertain_votes}
    vote_rows = Counter(
        comment
        for (comment,) in db_query(
            dbname, "SELECT comment FROM votes WHERE comment LIKE %s", (f"Vote {run_id} %",)
        )
    )
    out["votes_created"] = len(votes)
    out["vote_problems"] = vp = [f"{m}: {vote_rows[m]} rows" for m in votes if vote_rows[m] != 1]
    vp += [f"unexpected vote {m}" for m in vote_rows if m not in set(votes) | uncertain_votes]
    vp += [f"{m}: {n} rows (request unanswered)" for m, n in vote_rows.items() if n > 1]
    out["sign_ins"] = sum(c.sign_ins for c in clients)

    # 4. edits: in the database, and found by search
    body_rows = dict(db_query(dbname, "SELECT slug, body_md FROM articles"))
    out["edits_saved"] = len(edits)
    out["edits_failed"] = sum(len(c.failed_edits) for c in clients)
    missing_db = [f"{s}:{m}" for s, m in edits if m not in body_rows.get(s, "")]
    out["edits_missing_in_db"] = missing_db
    sent_markers = {m for _, m in edits} | {m for c in clients for _, m in c.failed_edits}
    in_bodies = Counter(
        m for body in body_rows.values() for m in re.findall(r"load test (lt[a-z]{10})", body)
    )
    out["edits_unexpected"] = [m for m in in_bodies if m not in sent_markers]
    out["edits_unexpected"] += [f"{m} x{n}" for m, n in in_bodies.items() if n > 1]
    started = time.monotonic()
    waiting = list(edits)
    passes = 0
    answers: dict[str, str] = {}
    while waiting and time.monotonic() - started < CHECK_TIMEOUT:
        passes += 1
        still = []
        for slug, marker in waiting:
            status, data = get_json(port, "/api/v1/search?" + urlencode({"q": marker}))
            if status != 200 or slug not in [hit["slug"] for hit in data["results"]]:
                still.append((slug, marker))
                answers[marker] = (
                    f"{status}: total {data.get('total')}, "
                    f"results {[h['slug'] for h in data.get('results', [])][:3]}, "
                    f"related {[h['slug'] for h in data.get('related', [])][:3]}, "
                    f"suggestion {data.get('suggestion')!r}, notice {data.get('notice')!r}"
                    if isinstance(data, dict)
                    else f"{status}"
                )
        waiting = still
        if waiting:
            time.sleep(0.5)
    out["edits_not_found"] = [f"{s}:{m} ({answers.get(m)})" for s, m in waiting]
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


def verify_mail(dbname: str, sink: SmtpSink, timeout: float) -> dict:
    """Wait for the outbox to send everything it can, then compare it with what the sink got.

    A row still claimed by a process that was killed mid-send waits out its claim
    (--mail-claim: ten minutes as deployed, then it is reported, not waited for; with a
    short claim it is waited for and its resend checked)."""
    started = time.monotonic()
    claimed = []
    while True:
        unsent = db_query(
            dbname, "SELECT id, next_attempt_at FROM mail_outbox WHERE sent_at IS NULL"
        )
        # a claim holds a message for --mail-claim seconds; a retry after a failure waits
        # one, two, four minutes: whatever falls due within five minutes is waited for
        horizon = datetime.now(UTC) + timedelta(minutes=5)
        claimed = [i for i, due in unsent if _utc(due) > horizon]
        if len(unsent) == len(claimed) or time.monotonic() - started > timeout:
            break
        time.sleep(2)
    waited = round(time.monotonic() - started, 1)
    time.sleep(1)  # a send in flight reaches the sink
    rows = db_query(dbname, "SELECT id, message_id, sent_at, attempts FROM mail_outbox")
    key = {(mid or f"firstfix.{i}"): (i, sent, attempts) for i, mid, sent, attempts in rows}
    unsent = [i for i, _, sent, _ in rows if sent is None]
    not_received = [
        k for k, (_, sent, _) in key.items() if sent is not None and not sink.received[k]
    ]
    unknown = [k for k in sink.received if k not in key]
    duplicates = {k: n for k, n in sink.received.items() if n > 1}
    undocumented = [k for k in duplicates if k in key and key[k][2] < 2]
    return {
        "outbox": len(rows),
        "sent": len(rows) - len(unsent),
        "unsent": len(unsent),
        "received": sum(sink.received.values()),
        "not_received": len(not_received),
        "unknown": len(unknown),
        "duplicates": len(duplicates),
        "undocumented_duplicates": len(undocumented),
        "held_by_a_killed_claim": len(claimed),
        "retried": sum(1 for *_, attempts in rows if attempts and attempts > 1),
        "smtp_sessions": sink.sessions,
        "waited_s": waited,
    }


def _utc(value) -> datetime:
    """A timestamp from either database (SQLite gives text) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
    tokens["passwords"] = []
    for i in range(1, employees + 1):
        email = f"load-employee-{i}@example.com"
        password = secrets.token_urlsafe(12)
        tokens["passwords"].append((email, password))
        hb.flask_cli(
            env,
            *("users", "create", "--email", email, "--name", f"Load Employee {i}"),
            *("--role", "employee", "--password", password),
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


class Servers:
    """gunicorn, ``flask worker`` and (PostgreSQL) the indexer, startable again on the same
    port after a kill."""

    def __init__(self, args, env: dict[str, str], workdir: Path, state: dict) -> None:
        self.args, self.env, self.workdir, self.state = args, env, workdir, state
        self.gunicorn: hb.Gunicorn | None = None
        self.port: int | None = None
        self.helpers: list[subprocess.Popen] = []
        self.starts = 0

    def start(self) -> None:
        server = hb.Gunicorn(
            "portal:create_app()",
            self.env,
            self.args.workers,
            self.args.threads,
            self.workdir / "gunicorn.log",
            port=self.port,
        )
        self.port = server.port
        self.state["servers"].append(server)
        server.start("/healthz")
        self.gunicorn = server
        flask = str(Path(sys.executable).with_name("flask"))
        commands = [["worker"]]
        if self.args.db == "postgresql" and self.args.indexer:
            commands.append(["search", "sync", "--watch", "--interval", "1"])
        self.helpers = []
        for command in commands:
            log = open(self.workdir / f"{command[0]}.log", "ab")  # closed in cleanup()
            proc = subprocess.Popen(
                [flask, "--app", "portal", *command],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.state["processes"].append((proc, log))
            self.helpers.append(proc)
        self.starts += 1

    def kill_worker(self) -> int | None:
        workers = self.gunicorn.workers() if self.gunicorn else []
        if not workers:
            return None
        os.kill(workers[0], signal.SIGKILL)
        return workers[0]

    def kill_all(self) -> list[int]:
        """SIGKILL to the master, its workers and the helpers at once: a crash of the node."""
        pids = [self.gunicorn.proc.pid, *self.gunicorn.workers()] if self.gunicorn else []
        pids += [p.pid for p in self.helpers if p.poll() is None]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in [self.gunicorn.proc, *self.helpers]:
            proc.wait(timeout=10)
        for pid in pids:  # orphaned workers die with the master's socket; wait until gone
            deadline = time.monotonic() + 10
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return pids


def run(args, workdir: Path, state: dict) -> int:
    load_start = hb.loadavg()
    run_id = secrets.token_hex(4)
    staff_password = secrets.token_urlsafe(16)
    sink = SmtpSink()
    sink.up()
    state["sink"] = sink
    if args.db == "postgresql":
        dbname = f"firstfix_load_{run_id}"
        url = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{dbname}"
    else:
        dbname = str(workdir / "portal.db")  # WAL: the portal's own setting for SQLite files
        url = f"sqlite:///{dbname}"
    env = hb.clean_env(
        {
            "DATABASE_URL": url,
            "PORTAL_SEARCH_INDEX_DIR": str(workdir / "index"),
            "PORTAL_ATTACHMENTS_DIR": str(workdir / "attachments"),
            "PORTAL_SECRET_KEY": secrets.token_hex(16),
            "PORTAL_WTF_CSRF_ENABLED": "false",
            "PORTAL_RATELIMIT_ENABLED": "false",
            "PORTAL_MAIL_SERVER": "127.0.0.1",
            "PORTAL_MAIL_PORT": str(sink.port),
            "PORTAL_MAIL_TIMEOUT": "5",
            "PORTAL_MAIL_CLAIM_SECONDS": str(args.mail_claim),
            "PORTAL_WORKER_SEND_INTERVAL": "5",
            "PORTAL_ADMIN_EMAIL": "load-admin@example.com",
            "PORTAL_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        }
    )
    if args.db == "postgresql":
        note(f"creating database {dbname}")
        create_database(dbname)
        state["dbname"] = dbname
    tokens = seed(env, args.employees, staff_password)
    if args.db == "sqlite":
        mode = db_query(dbname, "PRAGMA journal_mode")[0][0]
        note(f"SQLite journal mode: {mode}")
    slugs = [
        slug
        for (slug,) in db_query(
            dbname,
            "SELECT slug FROM articles WHERE status = 'published' AND visibility = 'everyone' "
            "ORDER BY slug",
        )
    ]
    queries = sorted({q.text for q in synthetic.queries(random.Random(args.seed), 400)})

    servers = Servers(args, env, workdir, state)
    servers.start()
    note(f"gunicorn on 127.0.0.1:{servers.port} ({servers.gunicorn.settings}), flask worker")

    clients = [
        Client(
            i,
            servers.port,
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
    # (seconds into the run, action): kills and the mail server's outage
    plan = []
    if args.kill:
        plan += [(args.seconds / 4, "kill_worker"), (args.seconds / 2, "kill_all")]
    if args.smtp_outage:
        plan += [(args.seconds / 4, "smtp_down"), (args.seconds / 2, "smtp_up")]
    plan.sort()
    events: list[dict] = []
    stop = threading.Event()
    state["stop"] = stop
    started = time.monotonic()
    deadline = started + args.seconds
    threads = [threading.Thread(target=c.run, args=(deadline, stop), daemon=True) for c in clients]
    for t in threads:
        t.start()
    next_note = started + 15
    while any(t.is_alive() for t in threads):
        now = time.monotonic()
        if now > deadline + REQUEST_TIMEOUT + 15:
            stop.set()
            break
        while plan and now - started >= plan[0][0]:
            _, action = plan.pop(0)
            events.append(act(action, servers, sink, started))
        if now > next_note:
            done = sum(len(v) for c in clients for v in c.tally.times.values())
            note(f"{now - started:4.0f} s: {done} requests, load {hb.loadavg()}")
            next_note += 15
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT + 5)
    elapsed = time.monotonic() - started
    load_after = hb.loadavg()
    workers_rss = [{"pid": pid, **hb.proc_status(pid)} for pid in servers.gunicorn.workers()]

    note("verifying")
    checks = verify(servers.port, dbname, env, clients, tokens["staff"], run_id)
    note("waiting for the outbox to send everything")
    checks["mail"] = verify_mail(dbname, sink, MAIL_DRAIN_TIMEOUT)
    if args.db == "sqlite":
        checks["integrity"] = db_query(dbname, "PRAGMA integrity_check")[0][0]
    log_full = (workdir / "gunicorn.log").read_text(errors="replace")
    server_log = {
        "worker_timeouts": log_full.count("WORKER TIMEOUT"),
        "tracebacks": log_full.count("Traceback (most recent call last)"),
        "errors": sum(" ERROR " in line for line in log_full.splitlines()),
    }
    log_text = log_full[-2500:] if checks["5xx"] or server_log["tracebacks"] else ""
    report(
        args,
        clients,
        elapsed,
        checks,
        servers.gunicorn.settings,
        (load_start, load_after),
        workers_rss,
        events,
        (server_log, log_text),
    )
    mail = checks["mail"]
    ok = (
        checks["5xx"] == 0
        and not checks["incident_problems"]
        and not checks["reply_problems"]
        and not checks["vote_problems"]
        and not checks["edits_missing_in_db"]
        and not checks["edits_unexpected"]
        and not checks["edits_not_found"]
        and checks["search_check"]["exit"] == 0
        and checks.get("integrity", "ok") == "ok"
        and mail["not_received"] == 0
        and mail["unknown"] == 0
        and mail["undocumented_duplicates"] == 0
        and (
            mail["unsent"] == 0 or (args.kill and mail["unsent"] == mail["held_by_a_killed_claim"])
        )
    )
    return 0 if ok else 1


def act(action: str, servers: Servers, sink: SmtpSink, started: float) -> dict:
    at = round(time.monotonic() - started, 1)
    event: dict = {"at_s": at, "action": action}
    if action == "kill_worker":
        event["pid"] = servers.kill_worker()
    elif action == "kill_all":
        event["pids"] = servers.kill_all()
        t0 = time.monotonic()
        servers.start()
        event["restart_s"] = round(time.monotonic() - t0, 1)
    elif action == "smtp_down":
        sink.down()
    elif action == "smtp_up":
        sink.up()
    note(f"{at:4.0f} s: {action} {event}")
    return event


def report(args, clients, elapsed, checks, settings, loads, workers_rss, events, logs):
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
    others = ops["vote"] + ops["sign_in"]
    edits = ops["edit_form"]
    n_ops = reads + writes_inc + others + edits or 1
    database = "SQLite (WAL)" if args.db == "sqlite" else "PostgreSQL"
    indexer = args.db == "postgresql" and args.indexer
    p = print
    p()
    p(
        f"Firstfix load test: gunicorn {settings} on {database}, {args.clients} client threads "
        f"for {elapsed:.1f} s, starter library, flask worker, indexer {'on' if indexer else 'off'}"
        f"{', kill -9' if args.kill else ''}{', SMTP outage' if args.smtp_outage else ''}"
    )
    p(
        f"  machine: {os.cpu_count()} cores; load average (1/5/15 min) {l0} at start, {l1} "
        f"after the load; the clients share the cores with the servers and PostgreSQL"
    )
    p(
        f"  mix of operations: reads {reads / n_ops:.0%}, incidents and replies "
        f"{writes_inc / n_ops:.0%}, votes and sign-ins {others / n_ops:.0%}, edits "
        f"{edits / n_ops:.0%} (target 65/18/12/5)"
    )
    for event in events:
        p(f"  at {event['at_s']:5.1f} s: {event['action']} {event}")
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
    p(
        f"  votes: {checks['votes_created']} recorded, each exactly once in the database, "
        f"nothing extra: {mark(not checks['vote_problems'])}; sign-ins: {checks['sign_ins']}"
    )
    for line in checks["vote_problems"][:10]:
        p(f"    {line}")
    edits_ok = not (
        checks["edits_missing_in_db"] or checks["edits_not_found"] or checks["edits_unexpected"]
    )
    p(
        f"  article edits: {checks['edits_saved']} saved ({checks['edits_failed']} refused or "
        f"unanswered), {len(checks['edits_missing_in_db'])} markers missing from the database, "
        f"{len(checks['edits_unexpected'])} unexpected, "
        f"{len(checks['edits_not_found'])} not found by searching for the marker "
        f"({checks['edits_search_passes']} pass(es) over the markers right after the load, "
        f"{checks['edits_found_s']} s): {mark(edits_ok)}"
    )
    for line in (
        checks["edits_missing_in_db"] + checks["edits_not_found"] + checks["edits_unexpected"]
    )[:10]:
        p(f"    {line}")
    sc = checks["search_check"]
    p(
        f"  flask --app portal search check: exit {sc['exit']} after {len(sc['attempts'])} "
        f"attempt(s) {sc['attempts']}: {sc['output']}: {mark(sc['exit'] == 0)}"
    )
    if "integrity" in checks:
        p(f"  PRAGMA integrity_check: {checks['integrity']}: {mark(checks['integrity'] == 'ok')}")
    m = checks["mail"]
    mail_ok = not (m["not_received"] or m["unknown"] or m["undocumented_duplicates"])
    mail_ok = mail_ok and (
        m["unsent"] == 0 or (args.kill and m["unsent"] == m["held_by_a_killed_claim"])
    )
    p(
        f"  mail: {m['outbox']} in the outbox, {m['sent']} sent ({m['unsent']} unsent, of which "
        f"{m['held_by_a_killed_claim']} held by the claim of a killed sender), {m['received']} "
        f"received by the sink in {m['smtp_sessions']} sessions; {m['not_received']} marked sent "
        f"but never received, {m['unknown']} unknown, {m['duplicates']} received twice "
        f"({m['undocumented_duplicates']} without a retry in the outbox), {m['retried']} "
        f"retried; waited {m['waited_s']} s: {mark(mail_ok)}"
    )
    rss = [m.get("VmRSS", 0.0) for m in workers_rss]
    p("  RSS per gunicorn worker after the load: " + ", ".join(f"{x:.0f} MB" for x in rss))
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
        "votes_created": checks["votes_created"],
        "vote_problems": len(checks["vote_problems"]),
        "sign_ins": checks["sign_ins"],
        "edits_unexpected": len(checks["edits_unexpected"]),
        "mail": checks["mail"],
        "integrity": checks.get("integrity"),
        "events": events,
        "db": args.db,
        "edits_saved": checks["edits_saved"],
        "edits_missing_in_db": len(checks["edits_missing_in_db"]),
        "edits_not_found": len(checks["edits_not_found"]),
        "edits_found_s": checks["edits_found_s"],
        "search_check_exit": sc["exit"],
        "rss_workers_mb": [round(x, 1) for x in rss],
        "server_log": server_log,
        "clients": args.clients,
        "gunicorn": settings,
        "indexer": indexer,
        "cores": os.cpu_count(),
        "loadavg_start": l0,
        "loadavg_end": l1,
    }
    print(json.dumps(result), flush=True)


def cleanup(state: dict, workdir: Path, keep: bool = False) -> None:
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
    if state.get("sink") is not None:
        state["sink"].down()
    if state.get("dbname"):
        try:
            drop_database(state["dbname"])
            note(f"dropped database {state['dbname']}")
        except Exception as exc:
            print(f"could not drop database {state['dbname']}: {exc}", file=sys.stderr)
    if keep:
        print(f"kept {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (2 on SQLite, 4 on PostgreSQL)"
    )
    parser.add_argument("--threads", type=int, default=4, help="per worker; 1 = sync workers")
    parser.add_argument("--employees", type=int, default=3, help="employee accounts")
    parser.add_argument(
        "--no-indexer",
        dest="indexer",
        action="store_false",
        help="do not run `flask search sync --watch` beside gunicorn",
    )
    parser.add_argument("--kill", action="store_true", help="kill -9 a worker, then the server")
    parser.add_argument(
        "--smtp-outage", action="store_true", help="the mail server down for a quarter of the run"
    )
    parser.add_argument(
        "--mail-claim",
        type=float,
        default=600.0,
        help="seconds a sender holds a claimed message (MAIL_CLAIM_SECONDS; 600 as deployed): "
        "shorter, with --kill, waits for the resend of what a killed sender held",
    )
    parser.add_argument("--keep", action="store_true", help="keep the folder (logs, SQLite)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = 2 if args.db == "sqlite" else 4
    if not 1 <= args.seconds <= 3600:
        parser.error("--seconds must be 1..3600")
    if min(args.clients, args.workers, args.threads, args.employees) < 1:
        parser.error("--clients, --workers, --threads and --employees must be >= 1")

    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="firstfix-load-"))
    state: dict = {"servers": [], "processes": [], "dbname": None, "stop": None, "sink": None}
    try:
        return run(args, workdir, state)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers and dropping the database", file=sys.stderr)
        return 130
    finally:
        cleanup(state, workdir, args.keep)


if __name__ == "__main__":
    raise SystemExit(main())
