"""Search benchmark: the portal's search against bare Whoosh, SQLite FTS5 and HTTP.

    python bench/search.py --articles 10000 [--queries 500] [--out DIR] [--http] [--seed 42]

Builds a throwaway portal (SQLite database and index folder, in a temporary folder or an
empty --out folder) holding N synthetic support articles (bench/synthetic.py, seeded), then
measures index build time, query latency through ``portal.search.search``, through bare
Whoosh on the same index, through SQLite FTS5 ``bm25()`` on the same text, through the JSON
API (Flask test client, and gunicorn with --http), the time from saving an article to finding
it, and resident memory. Prints readable figures with the reference figures from
/work/shared/LIBRARIES.md beside them, then one line of JSON as the last line.

Everything runs on 127.0.0.1 and in bounded loops; the temporary folder is removed at the end
(an --out folder is kept).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import http.client
import json
import logging
import math
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import synthetic

REPO = Path(__file__).resolve().parent.parent

# /work/shared/LIBRARIES.md, "Reference figures for benchmarks": 10,000 synthetic support
# articles, 1,000 queries, 2 cores, Python 3.11.
REF_ARTICLES = 10_000
REF = {
    "build_s": 11.8,
    "whoosh_p95_ms": 8.7,
    "fts5_p95_ms": 0.82,
    "fts5_build_s": 0.24,
    "postgres_p95_ms": 2.0,
}
WARMUP = 20
SAVE_REPEATS = 5
HTTP_START_TIMEOUT = 60.0
FOUND_TIMEOUT = 10.0

# bm25() weights in FTS5 column order, the same as the index's FIELD_BOOSTS for these fields.
FTS5_COLUMNS = ("title", "summary", "symptoms", "body")
FTS5_WEIGHTS = (5.0, 2.0, 3.0, 1.0)


# -- small helpers -------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "mean": statistics.fmean(values),
        "max": max(values),
    }


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000.0, result


def rss_mb(key: str = "VmRSS") -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def code_version() -> str:
    """A short hash of portal/search/*.py, to tie figures to the code they measured."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "portal" / "search").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def note(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_path(text: str, category: str | None) -> str:
    params = {"q": text}
    if category:
        params["category"] = category
    return "/api/v1/search?" + urlencode(params)


# -- building the library ------------------------------------------------------------------


def _render_chunk(bodies: list[str]) -> list[str]:
    from portal.markdown import render

    return [render(body) for body in bodies]


def render_all(bodies: list[str]) -> list[str]:
    """portal.markdown.render on every body, spread over the cores (not counted anywhere)."""
    workers = max(1, os.cpu_count() or 1)
    size = 250
    chunks = [bodies[i : i + size] for i in range(0, len(bodies), size)]
    if workers == 1 or len(chunks) == 1:
        return [html for chunk in chunks for html in _render_chunk(chunk)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [html for rendered in pool.map(_render_chunk, chunks) for html in rendered]


def insert_library(articles: list[synthetic.Generated], html: list[str]) -> None:
    """Bulk-insert categories, tags and published articles straight into the tables."""
    from sqlalchemy import insert

    from portal.articles.models import Article, Category, Tag, article_tags
    from portal.articles.services import slugify
    from portal.extensions import db

    now = datetime.now(UTC)
    ids: dict[tuple[str, str | None], int] = {}
    rows = []
    for name, subs in synthetic.categories():
        parent_id = len(rows) + 1
        ids[(name, None)] = parent_id
        parent_slug = slugify(name)
        rows.append(
            {"id": parent_id, "name": name, "slug": parent_slug, "parent_id": None}
            | {"description": ""}
        )
        for sub in subs:
            ids[(name, sub)] = len(rows) + 1
            rows.append(
                {"id": len(rows) + 1, "name": sub, "slug": f"{parent_slug}-{slugify(sub)}"}
                | {"parent_id": parent_id, "description": ""}
            )
    db.session.execute(insert(Category.__table__), rows)

    tag_ids: dict[str, int] = {}
    for art in articles:
        for tag in art.tags:
            tag_ids.setdefault(tag, len(tag_ids) + 1)
    db.session.execute(
        insert(Tag.__table__), [{"id": i, "name": name} for name, i in tag_ids.items()]
    )

    batch = 2000
    for start in range(0, len(articles), batch):
        article_rows, tag_rows = [], []
        for offset, art in enumerate(articles[start : start + batch]):
            article_id = start + offset + 1
            article_rows.append(
                {
                    "id": article_id,
                    "slug": art.slug,
                    "title": art.title,
                    "summary": art.summary,
                    "body_md": art.body_md,
                    "body_html": html[start + offset],
                    "category_id": ids[(art.category, None)],
                    "subcategory_id": ids[(art.category, art.subcategory)],
                    "visibility": art.visibility,
                    "status": "published",
                    "owner_email": "servicedesk@example.com",
                    "reviewed_on": date(2026, 1, 1),
                    "views": 0,
                    "helpful_count": 0,
                    "not_helpful_count": 0,
                    "reuse_count": 0,
                    "created_at": now,
                    "updated_at": now,
                    "published_at": now,
                }
            )
            tag_rows += [{"article_id": article_id, "tag_id": tag_ids[t]} for t in art.tags]
        db.session.execute(insert(Article.__table__), article_rows)
        db.session.execute(insert(article_tags), tag_rows)
    db.session.commit()


def sample_passage_cost(sample) -> tuple[float | None, float | None]:
    """Milliseconds and tokens per article vector (title, summary, Symptoms), measured on a
    few articles with the real model; None when it is not installed."""
    from portal.articles.shape import symptoms
    from portal.markdown import plain_text
    from portal.search import model as model_files
    from portal.search.semantic import passage_text

    try:
        model = model_files.Model(REPO / "instance" / "models", 1)
    except model_files.ModelMissing:
        return None, None
    texts = [passage_text(t, s or "", plain_text(symptoms(b))) for t, s, b in sample]
    tokens = statistics.fmean(model.token_count(t) for t in texts)
    started = time.perf_counter()
    for text in texts:
        model.passage([text])
    return (time.perf_counter() - started) * 1000 / len(texts), tokens


WORKER_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/bench")
from portal import create_app, search
app = create_app(json.loads(sys.argv[2]))
with app.app_context():
    if sys.argv[4] == "1":
        from search import stand_in_vectors
        stand_in_vectors(int(sys.argv[5]))
    # as a worker after its first search: every vector loaded (the bench's articles have
    # no stored revision to keep them, so they are made here; stand-ins or the model)
    search.semantic.sync()
with app.test_request_context():
    for text in json.loads(sys.argv[3]):
        search.search(text, "everyone")
        search.search(text, "everyone", page=2)
with open("/proc/self/status") as fh:
    print(next(line.split()[1] for line in fh if line.startswith("VmRSS:")))
"""


def worker_rss(db_uri: str, index_dir: Path, texts: list[str], stand_in: bool, seed: int):
    """Resident memory of a fresh process like a web worker: the app, the index, the model
    and the vectors loaded, after searching (the bench process holds the generator's data
    and FTS5 too, so its own RSS overstates a worker's). MB, or None if it failed."""
    config = {
        "SQLALCHEMY_DATABASE_URI": db_uri,
        "SEARCH_INDEX_DIR": str(index_dir),
        "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": False,
    }
    args = [sys.executable, "-c", WORKER_PROBE, str(REPO), json.dumps(config), json.dumps(texts)]
    args += ["1" if stand_in else "0", str(seed)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=REPO)
    if done.returncode != 0:
        note(f"worker RSS probe failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return int(done.stdout.strip().splitlines()[-1]) / 1024.0


def stand_in_vectors(seed: int) -> None:
    """Article vectors become seeded random unit vectors; the query embedding stays real."""
    import numpy as np

    from portal.search import semantic

    rng = np.random.default_rng(seed)

    def passages(texts):
        out = rng.standard_normal((len(texts), semantic.DIM)).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    semantic._embedder.passages = passages


# -- the engines ---------------------------------------------------------------------------


def run_portal(queries, warm, category_slugs):
    """portal.search.search in one app context: the thread's searcher stays open."""
    from portal import search

    def one(q):
        return search.search(q.text, "everyone", category=category_slugs.get(q.category))

    from flask import current_app

    cache = current_app.extensions["search_cache"]
    # each pass (words, then words + meaning) starts as a worker that has not seen these
    # queries: the per-searcher memo (postings, phrases, corrections) and the snippet
    # caches are emptied, so the second pass is not timed on what the first one read
    search._searcher_cache(search.store().searcher()).clear()
    search.snippets._sections.cache_clear()
    search.snippets._tokens.cache_clear()
    for q in warm:
        one(q)
    times, tops, totals, corrected = [], [], [], []
    for q in queries:
        # every query is timed uncached (the list repeats some popular queries)
        cache.clear()
        ms, res = timed(lambda q=q: one(q))
        times.append(ms)
        tops.append([hit.slug for hit in res.hits])
        totals.append(res.total)
        corrected.append(res.suggestion is not None)
    # repeated popular queries: the same query again within a minute, same audience
    cached = []
    for q in queries[:200]:
        one(q)
        ms, _ = timed(lambda q=q: one(q))
        cached.append(ms)
    return times, tops, totals, corrected, cached


def run_bare_whoosh(queries, warm, category_slugs, all_words: bool = False):
    """Bare Whoosh on the portal's index: the portal's parsed terms joined by Or (any word,
    not timed), a kept-open searcher, limit=10, the same audience and category filters,
    the total count and the same highlights for the top 10.

    ``all_words``: queries from whoosh's own QueryParser instead, whose default requires
    every word (as SQLite FTS5's does), where the portal ranks partial matches too."""
    from whoosh import highlight
    from whoosh import query as wq
    from whoosh.qparser import QueryParser

    from portal.search import query as sq
    from portal.search import store
    from portal.search.index import WEIGHTING
    from portal.search.schema import text_analyzer

    ix = store().index()
    everyone = wq.Term("visibility", "everyone")

    parser = QueryParser(sq.FIELD, ix.schema)

    def prepared(q):
        slug = category_slugs.get(q.category)
        flt = wq.And([everyone, wq.Term("category_slug", slug)]) if slug else everyone
        if all_words:
            return parser.parse(q.text), flt
        terms = sq.parse(q.text).terms
        if not terms:
            return None, flt
        return wq.Or([sq.term_clause(t) for t in terms]), flt

    warm_built = [prepared(q) for q in warm]
    built = [prepared(q) for q in queries]
    searcher = ix.searcher(weighting=WEIGHTING)
    analyzer = text_analyzer()
    fragmenter = highlight.ContextFragmenter(maxchars=180, surround=50)
    formatter = highlight.HtmlFormatter(tagname="mark", classname="hl", termclass="t")

    def one(query, flt):
        if query is None:
            return [], 0
        # optimize=False as the portal (whoosh's block skipping can loop forever)
        results = searcher.search(query, limit=10, filter=flt, optimize=False)
        total = len(results)
        terms = frozenset(
            t.decode() if isinstance(t, bytes) else t
            for _field, t in query.existing_terms(searcher.reader(), expand=True)
        )
        slugs = []
        for hit in results:
            for name in ("symptoms", "summary", "body"):
                text = hit.get(name) or ""
                if text and highlight.highlight(
                    text, terms, analyzer, fragmenter, formatter, top=2, minscore=1
                ):
                    break
            slugs.append(hit["slug"])
        return slugs, total

    try:
        for query, flt in warm_built:
            one(query, flt)
        times, tops, totals = [], [], []
        for query, flt in built:
            ms, (slugs, total) = timed(lambda query=query, flt=flt: one(query, flt))
            times.append(ms)
            tops.append(slugs)
            totals.append(total)
    finally:
        searcher.close()
    return times, tops, totals


def fts5_documents() -> list[tuple]:
    """The same title/summary/symptoms/body text the Whoosh index holds (index.document)."""
    from sqlalchemy import select

    from portal.articles.models import Article
    from portal.extensions import db
    from portal.search.index import _loads, document

    stmt = select(Article).where(Article.status == "published").order_by(Article.id)
    docs = []
    for art in db.session.scalars(stmt.options(*_loads()).execution_options(yield_per=1000)):
        doc = document(art)
        docs.append(
            (
                *(doc[c] for c in FTS5_COLUMNS),
                doc["slug"],
                doc["category_slug"],
                doc["visibility"],
            )
        )
    db.session.expunge_all()
    return docs


def build_fts5(path: Path, docs: list[tuple]) -> tuple[sqlite3.Connection, float]:
    conn = sqlite3.connect(str(path), isolation_level=None)
    start = time.perf_counter()
    conn.execute(
        "CREATE VIRTUAL TABLE docs USING fts5("
        "title, summary, symptoms, body, slug UNINDEXED, category_slug UNINDEXED, "
        "visibility UNINDEXED, tokenize='porter unicode61')"
    )
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)", docs)
    conn.execute("COMMIT")
    return conn, time.perf_counter() - start


def fts5_match(text: str, all_words: bool = False) -> str:
    """An FTS5 OR query of the quoted words (AND with ``all_words``): never a syntax error."""
    words = dict.fromkeys(re.findall(r"\w+", text.lower()))
    return (" AND " if all_words else " OR ").join(f'"{w}"' for w in words)


def run_fts5(
    conn: sqlite3.Connection,
    queries,
    warm,
    category_slugs,
    full: bool = False,
    all_words: bool = False,
):
    """bm25() top 10 with the audience (and category) filter. ``full`` adds what the portal
    also returns: a snippet per hit and the total number of matches."""
    weights = ", ".join(str(w) for w in FTS5_WEIGHTS)
    cols = "slug, snippet(docs, -1, '<mark>', '</mark>', '…', 24)" if full else "slug"
    base = "FROM docs WHERE docs MATCH ? AND visibility = 'everyone'"

    def one(q):
        match = fts5_match(q.text, all_words)
        if not match:
            return [], 0
        slug = category_slugs.get(q.category)
        where, args = (base + " AND category_slug = ?", (match, slug)) if slug else (base, (match,))
        rows = conn.execute(
            f"SELECT {cols} {where} ORDER BY bm25(docs, {weights}) LIMIT 10", args
        ).fetchall()
        total = conn.execute(f"SELECT count(*) {where}", args).fetchone()[0] if full else None
        return [r[0] for r in rows], total

    for q in warm:
        one(q)
    times, tops = [], []
    for q in queries:
        ms, (slugs, _total) = timed(lambda q=q: one(q))
        times.append(ms)
        tops.append(slugs)
    return times, tops


def run_test_client(app, queries, warm, category_slugs):
    client = app.test_client()
    paths = [api_path(q.text, category_slugs.get(q.category)) for q in queries]
    errors = 0
    for q in warm:
        client.get(api_path(q.text, category_slugs.get(q.category)))
    times = []
    for path in paths:
        start = time.perf_counter()
        resp = client.get(path)
        body = resp.get_data()
        times.append((time.perf_counter() - start) * 1000.0)
        if resp.status_code != 200 or not body:
            errors += 1
    return times, errors


def run_gunicorn(workdir: Path, db_uri: str, index_dir: Path, queries, warm, category_slugs):
    """gunicorn -w 2 on a free 127.0.0.1 port, timed from one thread with http.client."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PORTAL_")
    }
    env |= {
        "PORTAL_SQLALCHEMY_DATABASE_URI": db_uri,
        "PORTAL_SEARCH_INDEX_DIR": str(index_dir),
        "PORTAL_SECRET_KEY": "bench",
        "PORTAL_WTF_CSRF_ENABLED": "false",
        "PORTAL_RATELIMIT_ENABLED": "false",
    }
    exe = Path(sys.executable).with_name("gunicorn")
    gunicorn = str(exe) if exe.exists() else shutil.which("gunicorn")
    if not gunicorn:
        raise RuntimeError("gunicorn not found next to this Python or on PATH")
    cmd = [gunicorn, "-w", "2", "--bind", f"127.0.0.1:{port}", "portal:create_app()"]
    log_path = workdir / "gunicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + HTTP_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /healthz; see {log_path}")
            time.sleep(0.2)

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        opened = errors = 0

        def get(path: str) -> None:
            nonlocal opened, errors
            if conn.sock is None:
                opened += 1
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200 or not body:
                errors += 1

        for q in warm:
            get(api_path(q.text, category_slugs.get(q.category)))
        opened = 0
        times = []
        for q in queries:
            path = api_path(q.text, category_slugs.get(q.category))
            ms, _ = timed(lambda path=path: get(path))
            times.append(ms)
        conn.close()
        return times, errors, opened
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def save_to_found(rng: random.Random) -> list[dict]:
    """save_article + commit, then search for a word only that article holds, until found."""
    from portal import search
    from portal.articles.services import ArticleData, save_article
    from portal.extensions import db

    runs = []
    for n in range(SAVE_REPEATS):
        word = "zq" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))
        slug = f"bench-new-article-{n}-{word}"
        body = (
            "## Symptoms\n\n"
            f'- The label printer shows "{word} fault" and stops.\n\n'
            "## Applies to\n\n- Windows 11 laptops\n\n"
            f"## Cause\n\nA {word} firmware fault on the print head.\n\n"
            "## Resolution\n\n1. Switch the printer off and on.\n2. Raise an incident.\n"
        )
        data = ArticleData(
            slug=slug,
            title=f"Label printer shows {word} fault",
            summary=f"What to do when the label printer stops with a {word} fault.",
            body_md=body,
            category="Printing and scanning",
            subcategory="Printers",
            tags=["printer"],
            status="published",
        )
        start = time.perf_counter()
        save_article(data, editor=None)
        db.session.commit()
        committed = time.perf_counter()
        tries = 0
        found = False
        while time.perf_counter() - start < FOUND_TIMEOUT:
            tries += 1
            res = search.search(word, "everyone")
            if any(hit.slug == slug for hit in res.hits):
                found = True
                break
            time.sleep(0.01)
        end = time.perf_counter()
        runs.append(
            {
                "ms": (end - start) * 1000.0 if found else None,
                "commit_ms": (committed - start) * 1000.0,
                "tries": tries,
            }
        )
    return runs


# -- reporting -----------------------------------------------------------------------------


def same_top(a: list[list[str]], b: list[list[str]]) -> int:
    return sum(1 for x, y in zip(a, b, strict=True) if x == y)


def overlap_at_10(a: list[list[str]], b: list[list[str]]) -> float:
    scores = [
        len(set(x) & set(y)) / max(len(x), len(y)) for x, y in zip(a, b, strict=True) if x or y
    ]
    return statistics.fmean(scores) if scores else 1.0


def ref_note(key: str, n: int) -> str:
    at = "" if n == REF_ARTICLES else " (at 10,000 articles)"
    return f"ref {REF[key]:g}{' s' if key.endswith('_s') else ' ms'}{at}"


def line(label: str, s: dict[str, float], extra: str = "") -> str:
    return (
        f"  {label:<34} p50 {s['p50']:7.2f}  p95 {s['p95']:7.2f}  mean {s['mean']:7.2f}"
        f"  max {s['max']:8.2f} ms   {extra}"
    ).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True, help="e.g. 1000, 10000, 100000")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--out", help="keep the database and index here (new or empty folder)")
    parser.add_argument(
        "--reuse",
        help="measure again on a folder an earlier --out run kept (same --articles, --seed and "
        "--vocabulary): skips rendering, inserting and the index build (20 minutes at 100,000)",
    )
    parser.add_argument("--http", action="store_true", help="also time a real gunicorn server")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--no-semantic", action="store_true", help="skip the run with the embedding model"
    )
    parser.add_argument(
        "--stand-in-vectors",
        action="store_true",
        help="article vectors are seeded random unit vectors instead of the model's (queries "
        "are still embedded by the model): the latency and memory of search with meaning, "
        "without the long first embedding of a synthetic library (its cost is sampled)",
    )
    parser.add_argument(
        "--vocabulary",
        choices=("wide", "narrow"),
        default="wide",
        help="wide: articles about many named systems and devices, most queries name one; "
        "narrow: the first generator, a few hundred problems reworded (see bench/synthetic.py)",
    )
    args = parser.parse_args(argv)
    if args.articles < 1 or args.queries < 1:
        parser.error("--articles and --queries must be positive")

    if args.reuse:
        workdir = Path(args.reuse).resolve()
        if not (workdir / "bench.db").is_file() or not (workdir / "index").is_dir():
            parser.error(f"--reuse {workdir} holds no kept run (bench.db and index)")
        args.out = str(workdir)  # kept, as it was
    elif args.out:
        workdir = Path(args.out).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        if any(workdir.iterdir()):
            parser.error(f"--out {workdir} is not empty")
    else:
        workdir = Path(tempfile.mkdtemp(prefix="firstfix-bench-"))
    try:
        return run(args, workdir)
    finally:
        if not args.out:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args, workdir: Path) -> int:
    n = args.articles
    db_path, index_dir = workdir / "bench.db", workdir / "index"
    db_uri = f"sqlite:///{db_path}"

    # 1. generate (seeded) and render; none of this is index time
    load_start = os.getloadavg()[0]
    version = code_version()
    note(f"generating {n} articles in {workdir}")
    rng = random.Random(args.seed)
    articles, items = synthetic.library(rng, n, args.vocabulary)
    words = statistics.fmean(len(a.body_md.split()) for a in articles)
    staff = sum(a.visibility == "staff" for a in articles)
    render_s = insert_s = build_s = None  # --reuse: done by the run that kept the folder
    if not args.reuse:
        started = time.perf_counter()
        html = render_all([a.body_md for a in articles])
        render_s = time.perf_counter() - started
    qrng = random.Random(args.seed + 1)
    queries = synthetic.queries(qrng, args.queries, items)
    warm = synthetic.queries(random.Random(args.seed + 2), WARMUP, items)

    from flask_migrate import upgrade

    from portal import create_app, search
    from portal.articles.models import Article
    from portal.articles.services import slugify
    from portal.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db_uri,
            "SEARCH_INDEX_DIR": str(index_dir),
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            # --no-semantic: the rebuild embeds nothing either (the model would take
            # about 0.3 s per synthetic article)
            "SEARCH_SEMANTIC": not args.no_semantic,
        }
    )
    category_slugs = {name: slugify(name) for name, _ in synthetic.categories()}
    with app.app_context():
        upgrade()
        logging.getLogger().setLevel(logging.WARNING)
        if not args.reuse:
            started = time.perf_counter()
            insert_library(articles, html)
            insert_s = time.perf_counter() - started
            del html
        else:
            kept = db.session.query(Article).count()
            db.session.remove()  # no transaction left open on the kept database
            if kept < n:
                raise SystemExit(f"--reuse {workdir} holds {kept} articles, not {n}")
    articles_sample = [(a.title, a.summary, a.body_md) for a in articles[:24]]
    del articles
    gc.collect()

    # 2b. the model's cost per article, sampled; optionally stand-in article vectors
    passage_ms, passage_tokens = sample_passage_cost(articles_sample)
    if args.stand_in_vectors:
        stand_in_vectors(args.seed)

    # 3. index build
    with app.app_context():
        if args.reuse:
            note("reusing the kept index")
            indexed = search.store().searcher().doc_count()
        else:
            note("rebuilding the index")
            started = time.perf_counter()
            indexed = search.rebuild()
            build_s = time.perf_counter() - started
    gc.collect()
    rss_loaded = rss_mb()

    # 5. portal.search.search
    note("portal search")
    with app.app_context():
        app.config["SEARCH_SEMANTIC"] = False  # lexical first: the relevance bar on words
        portal_t, portal_top, portal_total, corrected, cached_t = run_portal(
            queries, warm, category_slugs
        )
        semantic_t = None
        embed_s = 0.0
        if not args.no_semantic:
            app.config["SEARCH_SEMANTIC"] = True
            if search.semantic.enabled():
                note(f"embedding {n} articles (title, summary, Symptoms)")
                started = time.perf_counter()
                search.semantic.vectors()
                embed_s = time.perf_counter() - started
                note("portal search with meaning")
                semantic_t, _, _, _, _ = run_portal(queries, warm, category_slugs)
            app.config["SEARCH_SEMANTIC"] = False
        rss_semantic = rss_mb()
        # 6. bare Whoosh on the same index
        note("bare whoosh")
        whoosh_t, whoosh_top, whoosh_total = run_bare_whoosh(queries, warm, category_slugs)
        whoosh_and_t, _, whoosh_and_total = run_bare_whoosh(
            queries, warm, category_slugs, all_words=True
        )
        # 7. SQLite FTS5
        note("sqlite fts5")
        docs = fts5_documents()
    (workdir / "fts5.db").unlink(missing_ok=True)  # --reuse: built again, the same way
    fts_conn, fts5_build_s = build_fts5(workdir / "fts5.db", docs)
    del docs
    fts_t, fts_top = run_fts5(fts_conn, queries, warm, category_slugs)
    fts_full_t, _ = run_fts5(fts_conn, queries, warm, category_slugs, full=True)
    fts_and_t, _ = run_fts5(fts_conn, queries, warm, category_slugs, all_words=True)
    fts_conn.close()

    # 8. the JSON API in process, and (--http) through gunicorn
    note("api through the test client")
    api_t, api_errors = run_test_client(app, queries, warm, category_slugs)
    rss_searched = rss_mb()
    http_t = None
    http_errors = http_opened = 0
    if args.http:
        note("api through gunicorn")
        http_t, http_errors, http_opened = run_gunicorn(
            workdir, db_uri, index_dir, queries, warm, category_slugs
        )

    # 8b. a worker's memory, with the model and vectors loaded
    worker_mb = None
    if not args.no_semantic:
        note("worker RSS (a fresh process: app, index, model, vectors)")
        texts = [q.text for q in queries[:100]]
        worker_mb = worker_rss(db_uri, index_dir, texts, args.stand_in_vectors, args.seed)

    # 9. save to found
    note("save to found")
    with app.app_context():
        saves = save_to_found(random.Random(args.seed + 3))
        from portal import writebehind

        writebehind.flush()  # the search events, before the temporary folder goes
        search.store().close()
        db.session.remove()
        db.engine.dispose()
    found_ms = [r["ms"] for r in saves if r["ms"] is not None]
    rss_end, rss_peak = rss_mb(), rss_mb("VmHWM")
    load_end = os.getloadavg()[0]

    # -- report
    portal_s, whoosh_s = summary(portal_t), summary(whoosh_t)
    fts_s, fts_full_s, api_s = summary(fts_t), summary(fts_full_t), summary(api_t)
    whoosh_and_s, fts_and_s = summary(whoosh_and_t), summary(fts_and_t)
    cached_s = summary(cached_t)
    http_s = summary(http_t) if http_t else None
    kinds = {k: sum(q.kind == k for q in queries) for k in ("plain", "typo", "phrase", "prefix")}
    with_cat = sum(q.category is not None for q in queries)
    zero = sum(t == 0 for t in portal_total)
    public = max(1, n - staff)
    match_pct = [100.0 * t / public for t in portal_total]
    all_words_breadth = statistics.median(100.0 * t / public for t in whoosh_and_total)
    p = print
    p()
    p(
        f"Firstfix search benchmark: {n:,} articles, {len(queries)} queries, seed {args.seed}, "
        f"{args.vocabulary} vocabulary, portal/search/*.py sha256 {version}"
    )
    p(
        f"  library: {n - staff:,} public + {staff:,} staff-only, {words:.0f} words per body, "
        f"12 categories; indexed {indexed:,}"
    )
    p(
        f"  queries: {kinds['plain']} plain, {kinds['typo']} with a typo, {kinds['phrase']} "
        f"with a quoted phrase, {kinds['prefix']} with a prefix*, {with_cat} with a category "
        f"filter; {zero} found nothing for everyone; warm-up {WARMUP} per engine"
    )
    p(
        f"  reference: /work/shared/LIBRARIES.md, {REF_ARTICLES:,} articles and 1,000 queries "
        f"on 2 cores; this machine: {os.cpu_count()} cores, load average {load_start:.1f} at "
        f"start and {load_end:.1f} at the end (other work on the machine slows every figure)"
    )
    p()
    if args.reuse:
        p(f"  render, insert and index build: reused from the run that kept {workdir}")
    else:
        p(f"  render Markdown (not counted)      {render_s:7.1f} s  ({os.cpu_count()} processes)")
        p(f"  bulk insert (not index time)       {insert_s:7.1f} s")
        p(f"  index build, search.rebuild()      {build_s:7.1f} s   {ref_note('build_s', n)}")
    p(f"  FTS5 build (same text)             {fts5_build_s:7.2f} s   {ref_note('fts5_build_s', n)}")
    p()
    p("  latency per query")
    p(line("portal search.search(), lexical", portal_s, "target p95 < 10 ms at 10,000"))
    semantic_s = summary(semantic_t) if semantic_t else None
    if semantic_s:
        p(line("portal, words + meaning", semantic_s, "target p95 < 25 ms at 10,000"))
        if args.stand_in_vectors:
            p("  article vectors: seeded random stand-ins (--stand-in-vectors); queries embedded")
            p("  by the model as in production, so latency and memory are those of real vectors")
        else:
            p(f"  embedding the library (once)       {embed_s:7.1f} s   stored in the database")
        p(f"  RSS of this bench process          {rss_semantic:7.0f} MB  (generator, FTS5 and all)")
        if worker_mb is not None:
            p(f"  worker RSS, model and vectors      {worker_mb:7.0f} MB  target < 200 MB")
    if passage_ms is not None:
        p(
            f"  model, one article vector          {passage_ms:7.1f} ms  ({passage_tokens:.0f} "
            f"tokens; {n:,} articles: {passage_ms * n / 60000:.0f} CPU min, once)"
        )
    else:
        p("  portal, words + meaning            not run (--no-semantic or the model missing)")
    p(line("bare Whoosh + highlights", whoosh_s, ref_note("whoosh_p95_ms", n)))
    p(line("SQLite FTS5 bm25() top 10", fts_s, ref_note("fts5_p95_ms", n)))
    p(line("  FTS5 + snippet() + count", fts_full_s))
    p(line("bare Whoosh, all words required", whoosh_and_s, "whoosh's QueryParser default"))
    p(line("FTS5, all words required", fts_and_s, "FTS5's default"))
    p(line("portal, repeated query (cache)", cached_s, "target: p95 within 2x of FTS5's"))
    p(line("API, Flask test client", api_s))
    if http_s:
        p(
            line(
                "API, gunicorn -w 2 over TCP",
                http_s,
                f"{http_opened} TCP connections for {len(queries)} requests",
            )
        )
    else:
        p("  API, gunicorn -w 2 over TCP        not run (add --http)")
    p(f"  PostgreSQL full-text: not measured here; {ref_note('postgres_p95_ms', n)}")
    p()
    p(
        f"  ratio portal/bare Whoosh   p50 {portal_s['p50'] / whoosh_s['p50']:5.2f}x  "
        f"p95 {portal_s['p95'] / whoosh_s['p95']:5.2f}x"
    )
    p(
        f"  ratio portal lexical/bare Whoosh all words  p50 "
        f"{portal_s['p50'] / whoosh_and_s['p50']:5.2f}x  p95 "
        f"{portal_s['p95'] / whoosh_and_s['p95']:5.2f}x   (target p95 within 1.3x)"
    )
    p(
        f"  ratio portal/FTS5          p50 {portal_s['p50'] / fts_s['p50']:5.1f}x  "
        f"p95 {portal_s['p95'] / fts_s['p95']:5.1f}x   (reference 8.7/0.82 = 10.6x)"
    )
    plain = [i for i, c in enumerate(corrected) if not c]
    agree = same_top([portal_top[i] for i in plain], [whoosh_top[i] for i in plain])
    agree_total = sum(portal_total[i] == whoosh_total[i] for i in plain)
    p(
        f"  portal corrected a misspelt word in {len(queries) - len(plain)} queries (extra "
        f"clauses bare Whoosh does not get); on the other {len(plain)}: same top 10 "
        f"{agree}, same total {agree_total}"
    )
    p(f"  mean overlap of top 10, portal vs FTS5: {overlap_at_10(portal_top, fts_top):.2f}")
    p(
        f"  breadth: a query matches a median {statistics.median(match_pct):.0f}% of the public "
        f"articles (p95 {pct(match_pct, 95):.0f}%); every match is scored, so broad queries cost"
    )
    p(f"  with all words required a query matches a median {all_words_breadth:.1f}% of them")
    p(f"  errors: API test client {api_errors}, gunicorn {http_errors}")
    p()
    found_txt = ", ".join(f"{r['ms']:.0f}" if r["ms"] else "not found" for r in saves)
    p(
        f"  save_article + commit -> found     median {statistics.median(found_ms):.0f} ms "
        f"(runs: {found_txt} ms; commit incl. index update median "
        f"{statistics.median(r['commit_ms'] for r in saves):.0f} ms)"
        if found_ms
        else "  save_article + commit -> found     NOT FOUND within 10 s"
    )
    p(
        f"  RSS: {rss_loaded:.0f} MB after loading, {rss_searched:.0f} MB after the searches, "
        f"{rss_end:.0f} MB at the end (peak {rss_peak:.0f} MB; bench process, gunicorn excluded)"
    )
    p()
    r2 = lambda x: None if x is None else round(x, 3)  # noqa: E731
    result = {
        "articles": n,
        "queries": len(queries),
        "seed": args.seed,
        "vocabulary": args.vocabulary,
        "search_code_sha256": version,
        "build_s": r2(build_s),
        "insert_s": r2(insert_s),
        "portal_p50_ms": r2(portal_s["p50"]),
        "portal_p95_ms": r2(portal_s["p95"]),
        "portal_mean_ms": r2(portal_s["mean"]),
        "whoosh_p50_ms": r2(whoosh_s["p50"]),
        "whoosh_p95_ms": r2(whoosh_s["p95"]),
        "whoosh_query": "Or of the portal's parsed terms, prebuilt",
        "semantic_p50_ms": r2(semantic_s["p50"]) if semantic_s else None,
        "semantic_p95_ms": r2(semantic_s["p95"]) if semantic_s else None,
        "embed_library_s": r2(embed_s),
        "stand_in_vectors": bool(args.stand_in_vectors),
        "passage_ms": r2(passage_ms) if passage_ms is not None else None,
        "rss_semantic_mb": r2(rss_semantic),
        "worker_rss_mb": r2(worker_mb),
        "ratio_lexical_whoosh_all_words_p95": r2(portal_s["p95"] / whoosh_and_s["p95"]),
        "ratio_portal_whoosh_p95": r2(portal_s["p95"] / whoosh_s["p95"]),
        "fts5_build_s": r2(fts5_build_s),
        "whoosh_all_words_p95_ms": r2(whoosh_and_s["p95"]),
        "fts5_all_words_p95_ms": r2(fts_and_s["p95"]),
        "all_words_match_pct_median": r2(all_words_breadth),
        "fts5_p50_ms": r2(fts_s["p50"]),
        "fts5_p95_ms": r2(fts_s["p95"]),
        "fts5_full_p95_ms": r2(fts_full_s["p95"]),
        "ratio_portal_fts5_p95": r2(portal_s["p95"] / fts_s["p95"]),
        "cached_p95_ms": r2(cached_s["p95"]),
        "ratio_cached_fts5_p95": r2(cached_s["p95"] / fts_s["p95"]),
        "match_pct_median": r2(statistics.median(match_pct)),
        "api_p50_ms": r2(api_s["p50"]),
        "api_p95_ms": r2(api_s["p95"]),
        "http_p50_ms": r2(http_s["p50"]) if http_s else None,
        "http_p95_ms": r2(http_s["p95"]) if http_s else None,
        "save_to_found_ms": r2(statistics.median(found_ms)) if found_ms else None,
        "rss_loaded_mb": r2(rss_loaded),
        "rss_mb": r2(rss_searched),
        "rss_peak_mb": r2(rss_peak),
        "load_avg_start": round(load_start, 2),
        "load_avg_end": round(load_end, 2),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
