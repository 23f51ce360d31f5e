"""Two portal nodes on loopback sharing one database, each with its own index.

Real server processes (gunicorn), so the index, the outbox and the sync between nodes are
exercised the way production runs them: a change saved through node A is found through
node B, and a node stopped during writes catches up when it starts again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from portal.articles.services import get_or_create_category
from portal.extensions import db
from tests.conftest import PASSWORD

BODY = (
    "## Symptoms\n\n- {word} fails\n\n## Applies to\n\n- all\n\n"
    "## Cause\n\nx\n\n## Resolution\n\n1. y\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, name: str, database_url: str, tmp: Path):
        self.name = name
        self.database_url = database_url
        self.index = tmp / f"{name}-index"
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PORTAL_SEARCH_INDEX_DIR": str(self.index),
            "PORTAL_SECRET_KEY": "two-nodes",
            "PORTAL_WTF_CSRF_ENABLED": "false",
            "PORTAL_RATELIMIT_ENABLED": "false",
            "PORTAL_SEARCH_SYNC_INTERVAL": "0.2",
            "PORTAL_MAIL_SEND_AFTER_COMMIT": "false",
        }

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "portal:create_app()",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120  # a shared, saturated machine: starts took > 30 s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"node {self.name} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process.stderr.close()
            self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def search(self, q: str) -> list[str]:
        url = f"{self.url}/api/v1/search?" + urllib.parse.urlencode({"q": q})
        with urllib.request.urlopen(url, timeout=5) as r:
            return [hit["slug"] for hit in json.load(r)["results"]]

    def check(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "portal", "search", "check"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


class Browser:
    def __init__(self, node: Node, email: str):
        self.node = node
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.post("/login", {"email": email, "password": PASSWORD})

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(f"{self.node.url}{path}", body, timeout=10) as r:
            return r.status

    def write(self, slug: str, word: str) -> None:
        self.post(
            "/articles/new",
            {
                "title": f"{word} problem",
                "slug": slug,
                "status": "draft",
                "visibility": "everyone",
                "category": "printing",  # chosen from the tree: publishing needs one
                "body": BODY.format(word=word),
                "save": "Save",
            },
        )
        self.post(f"/articles/{slug}/transition", {"target": "published"})


@pytest.fixture
def nodes(database_url, tmp_path, make_user):
    editor = make_user("editor")
    get_or_create_category("Printing")
    db.session.commit()
    pair = [Node("a", database_url, tmp_path), Node("b", database_url, tmp_path)]
    for node in pair:
        node.start()
    yield pair, editor
    for node in pair:
        node.stop()


def _found_within(node: Node, word: str, slug: str, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if slug in node.search(word):
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_two_nodes_share_changes_and_a_stopped_node_catches_up(nodes):
    (a, b), editor = nodes
    writer = Browser(a, editor.email)
    writer.write("quokka-printer", "quokkaprinter")
    assert _found_within(a, "quokkaprinter", "quokka-printer", 1.0) is not None
    assert _found_within(b, "quokkaprinter", "quokka-printer", 2.0) is not None

    b.stop()
    for n in range(12):
        writer.write(f"while-down-{n}", f"wombatdown{n}")
    b.start()
    assert _found_within(b, "wombatdown11", "while-down-11", 5.0) is not None
    for n in range(12):
        assert f"while-down-{n}" in b.search(f"wombatdown{n}")
    result = b.check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "index matches the database" in result.stdout
