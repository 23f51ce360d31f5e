"""A second app on the same database, as a second gunicorn worker (or a differently
configured node) would be; closed properly at the end of the test."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import Client


@pytest.fixture
def another_app(app):
    """make(**config changes) -> a new app sharing the test's database and settings."""
    made = []

    def make(**changes):
        other = create_app({**app.config, **changes})
        other.test_client_class = Client
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            other.extensions["search"].close()
            db.engine.dispose()
