import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_migrations_match_the_models(app):
    """A model change without its migration would break `flask db upgrade` users."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_flask_db_upgrade_works_with_migrate_loaded_on_demand(runner, tmp_path):
    """`flask db upgrade` is how an admin migrates: the group, its options and commands
    are there, and a new database reaches the newest revision."""
    listed = runner.invoke(args=["db", "--help"])
    assert listed.exit_code == 0, listed.output
    assert "upgrade" in listed.output and "--directory" in listed.output
    url = f"sqlite:///{tmp_path}/new.db"
    env = {**os.environ, "PORTAL_SQLALCHEMY_DATABASE_URI": url, "PORTAL_SECRET_KEY": "t"}
    flask = [sys.executable, "-m", "flask", "--app", "portal", "db", "upgrade"]
    subprocess.run(flask, env=env, capture_output=True, timeout=120, check=True)
    versions = Path(__file__).parent.parent / "migrations" / "versions"
    head = sorted(p.name.split("_")[0] for p in versions.glob("0*.py"))[-1]
    with sqlite3.connect(tmp_path / "new.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)


def test_a_web_worker_does_not_load_alembic(tmp_path):
    """A worker serving searches never migrates: alembic and mako (11 MB of each gunicorn
    worker) are loaded only by `flask db` and by whoever calls Flask-Migrate."""
    probe = f"""
import sys
from portal import create_app
app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/w.db", "SECRET_KEY": "t",
                  "SEARCH_INDEX_DIR": "{tmp_path}/index"}})
with app.test_client() as client:
    assert client.get("/healthz").status_code in (200, 503)
print(sorted(m for m in ("alembic", "mako", "flask_migrate") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
