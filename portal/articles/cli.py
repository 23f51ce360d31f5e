"""`flask kb import|export`: the library as Markdown files (docs-as-code)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from portal.articles.files import export_path, import_path
from portal.articles.models import Article
from portal.extensions import db


@click.group("kb")
def kb() -> None:
    """Import and export the knowledge base as Markdown files with front matter."""


@kb.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_command(path: Path) -> None:
    """Create or update articles from a file or a folder of *.md files."""
    report = import_path(path)
    db.session.commit()
    click.echo(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed"
    )
    for name, reason in report.failed:
        click.echo(f"  {name}: {reason}", err=True)
    if not report.ok:
        raise SystemExit(1)


@kb.command("export")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def export_command(path: Path) -> None:
    """Write every article to PATH as <slug>.md."""
    articles = list(db.session.scalars(select(Article).order_by(Article.slug)))
    count = export_path(path, articles)
    click.echo(f"{count} articles written to {path}")
