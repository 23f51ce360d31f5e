"""Fault bench: damage the search index while it serves, and count what users would notice.

    python bench/faults.py [--threads 6] [--settle 5] [--phase 20] [--workers 2]
                           [--server-threads 4] [--only NAME ...]

The default `make run` settings: a throwaway SQLite database in WAL mode with the starter
library (``flask db upgrade`` and ``flask setup``), ``gunicorn --workers 2 --threads 4
'portal:create_app()'`` on a free 127.0.0.1 port. --threads client threads search without a
pause, every query unique (two words of one of the library's titles that the healthy index
answers with a match, and a unique tail of punctuation, so no answer comes from a cache),
alternating ``GET /api/v1/search`` and the search page ``GET /search``; a monitor polls
``GET /healthz`` every 0.25 s. After --settle healthy seconds, each phase does
one fault to the live index and keeps searching for --phase seconds:

- whole ``search-index`` folder deleted;
- every file of the live build overwritten with random bytes;
- the live build folder deleted, ``CURRENT`` still naming it;
- ``CURRENT`` naming a folder that does not exist;
- every file of the live build truncated to 0 bytes.

Per phase it prints the searches, the 5xx and failed connections, the answers given by the
plain database search (with a notice), the answers that found nothing (every query's words
found a match before the faults, so an empty answer means a damaged index answered), the
rebuilds logged by the servers, the time until ``CURRENT`` names a new complete build, the
health polls that said "degraded", the recovery time (from the fault to the last answer
that was not a normal one from the index) and the slowest search after the fault. Targets:
0 5xx, 0 empty answers, 1 rebuild, rebuilt and recovered within 10 s. The last line is JSON.
Everything runs in a temporary folder, bounded in time, and is stopped at the end.
"""

# ruff: noqa: E402
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
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_bench as hb

REQUEST_TIMEOUT = 15.0
TARGET_RECOVERY_S = 10.0
REBUILT = "search index rebuilt"
NOTICE = b"simpler mode"


# -- faults ----------------------------------------------------------------------------------


def live_build(index: Path) -> Path:
    return index / (index / "CURRENT").read_text().strip()


def _remove(folder: Path) -> None:
    """Gone at once for the servers (a rename is atomic), then deleted: a server that starts
    writing into the folder meanwhile cannot make the removal fail half-way."""
    gone = folder.with_name(f".{folder.name}-removed-{secrets.token_hex(4)}")
    os.rename(folder, gone)
    shutil.rmtree(gone, ignore_errors=True)


def delete_folder(index: Path) -> None:
    _remove(index)


def random_bytes(index: Path) -> None:
    for path in live_build(index).iterdir():
        size = max(64, path.stat().st_size)
        with open(path, "r+b") as fh:  # in place, as a faulty disk or a stray `dd` would
            fh.write(os.urandom(size))


def delete_live_build(index: Path) -> None:
    _remove(live_build(index))


def current_names_nothing(index: Path) -> None:
    (index / "CURRENT").write_text("ix-20000101000000-00000000")


def truncate(index: Path) -> None:
    for path in live_build(index).iterdir():
        os.truncate(path, 0)


FAULTS = {
    "folder_deleted": ("whole search-index folder deleted", delete_folder),
    "random_bytes": ("every file of the live build overwritten with random bytes", random_bytes),
    "live_build_deleted": ("live build folder deleted, CURRENT still naming it", delete_live_build),
    "current_missing": ("CURRENT naming a folder that does not exist", current_names_nothing),
    "truncated": ("every file of the live build truncated to 0 bytes", truncate),
}


# -- traffic ---------------------------------------------------------------------------------


@dataclass
class Answer:
    at: float
    kind: str  # "index", "fallback", "empty", "5xx", "error"
    ms: float = 0.0


@dataclass
class Log:
    answers: list[Answer] = field(default_factory=list)
    health: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[str] = field(default_factory=list)

    def add(self, at: float, kind: str, sample: str = "", ms: float = 0.0) -> None:
        with self.lock:
            self.answers.append(Answer(at, kind, ms))
            if sample and len(self.samples) < 10:
                self.samples.append(sample)


def get(conn_holder: list, port: int, path: str) -> tuple[int, bytes]:
    """(status, body) over a kept-alive connection, reconnecting after a failure."""
    if not conn_holder:
        conn_holder.append(http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT))
    conn = conn_holder[0]
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        conn_holder.clear()
        raise


def unique_tail(n: int) -> str:
    """Punctuation that makes a query unique (no answer from a cache) without adding a word:
    a number would be a concept of its own, and pull the meaning score down."""
    marks = ".,;:!?-"
    out = []
    while True:
        n, digit = divmod(n, len(marks))
        out.append(marks[digit])
        if not n:
            return "".join(out)


def searcher(
    slot: int, port: int, pairs: list[tuple[str, str]], log: Log, stop: threading.Event
) -> None:
    rng = random.Random(slot)
    holder: list = []
    n = 0
    while not stop.is_set():
        n += 1
        q = f"{' '.join(rng.choice(pairs))} {unique_tail(slot * 1_000_000 + n)}"
        api = n % 2 == 0
        path = ("/api/v1/search?" if api else "/search?") + urlencode({"q": q})
        sent = time.monotonic()
        try:
            status, body = get(holder, port, path)
        except (OSError, http.client.HTTPException) as exc:
            log.add(time.monotonic(), "error", f"{path}: {exc!r}")
            time.sleep(0.05)
            continue
        now = time.monotonic()
        ms = (now - sent) * 1000.0
        if status >= 500:
            kind, sample = "5xx", f"{path}: {status} {body[:120]!r}"
        elif status != 200:
            kind, sample = "error", f"{path}: {status}"
        elif api:
            data = json.loads(body)
            if data.get("notice"):
                kind, sample = "fallback", ""
            elif not data["results"]:
                kind, sample = "empty", f"{path}: no results"
            else:
                kind, sample = "index", ""
        elif NOTICE in body:
            kind, sample = "fallback", ""
        elif b'class="hits"' not in body:
            kind, sample = "empty", f"{path}: no results"
        else:
            kind, sample = "index", ""
        log.add(now, kind, sample, ms)
    if holder:
        holder[0].close()


def monitor(port: int, log: Log, stop: threading.Event) -> None:
    holder: list = []
    while not stop.is_set():
        try:
            status, body = get(holder, port, "/healthz")
            state = json.loads(body).get("status", "?") if status in (200, 503) else str(status)
        except (OSError, http.client.HTTPException, ValueError):
            state = "no answer"
        with log.lock:
            log.health.append((time.monotonic(), state))
        stop.wait(0.25)


def title_pairs(dbfile: Path, port: int) -> list[tuple[str, str]]:
    """Pairs of words of one public title that the healthy index answers with a match.
    Not every pair does under the relevance bar ("shows allowed", of "Screen sharing shows
    black, is greyed out or not allowed", is too vague in meaning), so each is asked once
    before the faults; an empty answer later then means a damaged index answered."""
    import itertools
    import sqlite3

    with sqlite3.connect(dbfile) as conn:
        titles = [
            t
            for (t,) in conn.execute(
                "SELECT title FROM articles WHERE status = 'published' AND visibility = 'everyone'"
            )
        ]
    holder: list = []
    pairs = []
    for title in titles:
        words = sorted(set(re.findall(r"[a-z]{4,}", title.lower())))
        for pair in itertools.combinations(words, 2):
            status, body = get(holder, port, "/api/v1/search?" + urlencode({"q": " ".join(pair)}))
            if status == 200 and json.loads(body)["results"]:
                pairs.append(pair)
    holder[0].close()
    return pairs


def exceptions(server_log: str) -> Counter:
    """The last line of each traceback in the servers' log, counted."""
    found: Counter = Counter()
    for block in server_log.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in block.splitlines() if line and not line.startswith(" ")]
        if lines:
            found[lines[0][:140]] += 1
    return found


# -- the run ---------------------------------------------------------------------------------


def rebuilt_within(index: Path, before: str | None, seconds: float) -> float | None:
    """Seconds until CURRENT names a new, complete build (None if not within ``seconds``)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            name = (index / "CURRENT").read_text().strip()
            if name != before and (index / name / "version").is_file():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.02)
    return None


def current(index: Path) -> str | None:
    try:
        return (index / "CURRENT").read_text().strip()
    except OSError:
        return None


def phase_figures(log: Log, start: float, end: float, fault_at: float, server_log: str) -> dict:
    answers = [a for a in log.answers if start <= a.at < end]
    after = sorted(a.ms for a in answers if a.at >= fault_at and a.kind != "error")
    kinds = Counter(a.kind for a in answers)
    bad = [a.at for a in answers if a.at >= fault_at and a.kind != "index"]
    health = [s for t, s in log.health if fault_at <= t < end]
    tail = [a for a in answers if a.at >= end - 3]
    recovered = bool(tail) and all(a.kind == "index" for a in tail)
    return {
        "searches": len(answers),
        "5xx": kinds["5xx"],
        "errors": kinds["error"],
        "fallback": kinds["fallback"],
        "empty": kinds["empty"],
        "rebuilds": server_log.count(REBUILT),
        "health_polls": len(health),
        "health_degraded": sum(s == "degraded" for s in health),
        "health_other": sum(s not in ("ok", "degraded") for s in health),
        "recovery_s": round(max(bad) - fault_at, 2) if bad else 0.0,
        "p99_ms": round(hb.pct(after, 99), 1) if after else None,
        "max_ms": round(after[-1], 1) if after else None,
        "recovered": recovered,
    }


def run(args, workdir: Path, state: dict) -> int:
    load_start = hb.loadavg()
    index = workdir / "search-index"
    dbfile = workdir / "portal.db"
    env = hb.clean_env(
        {
            "DATABASE_URL": f"sqlite:///{dbfile}",
            "PORTAL_SEARCH_INDEX_DIR": str(index),
            "PORTAL_ATTACHMENTS_DIR": str(workdir / "attachments"),
            "PORTAL_SECRET_KEY": secrets.token_hex(16),
            "PORTAL_RATELIMIT_ENABLED": "false",
            "PORTAL_MAIL_SEND_AFTER_COMMIT": "false",
            "PORTAL_ADMIN_EMAIL": "faults-admin@example.com",
            "PORTAL_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        }
    )
    hb.note("flask db upgrade, setup (starter library)")
    hb.flask_cli(env, "db", "upgrade")
    hb.flask_cli(env, "setup")
    server_log = workdir / "gunicorn.log"
    server = hb.Gunicorn("portal:create_app()", env, args.workers, args.server_threads, server_log)
    state["server"] = server
    server.start("/healthz")
    words = title_pairs(dbfile, server.port)
    hb.note(f"gunicorn on 127.0.0.1:{server.port} ({server.settings}), {len(words)} title pairs")

    log = Log()
    stop = threading.Event()
    state["stop"] = stop
    threads = [
        threading.Thread(target=searcher, args=(i, server.port, words, log, stop), daemon=True)
        for i in range(args.threads)
    ]
    threads.append(threading.Thread(target=monitor, args=(server.port, log, stop), daemon=True))
    for t in threads:
        t.start()
    phases = []
    chosen = args.only or list(FAULTS)
    try:
        time.sleep(args.settle)
        for name in chosen:
            title, fault = FAULTS[name]
            offset = len(server_log.read_bytes())
            start = time.monotonic()
            time.sleep(1.0)  # a second of normal answers before the fault
            before = current(index)
            fault_at = time.monotonic()
            fault(index)
            hb.note(f"{name}: {title} (load {hb.loadavg()})")
            rebuilt = rebuilt_within(index, before, args.phase)
            time.sleep(max(0.0, fault_at + args.phase - time.monotonic()))
            end = time.monotonic()
            text = server_log.read_bytes()[offset:].decode(errors="replace")
            figures = phase_figures(log, start, end, fault_at, text)
            figures["rebuilt_s"] = round(rebuilt, 2) if rebuilt is not None else None
            phases.append({"fault": name, "what": title, **figures})
            hb.note(f"{name}: {figures}")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=REQUEST_TIMEOUT + 2)
    load_end = hb.loadavg()
    full = server_log.read_text(errors="replace")
    report(args, phases, server.settings, (load_start, load_end), log, full)
    ok = all(
        p["5xx"] == 0
        and p["errors"] == 0
        and p["empty"] == 0
        and p["rebuilds"] == 1
        and p["recovered"]
        and p["recovery_s"] <= TARGET_RECOVERY_S
        and p["rebuilt_s"] is not None
        and p["rebuilt_s"] <= TARGET_RECOVERY_S
        for p in phases
    )
    return 0 if ok else 1


def report(args, phases, settings, loads, log: Log, server_log: str) -> None:
    p = print
    p()
    p(
        f"Firstfix fault bench: gunicorn {settings} on SQLite (WAL), starter library, "
        f"{args.threads} threads searching unique queries, /healthz polled every 0.25 s"
    )
    p(f"  machine: {os.cpu_count()} cores; load average {loads[0]} at start, {loads[1]} at end")
    p()
    head = (
        f"  {'fault':<62}{'searches':>9}{'5xx':>5}{'err':>5}{'db':>6}{'empty':>6}"
        f"{'rebuilds':>9}{'rebuilt':>9}{'degraded':>10}{'recovery':>10}{'max ms':>8}"
    )
    p(head)
    for ph in phases:
        health = f"{ph['health_degraded']}/{ph['health_polls']}"
        recovery = f"{ph['recovery_s']:.1f} s" if ph["recovered"] else "none"
        rebuilt = f"{ph['rebuilt_s']:.1f} s" if ph["rebuilt_s"] is not None else "no"
        p(
            f"  {ph['what']:<62}{ph['searches']:>9,}{ph['5xx']:>5}{ph['errors']:>5}"
            f"{ph['fallback']:>6}{ph['empty']:>6}{ph['rebuilds']:>9}{rebuilt:>9}{health:>10}"
            f"{recovery:>10}{ph['max_ms'] or 0:>8.0f}"
        )
    p()
    p(
        "  db: answered by the plain database search with a notice; empty: no result although "
        "the healthy index matched the query's words; rebuilt: fault to a new build in CURRENT; "
        "degraded: /healthz polls saying so after the fault; recovery: fault to the last "
        "answer not given normally by the index (0: none); max ms: slowest search after the "
        "fault"
    )
    for line in log.samples[:5]:
        p(f"  sample: {line}")
    p(
        f"  server log: {server_log.count('Traceback (most recent call last)')} tracebacks, "
        f"{server_log.count('WORKER TIMEOUT')} worker timeouts, {server_log.count(REBUILT)} "
        "rebuilds in all"
    )
    for line, n in exceptions(server_log).most_common(8):
        p(f"    {n} x {line}")
    p()
    print(
        json.dumps(
            {
                "phases": phases,
                "gunicorn": settings,
                "threads": args.threads,
                "loadavg_start": loads[0],
                "loadavg_end": loads[1],
            }
        ),
        flush=True,
    )


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=6, help="client threads searching")
    parser.add_argument("--settle", type=float, default=5.0, help="healthy seconds first")
    parser.add_argument("--phase", type=float, default=20.0, help="seconds after each fault")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=4, help="per gunicorn worker")
    parser.add_argument("--only", nargs="+", choices=list(FAULTS), help="these faults only")
    args = parser.parse_args(argv)
    if not (1 <= args.threads <= 64 and 1 <= args.phase <= 600 and 0 <= args.settle <= 600):
        parser.error("--threads 1..64, --phase 1..600, --settle 0..600")
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="firstfix-faults-"))
    state: dict = {}
    try:
        return run(args, workdir, state)
    except KeyboardInterrupt:
        print("interrupted: stopping the server", file=sys.stderr)
        return 130
    finally:
        if state.get("stop") is not None:
            state["stop"].set()
        if state.get("server") is not None:
            state["server"].stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
