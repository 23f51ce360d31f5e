"""Meaning as well as words: sentence embeddings beside Whoosh.

The model is all-MiniLM-L6-v2 with int8 matrix products, run by onnxruntime (see
``model.py`` for where its files come from and why it is derived once). An article's
vector embeds its title, summary and *Symptoms* (the words people's questions resemble;
the whole body is slow to embed and blurs the meaning).

Vectors are derived data stored in the database with the article revision they were made
from (``revision_embeddings``), so every node uses the same ones and a node that starts cold
reads them instead of recomputing. They are computed where the outbox is applied: after the
commit of a save or an import, by ``flask search sync`` and ``setup``. Each process keeps the
vectors of the published articles in one matrix and follows the outbox to stay current.

Without the model's packages (or with ``SEARCH_SEMANTIC`` off) nothing fails: ``scores``
returns None, search is lexical, and ``status()`` says why (shown in /healthz).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from flask import Flask, current_app, has_app_context, has_request_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.search import model as model_files
from portal.search.memory import give_back_freed_memory
from portal.search.models import RevisionEmbedding, SearchOutbox
from portal.transactions import reading, writing

log = logging.getLogger(__name__)

# the name stored with each vector: vectors of another model are recomputed
MODEL = model_files.NAME
DIM = model_files.DIM
# Punctuation that is not inside a word ("vpn -;", "outlook: crashes?"): a model reads it as
# meaning, and two marks after "faded blank" took its cosine to the right article from 0.85
# to 0.80, under the bar (bench/faults.py found it). "e-mail", "o'clock", "1.2" keep theirs.
_LOOSE_MARKS = re.compile(r"(?<![^\W_])[^\w\s]+|[^\w\s]+(?![^\W_])")


def query_text(text: str) -> str:
    """What the model embeds of a query: its words, without punctuation between them."""
    return " ".join(_LOOSE_MARKS.sub(" ", text[:1000]).split())


# Vectors a reading request computes at most when it finds some missing (the rest wait
# for a writer, or for the next search); a writer computes all.
READER_BUDGET = 8
PERSIST_EVERY = 256  # vectors computed, then stored, at a time


class Embedder:
    """The process's one model, loaded on first use; embedding is serialised (one
    session, one thread: the cores belong to gunicorn's workers), and query vectors are
    cached.

    A search can ask for its query's vector ahead (``prefetch``): the process's embedding
    thread computes it while the search reads the index, since onnxruntime runs without
    Python's lock. A search then takes about the longer of the two, not their sum."""

    def __init__(self) -> None:
        self._model = None
        self._error: str | None = None
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._inflight: dict[str, Future] = {}
        self._ahead_lock = threading.Lock()  # not the model's: never waits for an embedding
        self._pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid, pool): not forked

    def load(self, threads: int = 1):
        if self._model is None and self._error is None:
            with self._lock:
                if self._model is None and self._error is None:
                    try:
                        self._model = model_files.Model(_model_folder(), threads)
                    except model_files.ModelMissing as exc:
                        self._error = str(exc)
                        log.warning("semantic search off: %s", self._error)
                    except Exception as exc:  # a damaged file, a failed derivation
                        self._error = f"the model failed to load: {exc}"
                        log.exception("semantic search off")
        return self._model

    @property
    def error(self) -> str | None:
        return self._error

    def query(self, text: str) -> np.ndarray | None:
        text = query_text(text)
        key = text.lower()
        found = self._queries.get(key)
        if found is not None:
            return found
        ahead = self._inflight.get(key)
        if ahead is not None:
            try:
                return ahead.result(timeout=30)
            except Exception:  # computed again below, where a failure is the caller's
                log.exception("query embedding ahead failed")
        model = self.load()
        if model is None or not text:
            return None
        return self._embed(model, text, key)

    def prefetch(self, text: str) -> None:
        """Start embedding a query on the embedding thread (see the class docstring)."""
        text = query_text(text)
        key = text.lower()
        if not text or key in self._queries or key in self._inflight:
            return
        model = self.load()
        if model is None:
            return
        with self._ahead_lock:
            if self._pool is None or self._pool[0] != os.getpid():
                self._pool = (os.getpid(), ThreadPoolExecutor(1, "query-embedding"))
            pool = self._pool[1]
            if key in self._inflight:
                return
            future = self._inflight[key] = Future()
        try:
            pool.submit(self._ahead, model, text, key, future)
        except RuntimeError:  # the interpreter is shutting down
            self._inflight.pop(key, None)
            future.cancel()

    def _ahead(self, model, text: str, key: str, future: Future) -> None:
        try:
            future.set_result(self._embed(model, text, key))
        except BaseException as exc:
            future.set_exception(exc)
        finally:
            self._inflight.pop(key, None)

    def _embed(self, model, text: str, key: str) -> np.ndarray:
        with self._lock:
            found = self._queries.get(key)  # computed ahead while this call waited
            if found is not None:
                return found
            vector = np.asarray(model.query(text), dtype=np.float32)
            self._queries[key] = vector
            while len(self._queries) > 1024:
                self._queries.popitem(last=False)
        return vector

    def cached(self, text: str) -> np.ndarray | None:
        return self._queries.get(query_text(text).lower())

    def passages(self, texts: list[str]) -> np.ndarray | None:
        model = self.load()
        if model is None:
            return None
        with self._lock:
            out = np.asarray(model.passage(list(texts)), dtype=np.float32)
        return out.reshape(len(texts), DIM)


_embedder = Embedder()


def _model_folder():
    """Where the derived model file lives: the instance folder (derived data, per machine)."""
    if has_app_context():
        folder = current_app.config.get("SEARCH_MODEL_DIR")
        return Path(folder) if folder else Path(current_app.instance_path) / "models"
    return Path("instance") / "models"


def passage_text(title: str, summary: str, symptoms_text: str) -> str:
    """What an article's vector embeds."""
    return " ".join(part.strip() for part in (title, summary, symptoms_text) if part).strip()


class VectorStore:
    """The published articles' vectors of this process, one row each, in one matrix."""

    def __init__(self, engine_getter, interval: float) -> None:
        self._engine = engine_getter
        self.interval = interval
        # (matrix, sorted article ids), swapped as one reference so readers never see a
        # matrix with another matrix's ids
        self._pair = (np.zeros((0, DIM), dtype=np.float32), np.zeros(0, dtype=np.int64))
        self.generation = 0
        self._seen = -1  # the outbox id the matrix reflects; -1: not loaded
        self._checked = 0.0
        self._pending: set[int] = set()  # articles whose vector is still to be computed
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------

    def ensure(self, compute: bool) -> None:
        """Load on first use; then follow the outbox, at most once per interval."""
        if self._seen < 0:
            self.load(compute)
            return
        now = time.monotonic()
        if now - self._checked < self.interval:
            return
        self._checked = now
        try:
            self.follow(compute)
        except Exception:  # a search must answer even when upkeep fails
            log.exception("semantic vectors: outbox check failed")

    def load(self, compute: bool) -> None:
        with self._lock:
            with reading(), Session(self._engine()) as session:
                high = session.scalar(select(func.max(SearchOutbox.id))) or 0
                ids = session.scalars(_published_ids()).all()
            self._update(ids, replace=True, compute=compute)
            self._seen = high
            self._checked = time.monotonic()
        give_back_freed_memory()

    def follow(self, compute: bool) -> int:
        """Apply outbox rows this process has not seen; returns how many articles changed."""
        with self._lock:
            with reading(), Session(self._engine()) as session:
                rows = session.execute(
                    select(SearchOutbox.id, SearchOutbox.article_id).where(
                        SearchOutbox.id > self._seen
                    )
                ).all()
            changed = {r.article_id for r in rows} | self._pending
            if changed:
                self._update(sorted(changed), replace=False, compute=compute)
            if rows:
                self._seen = max(r.id for r in rows)
            return len(changed)

    def _update(self, article_ids, replace: bool, compute: bool) -> None:
        found, missing = _vectors(self._engine, list(article_ids))
        todo = sorted(missing.items())
        if not compute:
            todo = todo[:READER_BUDGET]
        made: dict[int, tuple[int | None, np.ndarray]] = {}
        try:
            # stored as they come: a long first embedding (a large import) that is stopped
            # keeps what it computed, and the next process starts from there
            for start in range(0, len(todo), PERSIST_EVERY):
                part = _compute(dict(todo[start : start + PERSIST_EVERY]), None)
                if part:
                    _persist(self._engine, part)
                    made.update(part)
                if len(part) < len(todo[start : start + PERSIST_EVERY]):
                    break  # the model is off
        finally:
            found.update({aid: vec for aid, (_rev, vec) in made.items()})
            self._pending = set(missing) - set(made)
        old_matrix, old_ids = self._pair
        if replace:
            keep: dict[int, np.ndarray] = {}
        else:
            keep = {int(a): old_matrix[i] for i, a in enumerate(old_ids.tolist())}
            for aid in article_ids:
                keep.pop(int(aid), None)
        keep.update(found)
        ids = np.array(sorted(keep), dtype=np.int64)
        matrix = np.zeros((len(ids), DIM), dtype=np.float32)
        for row, aid in enumerate(ids.tolist()):
            matrix[row] = keep[aid]
        self._pair = (matrix, ids)  # readers keep the old pair meanwhile
        self.generation += 1

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """The matrix and its article ids, as one consistent pair."""
        return self._pair


def rows_for(ids: np.ndarray, article_ids: np.ndarray) -> np.ndarray:
    """Each article's row in a matrix whose rows are the sorted ``ids``, or -1."""
    if not len(ids):
        return np.full(len(article_ids), -1, dtype=np.int64)
    pos = np.clip(np.searchsorted(ids, article_ids), 0, len(ids) - 1)
    return np.where(ids[pos] == article_ids, pos, -1)


def _published_ids():
    from portal.articles.models import Article

    return select(Article.id).where(Article.status == "published").order_by(Article.id)


def _latest_revisions(session: Session, article_ids: list[int]):
    """(article id, the live text's revision id or None) of the published articles."""
    from portal.articles.models import PROPOSAL_STATUSES, Article, ArticleRevision

    latest = (  # the live text's revision: a proposal is not what readers see
        select(ArticleRevision.article_id, func.max(ArticleRevision.id).label("rev"))
        .where(
            ArticleRevision.article_id.in_(article_ids),
            ArticleRevision.status.not_in(PROPOSAL_STATUSES),
        )
        .group_by(ArticleRevision.article_id)
        .subquery()
    )
    return session.execute(
        select(Article.id, latest.c.rev)
        .outerjoin(latest, latest.c.article_id == Article.id)
        .where(Article.id.in_(article_ids), Article.status == "published")
    ).all()


def _vectors(engine_getter, article_ids: list[int]):
    """Stored vectors of the articles' latest revisions, and the articles lacking one
    (article id -> (revision id, text to embed)). Only the articles lacking a vector are
    read whole: a cold process reading 10,000 vectors held tens of MB of article bodies."""
    from portal.articles.models import Article
    from portal.articles.shape import symptoms
    from portal.markdown import plain_text

    found: dict[int, np.ndarray] = {}
    missing: dict[int, tuple[int | None, str]] = {}
    with reading(), Session(engine_getter()) as session:
        for start in range(0, len(article_ids), 500):
            chunk = article_ids[start : start + 500]
            rows = _latest_revisions(session, chunk)
            revs = [rev for _, rev in rows if rev is not None]
            stored = dict(
                session.execute(
                    select(RevisionEmbedding.revision_id, RevisionEmbedding.vector).where(
                        RevisionEmbedding.revision_id.in_(revs), RevisionEmbedding.model == MODEL
                    )
                ).all()
            )
            lacking: dict[int, int | None] = {}
            for article_id, rev in rows:
                blob = stored.get(rev)
                if blob is not None and len(blob) == DIM * 4:
                    found[article_id] = np.frombuffer(blob, dtype=np.float32).copy()
                else:
                    lacking[article_id] = rev
            if not lacking:
                continue
            texts = session.execute(
                select(Article.id, Article.title, Article.summary, Article.body_md).where(
                    Article.id.in_(list(lacking))
                )
            ).all()
            for article_id, title, summary, body_md in texts:
                text = passage_text(title, summary or "", plain_text(symptoms(body_md)))
                missing[article_id] = (lacking[article_id], text)
    return found, missing


def _compute(missing: dict, budget: int | None) -> dict[int, tuple[int | None, np.ndarray]]:
    if not missing:
        return {}
    items = sorted(missing.items())
    if budget is not None:
        items = items[:budget]
    made: dict[int, tuple[int | None, np.ndarray]] = {}
    for start in range(0, len(items), 32):
        chunk = items[start : start + 32]
        vectors = _embedder.passages([text for _, (_, text) in chunk])
        if vectors is None:
            return made
        for (aid, (rev, _)), vec in zip(chunk, vectors, strict=True):
            made[aid] = (rev, vec)
    return made


def _persist(engine_getter, made: dict[int, tuple[int | None, np.ndarray]]) -> None:
    """Store new vectors: through the write-behind queue inside a request (a reader never
    writes, a writer's request has its own transaction), at once elsewhere (CLI, threads)."""
    rows = [(rev, vec.astype(np.float32).tobytes()) for rev, vec in made.values() if rev]
    if not rows:
        return

    def job(session: Session) -> None:
        for rev, blob in rows:
            existing = session.get(RevisionEmbedding, (rev, MODEL))
            if existing is None:
                session.add(RevisionEmbedding(revision_id=rev, model=MODEL, vector=blob))
            else:
                existing.vector = blob
        session.flush()

    if has_request_context():
        from portal import writebehind

        writebehind.submit(job)
        return
    with writing(), Session(engine_getter()) as session:
        job(session)
        session.commit()


# -- the door ---------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    from portal.extensions import db

    app.extensions["search_vectors"] = VectorStore(
        lambda: db.engine, float(app.config["SEARCH_SYNC_INTERVAL"])
    )


def enabled() -> bool:
    """Semantic search is configured on and the model loads."""
    if not has_app_context() or not current_app.config.get("SEARCH_SEMANTIC", True):
        return False
    return _embedder.load(int(current_app.config.get("SEARCH_SEMANTIC_THREADS", 1))) is not None


def status() -> str:
    """'on', or why search is lexical only (for /healthz)."""
    if not current_app.config.get("SEARCH_SEMANTIC", True):
        return "off: SEARCH_SEMANTIC is false"
    if not enabled():
        return f"off: {_embedder.error or 'model not loaded'}; search is lexical"
    return "on"


def vectors() -> VectorStore | None:
    if not enabled():
        return None
    store = current_app.extensions["search_vectors"]
    store.ensure(compute=not _reading_request())
    return store


def _reading_request() -> bool:
    from flask import request

    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")


def generation() -> int:
    store = current_app.extensions.get("search_vectors") if has_app_context() else None
    return store.generation if store is not None else 0


def sync() -> int:
    """Bring this process's vectors up to date, computing every missing one (writers)."""
    store = vectors()
    if store is None:
        return 0
    return store.follow(compute=True)


def prefetch(text: str) -> None:
    """Have the query's vector computed while the caller reads the index (when on)."""
    if not current_app.config.get("SEARCH_SEMANTIC_AHEAD", True):
        return
    if text.strip() and vectors() is not None:
        _embedder.prefetch(text)


def scores(table, text: str) -> np.ndarray | None:
    """Cosine between the text and every document of the searcher (-1 without a vector),
    or None when semantic search is off."""
    store = vectors()
    if store is None or not text.strip():
        return None
    query = _embedder.query(text)
    if query is None:
        return None
    matrix, ids = store.snapshot()
    rows, has = _rows_of(table, ids)
    out = np.full(table.size, -1.0, dtype=np.float32)
    out[has] = (matrix @ query)[rows[has]]  # no copy of the matrix's rows per query
    return out


def _rows_of(table, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each document's row in the matrix and whether it has one, kept with the searcher's
    table until the matrix changes (100,000 lookups per query cost a few ms)."""
    kept = getattr(table, "_semantic_rows", None)
    if kept is not None and kept[0] is ids:
        return kept[1], kept[2]
    rows = rows_for(ids, table.article_ids)
    has = rows >= 0
    table._semantic_rows = (ids, rows, has)
    return rows, has


def article_scores(table, article_id: int) -> np.ndarray | None:
    """Cosine between one article's vector and every document (for related articles)."""
    store = vectors()
    if store is None:
        return None
    matrix, ids = store.snapshot()
    row = rows_for(ids, np.array([article_id], dtype=np.int64))[0]
    if row < 0:
        return None
    rows, has = _rows_of(table, ids)
    out = np.full(table.size, -1.0, dtype=np.float32)
    out[has] = (matrix @ matrix[row])[rows[has]]
    return out


def text_similarity(text: str, others: list[str], budget: int = 48) -> list[float] | None:
    """Cosine between a text and each of some short texts (incident titles), or None when
    semantic search is off. Vectors of the short texts are cached per process; at most
    ``budget`` new ones are computed per call (the others count as 0 until then)."""
    if not enabled() or not text.strip():
        return None
    query = _embedder.query(text)
    if query is None:
        return None
    out = []
    for other in others:
        vec = _embedder.cached(other)
        if vec is None and budget > 0 and other.strip():
            vec = _embedder.query(other)
            budget -= 1
        out.append(float(vec @ query) if vec is not None else 0.0)
    return out
