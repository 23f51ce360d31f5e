"""HTTP benchmark: the portal under gunicorn against a bare Flask route, same settings, same run.

    python bench/http_bench.py [--articles 1000] [--seconds 20] [--concurrency 8] [--workers 2]
                         [--threads 4] [--queries 8000] [--rounds 3] [--library synthetic|starter]
                         [--generator auto|wrk|python] [--seed 42]

Builds a throwaway SQLite database and index (a temporary folder) holding N synthetic support
articles (bench/synthetic.py, seeded) or the starter library (`flask db upgrade` + `setup`),
then, one server after the other on free 127.0.0.1 ports:

1. the portal, ``gunicorn --workers 2 --threads 4 'portal:create_app()'`` (the settings of
   `make run`), driven for --seconds each on ``GET /api/v1/search?q=...`` and the search page
   ``GET /search?q=...``, rotating through --queries distinct realistic queries (more than
   the 512 answers each worker caches, so every request is a real search), and its
   ``GET /healthz`` the same way (the reference of issue 12: the search page >= 50% of
   its requests per second, the API >= 60%); the three take turns in --rounds rounds
   (rotated order) within their --seconds, since this machine's speed swings within a
   minute;
2. bench/bare_app.py (one JSON route) with the same gunicorn settings, driven the same way.

The load generator is wrk (Debian package ``wrk``; a Lua script picks the queries) when it is
on PATH, else a bounded Python one (threads, http.client keep-alive), on loopback with
--concurrency connections. Prints requests/s, p50/p95/p99 latency and errors per endpoint,
the ratio portal/bare (target >= 60%), p95 (target < 50 ms), errors (target 0), the resident
memory of each gunicorn worker after its run (target < 150 MB) and the load average beside
the figures; the last line is JSON: ``rps`` is the lower of the two portal endpoints' req/s,
``p95_ms`` the higher of their p95s, ``errors`` the sum over all runs, plus per-endpoint
figures.
"""

# ruff: noqa: E402

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 90.0  # seconds for gunicorn to answer its health path
REQUEST_TIMEOUT = 10.0  # seconds per request (wrk --timeout, http.client timeout)
CLI_TIMEOUT = 900.0  # a saturated shared machine: flask setup took > 300 s once
TARGET_RATIO = 0.60
# issue 12: against the portal's own GET /healthz on the same server, in the same run
TARGET_API_VS_HEALTH = 0.60
TARGET_PAGE_VS_HEALTH = 0.50
TARGET_P95_MS = 50.0
TARGET_RSS_MB = 150.0
CACHE_PER_WORKER = 512  # SEARCH_CACHE_SIZE default: answers kept per worker process


# -- small helpers -------------------------------------------------------------------------


def note(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_gunicorn() -> str:
    exe = Path(sys.executable).with_name("gunicorn")
    found = str(exe) if exe.exists() else shutil.which("gunicorn")
    if not found:
        raise SystemExit("gunicorn not found next to this Python or on PATH")
    return found


def flask_cli(env: dict[str, str], *args: str) -> str:
    exe = Path(sys.executable).with_name("flask")
    cmd = [str(exe) if exe.exists() else "flask", "--app", "portal", *args]
    done = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd[1:])} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM and RssAnon (private, not file-backed) of a process in MB."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon"):
                    out[key] = int(value.split()[0]) / 1024.0
    except OSError:
        pass
    return out


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (gunicorn's workers)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        found = [int(x) for x in text.split()]
    except OSError:
        found = []
    if found:
        return sorted(found)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without any portal configuration, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PORTAL_")
    }
    return env | extra


# -- servers -------------------------------------------------------------------------------


class Gunicorn:
    """One gunicorn master on a free 127.0.0.1 port; a context manager that always stops it."""

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        workers: int,
        threads: int,
        log: Path,
        port: int | None = None,
    ):
        self.port = port or free_port()  # a port again: a restart where clients expect it
        self.log = log
        worker_class = "gthread" if threads > 1 else "sync"
        self.settings = f"--workers {workers} --worker-class {worker_class} --threads {threads}"
        self.cmd = [
            find_gunicorn(),
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
            app,
        ]
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, health: str) -> Gunicorn:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.cmd, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}: {self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", health)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return self
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer {health}: {self.tail()}")
            time.sleep(0.2)

    def workers(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# -- load generators -----------------------------------------------------------------------

WRK_SCRIPT = """
local paths = {
%(paths)s
}
local n = #paths
local counter = 0
local created = 0

function setup(thread)
  thread:set("tid", created)
  created = created + 1
end

function init(args)
  local threads = tonumber(args[1]) or 1
  counter = math.floor((tonumber(tid) or 0) * n / threads)
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% n) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"connect\\": %%d, \\"read\\": %%d, "
    .. "\\"write\\": %%d, \\"status\\": %%d, \\"timeout\\": %%d, \\"p50_us\\": %%d, "
    .. "\\"p95_us\\": %%d, \\"p99_us\\": %%d, \\"mean_us\\": %%.1f, \\"max_us\\": %%d}\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean,
    latency.max))
end
"""


def run_wrk(port: int, paths: list[str], seconds: float, concurrency: int, workdir: Path):
    threads = max(1, min(concurrency, os.cpu_count() or 1, 4))
    script = workdir / f"paths-{port}-{len(paths)}.lua"
    # the paths are URL-encoded: no quote or backslash can end the Lua string early
    script.write_text(WRK_SCRIPT % {"paths": ",\n".join(f'"{p}"' for p in paths)})
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(concurrency),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        f"{int(REQUEST_TIMEOUT)}s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        str(threads),
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 60, check=False, cwd=workdir
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if done.returncode or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-800:]}{done.stderr}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    elapsed = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": elapsed,
        "rps": raw["requests"] / elapsed if elapsed else 0.0,
        "p50_ms": raw["p50_us"] / 1000.0,
        "p95_ms": raw["p95_us"] / 1000.0,
        "p99_ms": raw["p99_us"] / 1000.0,
        "mean_ms": raw["mean_us"] / 1000.0,
        "max_ms": raw["max_us"] / 1000.0,
        "errors": raw["status"] + socket_errors,
        "non_2xx": raw["status"],
        "socket_errors": socket_errors,
        "generator": f"wrk -t {threads} -c {concurrency}",
    }


def run_python(port: int, paths: list[str], seconds: float, concurrency: int):
    """``concurrency`` threads, each with one keep-alive http.client connection, until the
    deadline; a request counts as an error unless it answers 200 with a body."""
    deadline = time.monotonic() + seconds
    per_thread: list[tuple[list[float], int, int]] = [([], 0, 0)] * concurrency

    def worker(slot: int) -> None:
        times: list[float] = []
        non_2xx = socket_errors = 0
        k = slot * len(paths) // concurrency
        conn: http.client.HTTPConnection | None = None
        while time.monotonic() < deadline:
            path = paths[k % len(paths)]
            k += 1
            start = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
                conn.request("GET", path)
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or not body:
                    non_2xx += 1
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                socket_errors += 1
                if conn is not None:
                    conn.close()
                conn = None
            times.append((time.perf_counter() - start) * 1000.0)
        if conn is not None:
            conn.close()
        per_thread[slot] = (times, non_2xx, socket_errors)

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=seconds + REQUEST_TIMEOUT + 10)
    elapsed = time.monotonic() - started
    times = [ms for slot in per_thread for ms in slot[0]]
    non_2xx = sum(slot[1] for slot in per_thread)
    socket_errors = sum(slot[2] for slot in per_thread)
    return {
        "requests": len(times),
        "seconds": elapsed,
        "rps": len(times) / elapsed if elapsed else 0.0,
        "p50_ms": pct(times, 50),
        "p95_ms": pct(times, 95),
        "p99_ms": pct(times, 99),
        "mean_ms": statistics.fmean(times) if times else float("nan"),
        "max_ms": max(times, default=float("nan")),
        "errors": non_2xx + socket_errors,
        "non_2xx": non_2xx,
        "socket_errors": socket_errors,
        "generator": f"python, {concurrency} threads with keep-alive",
    }


def drive(args, port: int, paths: list[str], seconds: float, workdir: Path) -> dict:
    if args.generator == "wrk":
        return run_wrk(port, paths, seconds, args.concurrency, workdir)
    return run_python(port, paths, seconds, args.concurrency)


# -- the library and the queries -----------------------------------------------------------


def build_library(args, workdir: Path, env: dict[str, str]) -> int:
    """SQLite database + index in workdir; returns the number of articles."""
    if args.library == "starter":
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "setup")
        import sqlite3

        with sqlite3.connect(workdir / "bench.db") as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]

    import search as bench_search  # bench/search.py: the same bulk loader as the search bench
    import synthetic
    from flask_migrate import upgrade

    from portal import create_app
    from portal import search as portal_search
    from portal.extensions import db

    rng = random.Random(args.seed)
    articles, _items = synthetic.library(rng, args.articles, args.vocabulary)
    html = bench_search.render_all([a.body_md for a in articles])
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["PORTAL_SQLALCHEMY_DATABASE_URI"],
            "SEARCH_INDEX_DIR": env["PORTAL_SEARCH_INDEX_DIR"],
            "SECRET_KEY": "bench",
        }
    )
    import logging

    with app.app_context():
        upgrade()
        logging.getLogger().setLevel(logging.WARNING)
        bench_search.insert_library(articles, html)
        count = portal_search.rebuild()
        portal_search.store().close()
        db.session.remove()
        db.engine.dispose()
    return count


def query_paths(args, count: int, seed: int) -> tuple[list[str], list[str]]:
    """``count`` distinct realistic queries (some with a typo, a phrase, a prefix or a
    category filter) as API and search-page paths."""
    import synthetic

    from portal.articles.services import slugify

    slugs = {name: slugify(name) for name, _ in synthetic.categories()}
    items = None
    if args.library == "synthetic":
        items = synthetic.library_items(random.Random(args.seed), args.articles, args.vocabulary)
    rng = random.Random(seed)
    seen: dict[tuple[str, str | None], None] = {}
    for _ in range(count * 20):
        q = synthetic.query(rng, items)
        seen.setdefault((q.text, slugs.get(q.category) if q.category else None), None)
        if len(seen) >= count:
            break
    api, page = [], []
    for text, category in seen:
        params = {"q": text} | ({"category": category} if category else {})
        api.append("/api/v1/search?" + urlencode(params))
        page.append("/search?" + urlencode(params))
    return api, page


# -- the run -------------------------------------------------------------------------------


def measure(args, server: Gunicorn, label: str, paths, warm_paths, workdir: Path) -> dict:
    note(f"{label}: warm-up {args.warmup:g} s, then {args.seconds:g} s")
    if args.warmup > 0:
        drive(args, server.port, warm_paths, args.warmup, workdir)
    load_before = os.getloadavg()[0]
    result = drive(args, server.port, paths, args.seconds, workdir)
    result["load_before"] = load_before
    result["load_after"] = os.getloadavg()[0]
    result["label"] = label
    return result


def interleaved(args, server, api_paths, page_paths, warm_api, warm_page, workdir) -> dict:
    """The three endpoints of the portal in --rounds rounds, each round running each for
    --seconds / --rounds, in a rotated order: this machine's speed swings by 2x within a
    minute, and three runs one after the other compared three different machines. The
    queries go on where the last round stopped, so none comes again from the cache."""
    rounds = max(1, args.rounds)
    each = args.seconds / rounds
    plan = {
        "api": (api_paths, warm_api),
        "page": (page_paths, warm_page),
        "health": (["/healthz"], ["/healthz"]),
    }
    order = list(plan)
    parts: dict[str, list[dict]] = {label: [] for label in order}
    for r in range(rounds):
        for label in order[r % 3 :] + order[: r % 3]:
            paths, warm = plan[label]
            done = sum(part["requests"] for part in parts[label])
            at = done % len(paths)
            note(f"round {r + 1}/{rounds}: {label}, {each:g} s")
            if r == 0 and args.warmup > 0:
                drive(args, server.port, warm, args.warmup, workdir)
            load_before = os.getloadavg()[0]
            part = drive(args, server.port, paths[at:] + paths[:at], each, workdir)
            part["load_before"], part["load_after"] = load_before, os.getloadavg()[0]
            parts[label].append(part)
    return {label: combined(label, ps) for label, ps in parts.items()}


def combined(label: str, parts: list[dict]) -> dict:
    """One endpoint's rounds as one run: requests per second over all of them; the median
    round's p50, the worst round's p95, p99 and max; every error; each round's req/s."""
    seconds = sum(p["seconds"] for p in parts)
    requests = sum(p["requests"] for p in parts)
    out = dict(parts[0])
    out.update(
        requests=requests,
        seconds=seconds,
        rps=requests / seconds if seconds else 0.0,
        p50_ms=statistics.median(p["p50_ms"] for p in parts),
        p95_ms=max(p["p95_ms"] for p in parts),
        p99_ms=max(p["p99_ms"] for p in parts),
        max_ms=max(p["max_ms"] for p in parts),
        mean_ms=sum(p["mean_ms"] * p["requests"] for p in parts) / max(1, requests),
        errors=sum(p["errors"] for p in parts),
        non_2xx=sum(p["non_2xx"] for p in parts),
        socket_errors=sum(p["socket_errors"] for p in parts),
        rounds_rps=[round(p["rps"], 1) for p in parts],
        load_before=parts[0]["load_before"],
        load_after=parts[-1]["load_after"],
        label=label,
    )
    return out


def worker_memory(server: Gunicorn) -> list[dict]:
    return [{"pid": pid, **proc_status(pid)} for pid in server.workers()]


def run(args, workdir: Path) -> int:
    load_start = loadavg()
    db_uri = f"sqlite:///{workdir / 'bench.db'}"
    env = clean_env(
        {
            "PORTAL_SQLALCHEMY_DATABASE_URI": db_uri,
            "PORTAL_SEARCH_INDEX_DIR": str(workdir / "index"),
            "PORTAL_ATTACHMENTS_DIR": str(workdir / "attachments"),
            "PORTAL_SECRET_KEY": "bench-http",
            "PORTAL_WTF_CSRF_ENABLED": "false",
            "PORTAL_RATELIMIT_ENABLED": "false",
            "PORTAL_MAIL_SEND_AFTER_COMMIT": "false",
            "PORTAL_ADMIN_PASSWORD": "bench-http-admin-password",
        }
    )
    note(f"building a {args.library} library in {workdir}")
    started = time.perf_counter()
    articles = build_library(args, workdir, env)
    build_s = time.perf_counter() - started
    api_paths, page_paths = query_paths(args, args.queries, args.seed + 1)
    warm_api, warm_page = query_paths(args, 100, args.seed + 2)

    results: dict[str, dict] = {}
    with Gunicorn(
        "portal:create_app()", env, args.workers, args.threads, workdir / "portal.log"
    ) as portal:
        settings = portal.settings
        note(f"portal on 127.0.0.1:{portal.port} ({settings})")
        portal.start("/healthz")
        results.update(
            interleaved(args, portal, api_paths, page_paths, warm_api, warm_page, workdir)
        )
        portal_memory = worker_memory(portal)
    with Gunicorn(
        "bench.bare_app:app", clean_env({}), args.workers, args.threads, workdir / "bare.log"
    ) as bare:
        note(f"bare Flask app on 127.0.0.1:{bare.port} ({bare.settings})")
        bare.start("/bare")
        results["bare"] = measure(args, bare, "bare", ["/bare"], ["/bare"], workdir)
        bare_memory = worker_memory(bare)
    load_end = loadavg()
    report(
        args, results, portal_memory, bare_memory, articles, build_s, settings, load_start, load_end
    )
    return 0


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(args, results, portal_memory, bare_memory, articles, build_s, settings, l0, l1):
    api, page, bare = results["api"], results["page"], results["bare"]
    health = results["health"]
    bare_rps = bare["rps"]
    health_rps = health["rps"]
    p = print
    p()
    p(
        f"Firstfix HTTP benchmark: {articles:,} {args.library} articles, gunicorn {settings}, "
        f"{args.seconds:g} s per endpoint after {args.warmup:g} s warm-up, "
        f"{args.concurrency} connections on loopback"
    )
    cache = (
        f"more than the {CACHE_PER_WORKER} answers each worker caches: every one a real search"
        if args.queries > CACHE_PER_WORKER
        else f"no more than the {CACHE_PER_WORKER} answers each worker caches: after the first "
        "pass mostly cached answers"
    )
    p(
        f"  load generator: {api['generator']}; {args.queries:,} distinct queries in rotation "
        f"({cache})"
    )
    asked = max(api["requests"], page["requests"]) * (args.seconds + args.warmup) / args.seconds
    if asked > args.queries:
        p(
            f"  note: about {asked:,.0f} searches per endpoint for {args.queries:,} queries, so "
            "some came again and may have found their query vector cached (1,024 per worker): "
            "raise --queries for figures of distinct queries only"
        )
    p(
        f"  machine: {os.cpu_count()} cores; load average (1/5/15 min) {l0} at start, {l1} at "
        f"the end; the load generator shares the cores with gunicorn; library built in "
        f"{build_s:.1f} s"
    )
    p()
    p(
        f"  {'endpoint':<32}{'requests':>9}{'req/s':>9}{'p50':>8}{'p95':>8}{'p99':>8}"
        f"{'max':>9}{'errors':>8}{'vs bare':>9}   load 1 min"
    )
    rows = [
        ("GET /api/v1/search?q=...", api),
        ("GET /search?q=... (page)", page),
        ("GET /healthz (same server)", health),
        ("GET /bare (bare Flask route)", bare),
    ]
    for label, r in rows:
        ratio = r["rps"] / bare_rps if bare_rps else float("nan")
        p(
            f"  {label:<32}{r['requests']:>9,}{r['rps']:>9.1f}{r['p50_ms']:>8.1f}"
            f"{r['p95_ms']:>8.1f}{r['p99_ms']:>8.1f}{r['max_ms']:>9.1f}{r['errors']:>8}"
            f"{ratio:>8.0%}   {r['load_before']:.2f} -> {r['load_after']:.2f}"
        )
    p("  (latencies in ms)")
    p()
    errors = api["errors"] + page["errors"] + bare["errors"] + health["errors"]
    for name, r, target in (
        ("API search", api, TARGET_API_VS_HEALTH),
        ("search page", page, TARGET_PAGE_VS_HEALTH),
    ):
        ratio = r["rps"] / health_rps if health_rps else 0.0
        p(
            f"  {name:<12} req/s {ratio:5.0%} of /healthz (target >= {target:.0%}: "
            f"{verdict(ratio >= target)}), errors {r['errors']} (target 0: "
            f"{verdict(r['errors'] == 0)})"
        )
    if health.get("rounds_rps"):
        rounds = zip(api["rounds_rps"], page["rounds_rps"], health["rounds_rps"], strict=True)
        p(
            "  each round (req/s API / page / /healthz, then API and page vs /healthz): "
            + "; ".join(
                f"{a:.0f} / {g:.0f} / {h:.0f} = {a / h:.0%}, {g / h:.0%}" for a, g, h in rounds
            )
        )
    for name, r in (("API search", api), ("search page", page)):
        ratio = r["rps"] / bare_rps if bare_rps else 0.0
        p(
            f"  {name:<12} req/s {ratio:5.0%} of bare (target >= {TARGET_RATIO:.0%}: "
            f"{verdict(ratio >= TARGET_RATIO)}), p95 {r['p95_ms']:.1f} ms (target < "
            f"{TARGET_P95_MS:g} ms: {verdict(r['p95_ms'] < TARGET_P95_MS)}), errors "
            f"{r['errors']} (target 0: {verdict(r['errors'] == 0)})"
        )
    if errors:
        for label, r in rows:
            if r["errors"]:
                p(f"    {label}: {r['non_2xx']} non-2xx, {r['socket_errors']} socket errors")
    rss = [m.get("VmRSS", float("nan")) for m in portal_memory]
    p(
        "  RSS per portal worker after its runs: "
        + ", ".join(
            f"pid {m['pid']} {m.get('VmRSS', float('nan')):.0f} MB "
            f"(peak {m.get('VmHWM', float('nan')):.0f}, "
            f"private {m.get('RssAnon', float('nan')):.0f})"
            for m in portal_memory
        )
        + f"; target < {TARGET_RSS_MB:g} MB: {verdict(bool(rss) and max(rss) < TARGET_RSS_MB)}"
    )
    p(
        "  RSS per bare worker (reference): "
        + ", ".join(f"{m.get('VmRSS', float('nan')):.0f} MB" for m in bare_memory)
    )
    p()

    def r2(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 2)

    def figures(r):
        return {
            "rps": r2(r["rps"]),
            "p50_ms": r2(r["p50_ms"]),
            "p95_ms": r2(r["p95_ms"]),
            "p99_ms": r2(r["p99_ms"]),
            "errors": r["errors"],
            "requests": r["requests"],
            "load1": r2(r["load_before"]),
        }

    result = {
        "rps": r2(min(api["rps"], page["rps"])),
        "bare_rps": r2(bare_rps),
        "ratio": r2(min(api["rps"], page["rps"]) / bare_rps) if bare_rps else None,
        "p95_ms": r2(max(api["p95_ms"], page["p95_ms"])),
        "errors": errors,
        "rss_mb": r2(max(rss)) if rss else None,
        "api": figures(api),
        "page": figures(page),
        "bare": figures(bare),
        "health": figures(health),
        "api_vs_health": r2(api["rps"] / health_rps) if health_rps else None,
        "rounds": args.rounds,
        "page_vs_health": r2(page["rps"] / health_rps) if health_rps else None,
        "rss_workers_mb": [r2(x) for x in rss],
        "articles": articles,
        "library": args.library,
        "queries": args.queries,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "gunicorn": settings,
        "generator": api["generator"],
        "cores": os.cpu_count(),
        "loadavg_start": l0,
        "loadavg_end": l1,
    }
    print(json.dumps(result), flush=True)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="synthetic articles")
    parser.add_argument("--library", choices=("synthetic", "starter"), default="synthetic")
    parser.add_argument("--seconds", type=float, default=20.0, help="per endpoint")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="the portal's endpoints take turns this many times within --seconds each",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="open connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="per worker; 1 = sync workers")
    parser.add_argument(
        "--queries",
        type=int,
        default=8000,
        help="distinct queries in rotation (more than an endpoint's requests, so that no "
        "query comes again: a worker keeps the vectors of its last 1,024 queries)",
    )
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--vocabulary", choices=("wide", "narrow"), default="wide", help="see bench/search.py"
    )
    args = parser.parse_args(argv)
    if min(args.articles, args.concurrency, args.workers, args.threads, args.queries) < 1:
        parser.error("--articles, --concurrency, --workers, --threads, --queries must be >= 1")
    if not 1 <= args.seconds <= 3600 or not 0 <= args.warmup <= 600:
        parser.error("--seconds must be 1..3600 and --warmup 0..600")
    if args.generator == "auto":
        args.generator = "wrk" if shutil.which("wrk") else "python"
    elif args.generator == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not on PATH (apt-get install wrk), or use --generator python")

    # SIGTERM ends like Ctrl-C: the servers are stopped and the folder removed on the way out
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="firstfix-http-"))
    try:
        return run(args, workdir)
    except KeyboardInterrupt:
        print("interrupted: servers stopped, temporary folder removed", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
