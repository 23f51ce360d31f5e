"""Flask-Migrate, loaded on first use.

A web worker never migrates, and importing Flask-Migrate imports alembic and mako: 11 MB
of every gunicorn worker (measured at 10,000 articles, where a worker must stay under
200 MB). So ``flask db ...`` and ``flask_migrate.upgrade()`` set it up when they first
need it: the command group loads it when the CLI asks for its commands, and
``app.extensions["migrate"]``, which every Flask-Migrate function reads, loads it when
first read.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask


class _Extensions(dict):
    """``app.extensions`` that sets Flask-Migrate up the first time it is asked for."""

    def __init__(self, app: Flask, *args) -> None:
        super().__init__(*args)
        self._app = app

    def __missing__(self, key: str):
        if key != "migrate":
            raise KeyError(key)
        _bind(self._app)
        return dict.__getitem__(self, key)


class _Commands(click.Group):
    """``flask db``: Flask-Migrate's command group (its options, its callback, its
    commands), imported when the CLI parses a ``db`` command line."""

    def __init__(self) -> None:
        super().__init__("db", help="Database migrations (Flask-Migrate).")
        self._group: click.Group | None = None

    def _real(self, ctx: click.Context) -> click.Group:
        if self._group is None:
            from flask.cli import ScriptInfo

            app = ctx.ensure_object(ScriptInfo).load_app()
            app.extensions["migrate"]  # noqa: B018 (loads Flask-Migrate for this app)
            from flask_migrate.cli import db

            self.params, self.callback, self.help = db.params, db.callback, db.help
            self._group = db
        return self._group

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._real(ctx)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str):
        return self._real(ctx).get_command(ctx, name)


def _bind(app: Flask) -> None:
    from flask_migrate import Migrate

    from portal.extensions import db

    directory = Path(app.root_path).parent / "migrations"
    Migrate(app, db, directory=str(directory), render_as_batch=True, compare_type=True)


def init_app(app: Flask) -> None:
    app.extensions = _Extensions(app, app.extensions)
    app.cli.add_command(_Commands())
