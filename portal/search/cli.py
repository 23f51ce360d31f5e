"""`flask search reindex|sync|check`: keep this node's index in step with the database."""

from __future__ import annotations

import time

import click

from portal import search

REBUILD_WAIT = 600.0  # a command waits for a missing or damaged index to be rebuilt


@click.group("search")
def search_cli() -> None:
    """Maintain the search index (derived from the database, rebuildable at any time)."""


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the index from the database into a new folder and swap it in."""
    started = time.perf_counter()
    count = search.rebuild()
    click.echo(f"indexed {count} articles in {time.perf_counter() - started:.1f}s")


@search_cli.command("sync")
@click.option("--watch", is_flag=True, help="Keep applying changes as they arrive.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between checks.")
def sync(watch: bool, interval: float) -> None:
    """Apply pending article changes from the outbox to this node's index."""
    while True:
        changed = search.store().sync(timeout=10, wait=REBUILD_WAIT)
        if changed or not watch:
            click.echo(f"applied {changed} article changes")
        if not watch:
            return
        time.sleep(interval)


@search_cli.command("check")
def check() -> None:
    """Compare the index with the database; exit 1 when they differ."""
    result = search.check(wait=REBUILD_WAIT)
    if result["missing"] or result["extra"]:
        click.echo(f"missing from index: {', '.join(result['missing']) or '-'}")
        click.echo(f"extra in index: {', '.join(result['extra']) or '-'}")
        raise SystemExit(1)
    click.echo("index matches the database")
