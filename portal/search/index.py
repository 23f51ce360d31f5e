"""Index upkeep: open, rebuild, and apply the outbox. The database is the truth.

Layout of ``SEARCH_INDEX_DIR``: one folder per build (``ix-<stamp>``) and a ``CURRENT`` file
naming the live one, so a rebuild writes a new folder and swaps it in atomically. Each folder
holds an ``applied`` file: the last outbox id this node's index has applied. ``rebuild.lock``
makes the node's processes rebuild one at a time.

The index heals itself. A build that is missing (folder or ``CURRENT`` deleted), of an old
layout, or that fails a read (files truncated or overwritten) is rebuilt once per node: the
first process to find the fault rebuilds in a background thread under the lock, the others
find the new build when they get the lock and only reopen it. Meanwhile searches answer from
the last good build a thread still holds, or from the database (``fallback``).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from whoosh import index as windex
from whoosh import scoring
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile
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
REBUILD_LOCK = "rebuild.lock"
HEAL_RETRY_SECONDS = 2.0  # after a failed rebuild (database down...), before trying again
VERIFY_SECONDS = 1.0  # how long a build that read well is trusted without reading it again


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
    content = pack_sections([(text, FIELD_BOOSTS[name]) for name, text in sections.items()])
    return {
        "id": str(article.id),
        "article_id": article.id,
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary or "",
        "symptoms": symptoms_text,
        "body": body_text,
        "content": content,
        "pairs": content,  # analysed into neighbouring word pairs (schema.WordPairs)
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


class IndexUnavailable(RuntimeError):
    """No readable build of the index; one rebuild has been asked for."""


class IndexStore:
    """One node's index: readers keep one searcher per thread, writers take turns.

    A build that is missing, of an old layout or unreadable is healed: the first read that
    fails asks for one rebuild, made by a background thread of one process at a time (a
    file lock in the index folder), while searches answer from the last good build or fail
    over to ``portal.search.fallback``.
    """

    def __init__(
        self,
        base: str | os.PathLike,
        engine_getter,
        sync_interval: float = 0.5,
        heal_wait: float = 2.0,
    ):
        self.base = Path(base)
        self._engine = engine_getter
        self.sync_interval = sync_interval
        self.heal_wait = heal_wait
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ix = None
        self._ix_name: str | None = None
        self._last_check = 0.0
        self._heal_lock = threading.Lock()
        self._healing: threading.Event | None = None
        self._heal_failed_at = -1e9
        self._damaged: str | None = None  # a build a probe found unreadable
        self._verified: tuple = (None, 0.0, None)  # last build that read well, when, its files

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

    def index(self, wait: float | None = None):
        """The live index. When it is missing, of an old layout or unreadable, one rebuild
        is asked for and this waits up to ``wait`` seconds (default ``heal_wait``) for it;
        raises IndexUnavailable when there is still none."""
        ix = self._live()
        if ix is not None:
            return ix
        # The build found unreadable, not CURRENT read again: a thread that read CURRENT
        # just before a rebuild swapped it would otherwise ask to rebuild the new build too.
        done = self.heal(self._damaged or self.current_name())
        if done.wait(self.heal_wait if wait is None else wait):
            ix = self._live()
            if ix is not None:
                return ix
        raise IndexUnavailable(f"no readable search index in {self.base}")

    def _live(self):
        """The index CURRENT names, opened once per process; None when it cannot be."""
        name = self.current_name()
        if name is None or name == self._damaged:
            return None
        if self._ix is not None and self._ix_name == name:
            return self._ix
        with self._lock:
            if self._ix is not None and self._ix_name == name:
                return self._ix
            if self._version(name) != SCHEMA_VERSION:
                # built by an older release: its fields and analysis no longer match
                log.warning("search index %s has an old layout; rebuilding", name)
                self._damaged = name
                return None
            try:
                ix = self._open(name)
            except Exception as exc:  # EmptyIndexError, whoosh's IndexError, a torn TOC...
                # the text only: a kept traceback would keep whoosh's unclosed TOC file open
                log.warning("search index %s unreadable (%s); rebuilding", name, _describe(exc))
                self._damaged = name
                return None
            ix.portal_build = name  # which build a searcher opened from it reads
            self._ix, self._ix_name = ix, name
            return ix

    def _open(self, name: str):
        for attempt in range(4):
            try:
                return _Storage(str(self.base / name)).open_index()
            except FileNotFoundError:
                # another process committed between listing the TOC and opening it
                time.sleep(0.02 * (attempt + 1))
        return _Storage(str(self.base / name)).open_index()

    def searcher(self) -> Searcher:
        """This thread's searcher, refreshed to the latest commit.

        While the live build is missing, a thread that still holds a searcher on the last
        good build keeps using it (its files stay open); raises IndexUnavailable otherwise.
        """
        self.maybe_sync()
        local = self._local
        held = getattr(local, "held", None)
        if held is None:
            held = local.held = _Held()
        try:
            ix = self.index(wait=0 if held.searcher is not None else None)
        except IndexUnavailable:
            if held.searcher is not None and held.ix_name != self._damaged:
                return held.searcher
            raise
        searcher = held.searcher
        stale = searcher is None or held.ix_name != ix.portal_build
        for attempt in range(4):
            try:
                if not stale and ix.latest_generation() == searcher.reader().generation():
                    return searcher
                # A new searcher rather than whoosh's refresh(), which keys the segment
                # readers it may reuse by generation, so with several segments all but one
                # are dropped without being closed and their files stay open.
                held.close()
                searcher = held.searcher = _pinned(ix.searcher(weighting=WEIGHTING))
                held.ix_name = ix.portal_build
                return searcher
            except (OSError, TypeError):
                # another process merged segments and removed their files in between
                time.sleep(0.01 * (attempt + 1))
                ix = self._reload()
                stale = True
        held.close()
        ix = self._reload()
        searcher = held.searcher = _pinned(ix.searcher(weighting=WEIGHTING))
        held.ix_name = ix.portal_build
        return searcher

    def _reload(self):
        with self._lock:
            self._ix = None
        return self.index()

    def close(self) -> None:
        held = getattr(self._local, "held", None)
        if held is not None:
            held.close()

    def _version(self, name: str | None) -> str | None:
        try:
            return (self.base / name / VERSION).read_text().strip()
        except (OSError, TypeError, ValueError):  # missing, or not text (damaged)
            return None

    # -- healing -------------------------------------------------------------------------

    def recover(self, wait: float | None = None) -> bool:
        """After a failed read: True when a retry may succeed (the live build changed, or a
        rebuild of the damaged one finished within ``wait`` seconds). A build that still
        reads well is not rebuilt: the failure was not damage."""
        held = getattr(self._local, "held", None)
        failed = held.ix_name if held is not None and held.ix_name else self._ix_name
        if held is not None:
            held.close()
        current = self.current_name()
        if current is not None and current != failed and current != self._damaged:
            return True  # rebuilt meanwhile (by this process or another): reopen
        if current is not None and current != self._damaged and self.verified(fresh=True):
            return False
        done = self.heal(current)
        return done.wait(self.heal_wait if wait is None else wait) and self._live() is not None

    def believable(self) -> bool:
        """Whether this thread's last search, which found nothing, can be believed: its
        searcher reads a build not known to be damaged, either the last good one while the
        live one is missing or replaced, or the live one, which reads well."""
        held = getattr(self._local, "held", None)
        name = held.ix_name if held is not None else None
        if name is None or name == self._damaged:
            return False
        if name != self.current_name():
            return True
        return self.verified()

    def verified(self, fresh: bool = False) -> bool:
        """True when the live build reads well; False marks it damaged. A search that found
        nothing asks too, as a build overwritten with random bytes may answer nothing rather
        than fail; a success is trusted for VERIFY_SECONDS unless ``fresh`` or a file of the
        build has changed since (sizes and modification times: one directory listing)."""
        name = self.current_name()
        if name is None or name == self._damaged:
            return False
        checked, files = self._verified, self._files(name)
        if (
            not fresh
            and checked[0] == name
            and time.monotonic() - checked[1] < VERIFY_SECONDS
            and checked[2] == files
        ):
            return True
        if self.readable(name):
            self._verified = (name, time.monotonic(), files)
            return True
        log.warning("search index %s damaged; rebuilding", name)
        self._damaged = name
        return False

    def _files(self, name: str) -> frozenset | None:
        """Each file of a build with its size and modification time, to tell whether the
        build changed since it last read well (overwritten in place, a commit)."""
        try:
            with os.scandir(self.base / name) as entries:
                return frozenset(
                    (e.name, st.st_size, st.st_mtime_ns) for e in entries for st in [e.stat()]
                )
        except OSError:
            return None

    def readable(self, name: str | None = None) -> bool:
        """Open a build afresh and read real data from each segment (see ``_probe``)."""
        name = name or self.current_name()
        if name is None or self._version(name) != SCHEMA_VERSION:
            return False
        try:
            with _pinned(self._open(name).searcher(weighting=WEIGHTING)) as searcher:
                _probe(searcher)
        except Exception as exc:  # whoosh fails in many ways on torn or random bytes
            log.warning("search index %s failed its read check (%s)", name, _describe(exc))
            return False
        return True

    def health(self) -> str:
        """ "ok", or "degraded" while the live build is missing, damaged or being rebuilt.
        Reads the build afresh, as a new process would, when it changed on disk or was last
        read more than VERIFY_SECONDS ago (a load balancer polls this path: opening the
        index at every poll took 40% of a worker); a fault it finds is healed like one
        found by a search. Never waits for the rebuild."""
        try:
            self.index(wait=0)
        except IndexUnavailable:
            return "degraded"
        if self.verified():
            return "ok"
        self.heal(self.current_name())
        return "degraded"

    def heal(self, damaged: str | None) -> threading.Event:
        """Ask for the live build (``damaged``, or None when missing) to be rebuilt: one
        background thread per process, and one rebuild per node (``_heal``). Returns an
        event set when it is done."""
        with self._heal_lock:
            if self._healing is not None:
                return self._healing
            done = threading.Event()
            if time.monotonic() - self._heal_failed_at < HEAL_RETRY_SECONDS:
                return done  # the last attempt failed a moment ago: fail over, retry soon
            self._healing = done
        engine = self._engine()  # the caller has the app context; the thread does not
        thread = threading.Thread(
            target=self._heal, args=(damaged, engine, done), name="search-heal", daemon=True
        )
        thread.start()
        return done

    def _heal(self, damaged: str | None, engine, done: threading.Event) -> None:
        try:
            with self._rebuild_lock():
                current = self.current_name()
                if current is None or current == damaged or not self.readable(current):
                    self._build(engine)
                # else another process rebuilt it while this one waited for the lock
            with self._lock:
                self._ix = None
                self._damaged = None
        except Exception:
            log.exception("search index rebuild failed; searches use the database meanwhile")
            self._heal_failed_at = time.monotonic()
        finally:
            with self._heal_lock:
                self._healing = None
            done.set()

    @contextlib.contextmanager
    def _rebuild_lock(self) -> Iterator[None]:
        """One rebuild at a time across this node's processes. The lock file lives in the
        index folder, which an operator may delete whole: a lock taken on a file that is no
        longer the folder's is taken again on the new one."""
        while True:
            self.base.mkdir(parents=True, exist_ok=True)
            path = self.base / REBUILD_LOCK
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.fstat(fd).st_ino == os.stat(path).st_ino
                except FileNotFoundError:
                    same = False
                if same:
                    try:
                        yield
                    finally:
                        fcntl.flock(fd, fcntl.LOCK_UN)
                    return
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

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
        command-line rebuilds; a web worker with threads rebuilds in one process. Waits for
        a rebuild in progress elsewhere on this node to finish first.
        """
        engine = self._engine()
        with self._rebuild_lock():
            count = self._build(engine, procs)
        with self._lock:
            self._ix = None
            self._damaged = None
        return count

    def _build(self, engine, procs: int = 1) -> int:
        """The rebuild itself; the caller holds the rebuild lock."""
        previous = self.current_name()
        name = f"ix-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        folder = self.base / name
        folder.mkdir(parents=True)
        started = time.perf_counter()
        count = 0
        try:
            ix = windex.create_in(str(folder), build_schema())
            with reading(), Session(engine) as session:
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
                    raise
            self._write_applied(name, high)
            (folder / VERSION).write_text(SCHEMA_VERSION)
            tmp = self.base / f"{CURRENT}.{uuid.uuid4().hex}"
            tmp.write_text(name)
            os.replace(tmp, self.base / CURRENT)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._remove_old(keep={name, previous})
        log.info(
            "search index rebuilt: %d articles in %s (%.2f s)",
            count,
            name,
            time.perf_counter() - started,
        )
        return count

    def _remove_old(self, keep: set[str | None]) -> None:
        """Delete the builds before the previous one (readers may still have that open),
        and builds a crash left half written. Only called under the rebuild lock, so no
        other build is in progress."""
        for folder in self.base.glob("ix-*"):
            if folder.name not in keep:
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

    def sync(self, timeout: float = 0.5, batch: int = 1000, wait: float | None = None) -> int:
        """Apply outbox rows after this node's applied id; returns how many articles changed.

        Only one process writes at a time; when another holds the lock past ``timeout`` we
        leave the rows to it (or to ``flask search sync``) instead of making a save wait.
        A missing or damaged index is rebuilt instead (waiting up to ``wait`` seconds).
        """
        try:
            ix = self.index(wait=wait)
        except IndexUnavailable:
            return 0  # the rebuild reads every saved change; later ones come with the next sync
        name = ix.portal_build
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
            writer = None
            try:
                writer = ix.writer(timeout=timeout, compound=False)
                changed = self._apply(session, writer, {r.article_id for r in rows})
                writer.commit()
            except LockError:
                return 0
            except BaseException:
                if writer is not None:
                    with contextlib.suppress(Exception):
                        writer.cancel()
                if not self.verified(fresh=True):  # a damaged build: rebuild, do not fail
                    self.heal(name)
                    return 0
                raise
        self._write_applied(name, max(r.id for r in rows))
        if len(rows) == batch:
            changed += self.sync(timeout=timeout, batch=batch, wait=wait)
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

    def check(self, wait: float | None = None) -> dict[str, list[str]]:
        """Compare the index with the database: slugs missing from it and extra in it."""
        with reading(), Session(self._engine()) as session:
            expected = {str(a.id): a.slug for a in session.scalars(select(Article)) if indexable(a)}
        with _pinned(self.index(wait=wait).searcher(weighting=WEIGHTING)) as searcher:
            present = {doc["id"]: doc["slug"] for doc in searcher.all_stored_fields()}
        return {
            "missing": sorted(expected[i] for i in expected.keys() - present.keys()),
            "extra": sorted(present[i] for i in present.keys() - expected.keys()),
        }


class _Storage(FileStorage):
    """Reads the table of contents into memory: whoosh's ``TOC.read`` leaves the TOC file
    open when it cannot parse it (torn or random bytes), and every retry would leak one."""

    def open_file(self, name: str, **kwargs) -> StructFile:
        if name.endswith(".toc"):
            with open(self._fpath(name), "rb") as toc:
                return BufferFile(toc.read(), name=name)
        return super().open_file(name, **kwargs)


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


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _probe(searcher: Searcher) -> None:
    """Read real data from every segment, as a search does: the stored fields and lengths
    of the first and last document, the category columns, and the postings of a few terms
    of the text and spelling fields. Raises when a file is damaged; ``doc_count()`` alone
    reads only the table of contents."""
    for leaf, _ in searcher.reader().leaf_readers():
        count = leaf.doc_count_all()
        if not count:
            continue
        for docnum in sorted({0, count - 1}):
            if "id" not in leaf.stored_fields(docnum):
                raise ValueError(f"document {docnum} has no stored id")
            leaf.doc_field_length(docnum, "content")
        for name in _COLUMNS:
            leaf.column_reader(name)[count - 1]
        for fieldname in ("content", "spell", "pairs"):
            for term in itertools.islice(leaf.lexicon(fieldname), 3):
                if list(leaf.postings(fieldname, term).all_ids()):
                    continue
                # A word only an edited article's old version held: that document is
                # deleted but stays in its segment until a merge. Not damage.
                if leaf.has_deletions() and leaf.doc_frequency(fieldname, term) > 0:
                    continue
                raise ValueError(f"term {term!r} of {fieldname} has no postings")


def _loads():
    return (
        selectinload(Article.category),
        selectinload(Article.subcategory),
        selectinload(Article.tags),
    )


def _published(session: Session) -> Iterable[Article]:
    stmt = select(Article).where(Article.status == "published").order_by(Article.id)
    return session.scalars(stmt.options(*_loads()).execution_options(yield_per=500))
