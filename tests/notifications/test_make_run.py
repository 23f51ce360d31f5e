"""`make run` serves the portal and starts the background worker beside it; Ctrl-C stops
both. Run for real on a free port against a throwaway database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.notifications.test_mail import free_port

REPO = Path(__file__).resolve().parents[2]


def test_make_run_starts_the_worker_and_ctrl_c_stops_both(tmp_path):
    if shutil.which("make") is None or not (REPO / ".venv" / "bin" / "gunicorn").exists():
        reason = "this test runs `make run`, so it needs make and the project's .venv"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run it, but {reason}")
        pytest.skip(f"{reason} (run `make install` first)")
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "PORTAL_ATTACHMENTS_DIR": str(tmp_path / "files"),
        "PORTAL_ADMIN_PASSWORD": "make-run-test-password",
        "PORTAL_SECRET_KEY": "make-run-test",
        "PORTAL_ARTICLES_DIR": str(REPO / "tests" / "fixtures" / "articles"),
    }
    env.pop("DATABASE_URL", None)
    log = open(tmp_path / "make.log", "wb")  # noqa: SIM115  (closed below)
    make = subprocess.Popen(  # noqa: S603
        ["make", "--no-print-directory", "run", f"PORT={port}", "WORKERS=1"],  # noqa: S607
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal would give it
    )
    output = ""
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            output = (tmp_path / "make.log").read_text(errors="replace")
            if "worker running" in output and "Listening at" in output:
                break
            assert make.poll() is None, output
            time.sleep(0.5)
        else:
            pytest.fail(f"make run did not start both processes:\n{output}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:  # noqa: S310
            assert r.status == 200
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        make.wait(timeout=60)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(timeout=10)
        log.close()
    output = (tmp_path / "make.log").read_text(errors="replace")
    assert "worker" in output and "stopped" in output, output
    assert "Shutting down: Master" in output, output
    leftover = subprocess.run(  # noqa: S603
        ["pgrep", "-g", str(make.pid)],
        capture_output=True,
        text=True,  # noqa: S607
    )
    assert leftover.stdout.strip() == "", f"still running after Ctrl-C: {leftover.stdout}"
