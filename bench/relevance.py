"""Does search put the right article first for the words employees actually type?

Loads the starter library (articles/) into a throwaway database, runs every query of
bench/relevance_queries.py through the portal's search as an anonymous employee, and prints
the share with the right article first, in the top three, the mean reciprocal rank, and the
worst queries with what came first. Improve search or articles when it finds weak spots;
never the queries.
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
from portal.extensions import db  # noqa: E402


def rank_of(slugs: list[str], expected: str) -> int | None:
    return slugs.index(expected) + 1 if expected in slugs else None


def run(library: Path, worst: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/relevance.db",
                "SEARCH_INDEX_DIR": f"{tmp}/index",
                "SECRET_KEY": "relevance",
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade()
            report = import_path(library)
            db.session.commit()
            search.rebuild()
            rows = []
            started = time.perf_counter()
            for text, expected in QUERIES:
                results = search.search(text, EVERYONE, per_page=10)
                slugs = [hit.slug for hit in results.hits]
                rows.append((text, expected, rank_of(slugs, expected), slugs[:1]))
            elapsed = time.perf_counter() - started
            db.engine.dispose()
    n = len(rows)
    first = sum(1 for r in rows if r[2] == 1)
    top3 = sum(1 for r in rows if r[2] is not None and r[2] <= 3)
    mrr = sum(1 / r[2] for r in rows if r[2]) / n
    print(f"library: {len(report.created)} articles loaded, {len(report.failed)} failed")
    print(f"queries: {n} ({elapsed * 1000 / n:.1f} ms each)")
    print(f"right article first:  {first}/{n} = {first / n:.1%}  (target 85%)")
    print(f"right article in top 3: {top3}/{n} = {top3 / n:.1%}  (target 95%)")
    print(f"mean reciprocal rank: {mrr:.3f}")
    ranked = sorted(rows, key=lambda r: r[2] or 99, reverse=True)[:worst]
    print(f"\n{worst} worst queries (rank of the right article, and what came first):")
    for text, expected, rank, top in ranked:
        if rank == 1:
            break
        print(f"  {str(rank or '-'):>3}  {text!r} -> want {expected}, got {top[0] if top else '-'}")
    return {
        "queries": n,
        "first": round(first / n, 4),
        "top3": round(top3 / n, 4),
        "mrr": round(mrr, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=ROOT / "articles")
    parser.add_argument("--worst", type=int, default=10)
    args = parser.parse_args()
    figures = run(args.library, args.worst)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
