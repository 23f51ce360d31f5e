"""Does search answer well, and stay silent when it has no answer?

Loads the starter library (articles/) into a throwaway database, runs five query sets
through the portal's search as an anonymous employee, and prints for each its figures
against the targets of issue 12, the worst queries, and one JSON line of every figure:

- in-scope (bench/relevance_queries.py): right article first, in the top 3, listed as a match;
- out-of-scope (bench/relevance_out_of_scope.txt): problems no article covers: no match;
- paraphrases (bench/relevance_paraphrase.txt, then relevance_paraphrase_more.txt): right
  article first, counted on the queries
  that share at most one content word with the article's title and Symptoms;
- typos (bench/relevance_typos.txt): right article first, and a correction offered;
- correct words the library lacks (bench/relevance_unknown_words.txt): no suggestion.

The sets were written blind (without reading the articles) and are never edited after their
first run: improve search or the articles when the bench finds weak spots, never the queries.
``--lexical`` turns semantic search off, to compare.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from flask_migrate import upgrade  # noqa: E402
from relevance_queries import QUERIES  # noqa: E402

from portal import create_app, search  # noqa: E402
from portal.access import EVERYONE  # noqa: E402
from portal.articles.files import import_path  # noqa: E402
from portal.articles.models import Article  # noqa: E402
from portal.articles.shape import symptoms  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.markdown import plain_text  # noqa: E402
from portal.search import query as sq  # noqa: E402

BENCH = ROOT / "bench"


def read_set(name: str) -> list[list[str]]:
    """Rows of a set's query files (``relevance_<name>.txt``, then each later file of the set,
    ``relevance_<name>_*.txt``, written blind in its turn): tab-separated columns, '#' lines
    are comments."""
    rows = []
    files = [BENCH / f"relevance_{name}.txt", *sorted(BENCH.glob(f"relevance_{name}_*.txt"))]
    for path in files:
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                rows.append(line.split("\t"))
    return rows


def rank_of(slugs: list[str], expected: set[str]) -> int | None:
    for i, slug in enumerate(slugs, 1):
        if slug in expected:
            return i
    return None


def share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def line(label: str, n: int, d: int, target: str) -> None:
    print(f"  {label:<34} {n:>3}/{d:<3} = {n / d if d else 0:6.1%}   (target {target})")


def content_overlap(text: str, article_text: str) -> int:
    return len(set(sq.informative(sq.analyze(text))) & set(sq.analyze(article_text)))


def run(library: Path, worst: int, lexical: bool, settings: dict | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/relevance.db",
            "SEARCH_INDEX_DIR": f"{tmp}/index",
            "SECRET_KEY": "relevance",
            "RATELIMIT_ENABLED": False,
            "SEARCH_CACHE_SIZE": 0,
        }
        if lexical:
            config["SEARCH_SEMANTIC"] = False
        config.update(settings or {})
        app = create_app(config)
        with app.app_context():
            upgrade()
            report = import_path(library)
            db.session.commit()
            search.rebuild()
            texts = {
                a.slug: f"{a.title} {plain_text(symptoms(a.body_md))}"
                for a in db.session.query(Article)
            }
            started = time.perf_counter()
            figures, count = measure(texts, worst)
            elapsed = time.perf_counter() - started
            figures["semantic"] = search.semantic.enabled()
            db.engine.dispose()
    print(f"library: {len(report.created)} articles loaded, {len(report.failed)} failed")
    print(f"semantic search: {'on' if figures['semantic'] else 'off (lexical only)'}")
    print(f"{count} queries, {elapsed * 1000 / count:.1f} ms each")
    return figures


def ask(text: str):
    return search.search(text, EVERYONE, per_page=10)


def measure(texts: dict[str, str], worst: int) -> tuple[dict, int]:
    figures: dict = {}
    count = 0

    # 1. in scope
    rows = []
    for text, expected in QUERIES:
        results = ask(text)
        slugs = [h.slug for h in results.hits]
        listed = rank_of(slugs + [h.slug for h in results.related], {expected})
        rows.append((text, expected, rank_of(slugs, {expected}), slugs[:1], listed))
    count += len(rows)
    n = len(rows)
    first = sum(1 for r in rows if r[2] == 1)
    top3 = sum(1 for r in rows if r[2] and r[2] <= 3)
    matched = sum(1 for r in rows if r[2])
    mrr = sum(1 / r[2] for r in rows if r[2]) / n
    print(f"\nin scope ({n} queries)")
    line("right article first", first, n, ">= 97%")
    line("right article in top 3", top3, n, "100%")
    line("right article listed as a match", matched, n, ">= 98%")
    print(f"  mean reciprocal rank               {mrr:.3f}")
    bad = sorted((r for r in rows if r[2] != 1), key=lambda r: r[2] or 99, reverse=True)
    for text, expected, rank, top, listed in bad[:worst]:
        where = f"related {listed}" if not rank and listed else (rank or "-")
        print(f"    {str(where):>9}  {text!r} -> want {expected}, got {top[0] if top else '-'}")
    figures.update(
        in_scope_first=share(first, n),
        in_scope_top3=share(top3, n),
        in_scope_match=share(matched, n),
        in_scope_mrr=round(mrr, 4),
    )

    # 2. out of scope
    rows = []
    for (text,) in read_set("out_of_scope"):
        results = ask(text)
        rows.append((text, results.total, [h.slug for h in results.hits][:1]))
    count += len(rows)
    n = len(rows)
    silent = sum(1 for r in rows if r[1] == 0)
    print(f"\nout of scope ({n} queries)")
    line("no match", silent, n, ">= 85%")
    for text, total, top in sorted(rows, key=lambda r: -r[1])[:worst]:
        if total:
            print(f"    {total:>3} matches  {text!r} -> first {top[0]}")
    figures["out_of_scope_no_match"] = share(silent, n)

    # 3. paraphrases
    rows = []
    for text, _intent, labels in read_set("paraphrase"):
        if labels == "-":
            continue
        expected = set(labels.split("|"))
        overlap = min(content_overlap(text, texts[s]) for s in expected)
        results = ask(text)
        slugs = [h.slug for h in results.hits]
        rows.append((text, labels, rank_of(slugs, expected), slugs[:1], overlap))
    count += len(rows)
    fair = [r for r in rows if r[4] <= 1]
    n = len(fair)
    first = sum(1 for r in fair if r[2] == 1)
    print(f"\nparaphrases ({len(rows)} with an article; {n} share at most one content word)")
    line("right article first", first, n, ">= 85%")
    line("  (all with an article)", sum(1 for r in rows if r[2] == 1), len(rows), "-")
    for text, labels, rank, top, _ in sorted(
        (r for r in fair if r[2] != 1), key=lambda r: r[2] or 99, reverse=True
    )[:worst]:
        print(f"    {str(rank or '-'):>3}  {text!r} -> want {labels}, got {top[0] if top else '-'}")
    figures["paraphrase_first"] = share(first, n)
    figures["paraphrase_queries"] = n

    # 4. typos
    rows = []
    all_typos = read_set("typos")
    for text, _intent, labels in all_typos:
        results = ask(text)
        slugs = [h.slug for h in results.hits]
        expected = set(labels.split("|")) if labels != "-" else None
        rank = rank_of(slugs, expected) if expected else None
        rows.append((text, labels, rank, slugs[:1], results.suggestion))
    count += len(rows)
    labelled = [r for r in rows if r[1] != "-"]
    first = sum(1 for r in labelled if r[2] == 1)
    offered = sum(1 for r in rows if r[4])
    print(f"\ntypos ({len(rows)} queries, {len(labelled)} with an article)")
    line("right article first", first, len(labelled), ">= 90%")
    line("correction offered", offered, len(rows), ">= 85%")
    for text, labels, rank, top, suggestion in rows:
        if rank != 1 and labels != "-" or not suggestion:
            print(
                f"    {str(rank or '-'):>3}  {text!r} -> want {labels}, "
                f"got {top[0] if top else '-'}; suggestion {suggestion!r}"
            )
    figures["typo_first"] = share(first, len(labelled))
    figures["typo_correction"] = share(offered, len(rows))

    # 5. correct words the library lacks
    rows = []
    for (text,) in read_set("unknown_words"):
        rows.append((text, ask(text).suggestion))
    count += len(rows)
    wrong = [r for r in rows if r[1]]
    print(f"\ncorrect words the library lacks ({len(rows)} queries)")
    print(f"  suggestions made                   {len(wrong):>3}        (target 0)")
    for text, suggestion in wrong[:worst]:
        print(f"    {text!r} -> {suggestion!r}")
    figures["unknown_word_suggestions"] = len(wrong)
    return figures, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=ROOT / "articles")
    parser.add_argument("--worst", type=int, default=10)
    parser.add_argument("--lexical", action="store_true", help="semantic search off")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for this run, e.g. SEARCH_SEMANTIC_MATCH=0.84 (JSON value), to compare",
    )
    args = parser.parse_args()
    settings = {}
    for item in args.set:
        key, _, value = item.partition("=")
        settings[key] = json.loads(value)
    figures = run(args.library, args.worst, args.lexical, settings)
    if settings:
        figures["settings"] = settings
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
