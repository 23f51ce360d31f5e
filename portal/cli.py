"""Register every command group under `flask --app portal ...`."""

from flask import Flask


def register(app: Flask) -> None:
    from portal.accounts.cli import tokens, users
    from portal.analytics.cli import analytics_cli
    from portal.articles.cli import kb
    from portal.bootstrap import setup
    from portal.incidents.cli import incidents_cli
    from portal.notifications.cli import mail, worker
    from portal.search.cli import search_cli

    for command in (
        kb,
        search_cli,
        users,
        tokens,
        incidents_cli,
        mail,
        worker,
        analytics_cli,
        setup,
    ):
        app.cli.add_command(command)
