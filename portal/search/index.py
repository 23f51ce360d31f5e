"""Index upkeep: open, rebuild, and apply the outbox. The database is the truth.

Layout of ``SEARCH_INDEX_DIR``: one folder per build (``ix-<stamp>``) and a ``CURRENT`` file
naming the live one, so a rebuild writes a new folder and swaps it in atomically. Each folder
holds an ``applied`` file: the last outbox id this node's index has applied.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from whoosh import index as windex
from whoosh import scoring
from whoosh.index import LockError
from whoosh.searching import Searcher

from portal.articles.models import Article
from portal.articles.shape import symptoms
from portal.markdown import plain_text
from portal.search.models import SearchOutbox
from portal.search.schema import FIELD_BOOSTS, SCHEMA_VERSION, build_schema, pack_sections
from portal.transactions import reading

log = logging.getLogger(__name__)

# BM25 over the weighted field. Title words weigh 5 and body words 1, so a K1 larger than
# the usual 1.2 keeps that difference from saturating away: on bench/relevance.py, K1 1.2
# put the right article first for 93.7% of queries, 3 to 8 for 96.5% to 97.9% (4 chosen).
WEIGHTING = scoring.BM25F(B=0.75, K1=4.0)

CURRENT = "CURRENT"
APPLIED = "applied"
VERSION = "version"


def document(article: Article) -> dict:
    """The index document for one published article."""
    body_text = plain_text(article.body_md)
    symptoms_text = plain_text(symptoms(article.body_md))
    category = article.category
    sub = article.subcategory
    tags = " ".join(article.tag_names)
    sections = {
        "title": article.title,
        "symptoms": symptoms_text,
        "summary": article.summary or "",
        "tags": tags,
        "category": " ".join(c.name for c in (category, sub) if c is not None),
        "body": body_text,
    }
    return {
        "id": str(article.id),
        "article_id": article.id,
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary or "",
        "symptoms": symptoms_text,
        "body": body_text,
        "content": pack_sections([(text, FIELD_BOOSTS[name]) for name, text in sections.items()]),
        "category_slug": category.slug if category else "",
        "category_name": category.name if category else "",
        "subcategory_slug": sub.slug if sub else "",
        "subcategory_name": sub.name if sub else "",
        "visibility": article.visibility,
        "spell": _distinct_words(article.title, article.summary or "", body_text, tags),
    }


def _distinct_words(*texts: str) -> str:
    """Each word once: the spelling field only needs to know a word exists."""
    return " ".join(dict.fromkeys(" ".join(texts).lower().split()))


def indexable(article: Article | None) -> bool:
    return article is not None and article.status == "published"


class IndexStore:
    """One node's index: readers keep one searcher per thread, writers take turns."""

    def __init__(self, base: str | os.PathLike, engine_getter, sync_interval: float = 0.5):
        self.base = Path(base)
        self._engine = engine_getter
        self.sync_interval = sync_interval
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ix = None
        self._ix_name: str | None = None
        self._last_check = 0.0

    # -- opening -------------------------------------------------------------------------

    @property
    def ix_name(self) -> str | None:
        """The build folder of the index this process has open."""
        return self._ix_name

    def current_name(self) -> str | None:
        try:
            name = (self.base / CURRENT).read_text().strip()
        except OSError:
            return None
        return name if name and (self.base / name).is_dir() else None

    def index(self):
        """The live index, rebuilt from the database when missing or unreadable."""
        name = self.current_name()
        if name is None:
            self.rebuild()
            name = self.current_name()
        if self._ix is None or self._ix_name != name:
            with self._lock:
                if self._version(name) != SCHEMA_VERSION:
                    # built by an older release: its fields and analysis no longer match
                    log.warning("search index %s has an old layout; rebuilding", name)
                    self.rebuild()
                    name = self.current_name()
                self._ix = self._open(name)
                self._ix_name = name
        return self._ix

    def _open(self, name: str | None):
        for attempt in range(5):
            try:
                return windex.open_dir(str(self.base / name))
            except FileNotFoundError:
                # another process committed between listing the TOC and opening it
                time.sleep(0.02 * (attempt + 1))
            except Exception:  # EmptyIndexError, whoosh's IndexError, a torn file...
                log.warning("search index %s unreadable; rebuilding", name)
                self.rebuild()
                name = self.current_name()
        return windex.open_dir(str(self.base / name))

    def searcher(self) -> Searcher:
        """This thread's searcher, refreshed to the latest commit."""
        self.maybe_sync()
        ix = self.index()
        local = self._local
        held = getattr(local, "held", None)
        if held is None:
            held = local.held = _Held()
        searcher = held.searcher
        stale = searcher is None or held.ix_name != self._ix_name
        for attempt in range(5):
            try:
                if not stale and ix.latest_generation() == searcher.reader().generation():
                    break
                # A new searcher rather than whoosh's refresh(), which keys the segment
                # readers it may reuse by generation, so with several segments all but one
                # are dropped without being closed and their files stay open.
                held.close()
                searcher = None
                searcher = _pinned(ix.searcher(weighting=WEIGHTING))
                break
            except (OSError, TypeError):
                # another process merged segments and removed their files in between
                time.sleep(0.01 * (attempt + 1))
                ix = self._reload()
                stale = True
        else:
            searcher = self._reopen_after_failure()
        held.searcher = searcher
        held.ix_name = self._ix_name
        return searcher

    def _reload(self):
        with self._lock:
            self._ix = None
        return self.index()

    def _reopen_after_failure(self) -> Searcher:
        # index() rebuilds the index when its folder has gone
        return _pinned(self._reload().searcher(weighting=WEIGHTING))

    def close(self) -> None:
        held = getattr(self._local, "held", None)
        if held is not None:
            held.close()

    def _version(self, name: str | None) -> str | None:
        try:
            return (self.base / name / VERSION).read_text().strip()
        except (OSError, TypeError):
            return None

    # -- applied position ----------------------------------------------------------------

    def applied(self, name: str | None = None) -> int:
        name = name or self.current_name()
        if name is None:
            return 0
        try:
            return int((self.base / name / APPLIED).read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _write_applied(self, name: str, value: int) -> None:
        tmp = self.base / name / f"{APPLIED}.{uuid.uuid4().hex}"
        tmp.write_text(str(value))
        os.replace(tmp, self.base / name / APPLIED)

    # -- writing -------------------------------------------------------------------------

    def rebuild(self, procs: int = 1) -> int:
        """Write a fresh index from the database into a new folder and swap it in.

        With ``procs`` > 1 whoosh analyses in that many forked processes, each writing its
        own segment (no final merge): about twice as fast on two cores. Forking is left to
        command-line rebuilds; a web worker with threads rebuilds in one process.
        """
        self.base.mkdir(parents=True, exist_ok=True)
        name = f"ix-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        folder = self.base / name
        folder.mkdir()
        ix = windex.create_in(str(folder), build_schema())
        count = 0
        with reading(), Session(self._engine()) as session:
            high = session.scalar(select(func.max(SearchOutbox.id))) or 0
            if procs > 1:
                writer = ix.writer(limitmb=256, procs=procs, multisegment=True, compound=False)
            else:
                writer = ix.writer(limitmb=256, compound=False)
            try:
                for article in _published(session):
                    writer.add_document(**document(article))
                    count += 1
                writer.commit()
            except BaseException:
                writer.cancel()
                shutil.rmtree(folder, ignore_errors=True)
                raise
        self._write_applied(name, high)
        (folder / VERSION).write_text(SCHEMA_VERSION)
        tmp = self.base / f"{CURRENT}.{uuid.uuid4().hex}"
        tmp.write_text(name)
        os.replace(tmp, self.base / CURRENT)
        self._remove_old(keep={name})
        log.info("search index rebuilt: %d articles in %s", count, name)
        return count

    def _remove_old(self, keep: set[str]) -> None:
        folders = sorted(p for p in self.base.glob("ix-*") if p.name not in keep)
        # keep the previous build for readers that still have it open
        for folder in folders[:-1]:
            shutil.rmtree(folder, ignore_errors=True)

    def pending(self) -> bool:
        """True when the outbox holds changes this node's index has not applied."""
        with reading(), Session(self._engine()) as session:
            high = session.scalar(select(func.max(SearchOutbox.id))) or 0
        return high > self.applied()

    def maybe_sync(self) -> None:
        """Apply other writers' changes, at most once per sync interval, never raising."""
        now = time.monotonic()
        if now - self._last_check < self.sync_interval:
            return
        self._last_check = now
        try:
            if self.pending():
                self.sync(timeout=0.05)
        except Exception:  # a search must answer even when upkeep fails
            log.exception("search outbox check failed")

    def sync(self, timeout: float = 0.5, batch: int = 1000) -> int:
        """Apply outbox rows after this node's applied id; returns how many articles changed.

        Only one process writes at a time; when another holds the lock past ``timeout`` we
        leave the rows to it (or to ``flask search sync``) instead of making a save wait.
        """
        ix = self.index()
        name = self._ix_name
        last = self.applied(name)
        with reading(), Session(self._engine()) as session:
            rows = session.execute(
                select(SearchOutbox.id, SearchOutbox.article_id)
                .where(SearchOutbox.id > last)
                .order_by(SearchOutbox.id)
                .limit(batch)
            ).all()
            if not rows:
                return 0
            try:
                writer = ix.writer(timeout=timeout, compound=False)
            except LockError:
                return 0
            try:
                changed = self._apply(session, writer, {r.article_id for r in rows})
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
        self._write_applied(name, max(r.id for r in rows))
        if len(rows) == batch:
            changed += self.sync(timeout=timeout, batch=batch)
        return changed

    def _apply(self, session: Session, writer, article_ids: Iterable[int]) -> int:
        ids = sorted(set(article_ids))
        articles = {
            a.id: a
            for a in session.scalars(select(Article).where(Article.id.in_(ids)).options(*_loads()))
        }
        for article_id in ids:
            article = articles.get(article_id)
            if indexable(article):
                writer.update_document(**document(article))
            else:
                writer.delete_by_term("id", str(article_id))
        return len(ids)

    def check(self) -> dict[str, list[str]]:
        """Compare the index with the database: slugs missing from it and extra in it."""
        with reading(), Session(self._engine()) as session:
            expected = {str(a.id): a.slug for a in session.scalars(select(Article)) if indexable(a)}
        with _pinned(self.index().searcher(weighting=WEIGHTING)) as searcher:
            present = {doc["id"]: doc["slug"] for doc in searcher.all_stored_fields()}
        return {
            "missing": sorted(expected[i] for i in expected.keys() - present.keys()),
            "extra": sorted(present[i] for i in present.keys() - expected.keys()),
        }


class _Held:
    """A thread's searcher, closed when the thread ends (its thread-local storage goes),
    so a finished request thread leaves no index file open."""

    def __init__(self) -> None:
        self.searcher: Searcher | None = None
        self.ix_name: str | None = None

    def close(self) -> None:
        searcher, self.searcher = self.searcher, None
        if searcher is not None:
            with contextlib.suppress(Exception):  # already closed by a failed refresh
                searcher.close()

    def __del__(self) -> None:
        self.close()


# Columns a search reads; whoosh opens their files only when first read.
_COLUMNS = ("category_slug", "subcategory_slug")


def _pinned(searcher: Searcher) -> Searcher:
    """Open every file the searcher will read, now. Segments are plain files, and another
    process's commit may merge segments and delete the old files: a file already open stays
    readable, one opened later would be missing (whoosh then fails in the middle of a
    search). Raises OSError or TypeError when a file is already gone."""
    try:
        for leaf, _ in searcher.reader().leaf_readers():
            if not leaf.doc_count_all():
                continue
            if not leaf.stored_fields(0):  # opens the stored-fields column
                raise FileNotFoundError("stored fields missing")
            leaf.doc_field_length(0, "content")
            for name in _COLUMNS:
                if not leaf.has_column(name):
                    raise FileNotFoundError(name)
                leaf.column_reader(name)
    except BaseException:
        searcher.close()
        raise
    return searcher


def _loads():
    return (
        selectinload(Article.category),
        selectinload(Article.subcategory),
        selectinload(Article.tags),
    )


def _published(session: Session) -> Iterable[Article]:
    stmt = select(Article).where(Article.status == "published").order_by(Article.id)
    return session.scalars(stmt.options(*_loads()).execution_options(yield_per=500))
