"""`flask setup`: what `make run` does after migrating, safe to run every time."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from portal import search
from portal.accounts.models import User
from portal.accounts.services import create_user, generate_password
from portal.articles.files import import_path
from portal.articles.models import Article
from portal.extensions import db


@click.command("setup")
def setup() -> None:
    """Load the starter library into an empty database, create the first admin, build the index."""
    if not db.session.scalar(select(func.count(Article.id))):
        folder = Path(current_app.config["ARTICLES_DIR"])
        if folder.is_dir():
            report = import_path(folder)
            db.session.commit()
            click.echo(f"loaded {len(report.created)} articles from {folder}")
            for name, reason in report.failed:
                click.echo(f"  skipped {name}: {reason}", err=True)
    if not db.session.scalar(select(func.count(User.id))):
        email = current_app.config["ADMIN_EMAIL"]
        password = current_app.config["ADMIN_PASSWORD"]
        generated = not password
        password = password or generate_password()
        create_user(email, "Administrator", {"admin", "agent", "editor"}, password)
        db.session.commit()
        click.echo(f"first admin: {email}")
        if generated:
            click.echo(f"password (shown once): {password}")
    search.store().index(wait=600)  # builds the index from the database when it is missing
    search.sync()
    click.echo("ready")
