"""A live portal in a background thread and a headless Chromium to drive it.

The portal runs with real CSRF (the browser submits the real forms) against the session's
migrated database, seeded once per module with a few articles and users.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from portal import create_app
from portal.accounts.services import create_user
from portal.articles.services import ArticleData, save_article
from portal.extensions import db
from tests.conftest import PASSWORD, _config, _empty_tables

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SHOTS_COPY = Path("/tmp/firstfix-shots")

EMPLOYEE_EMAIL = "erin.employee@example.com"
AGENT_EMAIL = "alex.agent@example.com"


def _body(symptoms: str, cause: str, step: str) -> str:
    return (
        f"## Symptoms\n\n- {symptoms}\n\n## Applies to\n\n- Windows and macOS laptops\n\n"
        f"## Cause\n\n{cause}\n\n## Resolution\n\n1. {step}\n"
        "2. If this did not help, raise an incident.\n"
    )


# slug -> (title, category, subcategory, visibility, symptoms, cause, step)
ARTICLES = {
    "printer-offline": (
        "Printer shows as offline",
        "Printing and scanning",
        "Printers",
        "everyone",
        "The printer is listed as offline and print jobs stay in the queue",
        "The laptop lost its connection to the print server.",
        "Remove the printer and add it again from the print portal.",
    ),
    "vpn-wont-connect": (
        "VPN will not connect",
        "Network and remote access",
        "VPN",
        "everyone",
        "The VPN client says the connection timed out",
        "The VPN certificate on the laptop expired.",
        "Open the VPN client and choose Renew certificate.",
    ),
    "outlook-calendar-missing": (
        "Shared calendar missing in Outlook",
        "Email and calendar",
        "Outlook",
        "everyone",
        "A shared calendar disappeared from the Outlook sidebar",
        "The calendar permission was changed by its owner.",
        "Ask the owner to share the calendar again, then reopen Outlook.",
    ),
    "reset-mfa-token": (
        "Reset a colleague's MFA token",
        "Accounts and access",
        "Multi-factor authentication",
        "staff",
        "A colleague lost the phone with the authenticator app (zephyrcode procedure)",
        "The MFA registration is tied to the lost phone.",
        "Verify the colleague's identity, then clear the MFA registration in the admin centre.",
    ),
}
STAFF_ONLY_WORD = "zephyrcode"


@dataclass
class LivePortal:
    url: str
    app: object
    shots: Path
    console_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)

    def shot(self, page, name: str, full_page: bool = True) -> Path:
        """Save a screenshot into this run's folder and copy it where a person can look."""
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        SHOTS_COPY.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, SHOTS_COPY / path.name)
        return path


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (a page is three requests); errors still show."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class _ExceptionLog(logging.Handler):
    """Keeps the exceptions the portal logs while serving, to show in a failure."""

    def __init__(self, sink: list[str]):
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            self.sink.append(f"{record.getMessage()}: {type(exc).__name__}: {exc}")
        else:
            self.sink.append(record.getMessage())


def _seed() -> None:
    _empty_tables()
    create_user(EMPLOYEE_EMAIL, "Erin Employee", ["employee"], PASSWORD)
    agent = create_user(AGENT_EMAIL, "Alex Agent", ["agent"], PASSWORD)
    for slug, (title, category, sub, visibility, symptoms, cause, step) in ARTICLES.items():
        data = ArticleData(
            slug=slug,
            title=title,
            summary=f"How to fix: {title}",
            body_md=_body(symptoms, cause, step),
            category=category,
            subcategory=sub,
            tags=[],
            visibility=visibility,
            status="published",
        )
        save_article(data, agent, note="created for the browser suite")
    db.session.commit()


@pytest.fixture(scope="module")
def live_config() -> dict:
    """More configuration for a module's live portal (override in the module); LIVE_PORT
    fixes its port, for a module that must name its URL beforehand (an OIDC redirect URI)."""
    return {}


@pytest.fixture(scope="module")
def live_portal(database_url, tmp_path_factory, live_config) -> Iterator[LivePortal]:
    """The real portal on a free 127.0.0.1 port, served by a threaded werkzeug server."""
    tmp = tmp_path_factory.mktemp("live-portal")
    config = {
        **_config(database_url, tmp),
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        **live_config,
    }
    app = create_app(config)
    with app.app_context():
        _seed()
        db.session.remove()
    port = int(live_config.get("LIVE_PORT", 0))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = False  # server_close() waits for request threads (tests/live.py)
    server.block_on_close = True
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    shots = tmp_path_factory.mktemp("screenshots")
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url  # links in mail lead back to this portal
    portal = LivePortal(url=url, app=app, shots=shots)
    exception_log = _ExceptionLog(portal.exceptions)
    app.logger.addHandler(exception_log)
    try:
        yield portal
    finally:
        app.logger.removeHandler(exception_log)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            app.extensions["search"].close()
            db.session.remove()
            db.engine.dispose()


def _cannot_run(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright; the module is skipped with the reason when it
    cannot start (`make test` installs it where it can), and fails under CI (CI=true)."""
    if not os.access(CHROMIUM, os.X_OK):
        _cannot_run(f"browser tests need Chromium at {CHROMIUM}; it is not installed")
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:
        manager.stop()
        _cannot_run(f"Playwright could not launch Chromium at {CHROMIUM}: {_launch_error(exc)}")
    try:
        yield chromium
    finally:
        chromium.close()
        manager.stop()


def _launch_error(exc: Exception) -> str:
    """The gist of a launch failure: its first line and what Chromium said on the way out."""
    lines = [line.strip(" -") for line in (str(exc).strip() or repr(exc)).splitlines()]
    clues = [
        line
        for line in lines[1:]
        if "<launching>" not in line and re.search(r"\[err\]|exitCode", line)
    ]
    return "; ".join(dict.fromkeys([lines[0], *clues[:3]]))


@pytest.fixture
def open_page(browser, live_portal) -> Iterator[object]:
    """Opens pages, each in a fresh browser profile (no cookies), at desktop width unless
    told otherwise; collects console errors, uncaught exceptions and 5xx responses."""
    contexts = []
    live_portal.console_errors = []
    live_portal.server_errors = []
    live_portal.exceptions.clear()

    def open_(viewport: dict | None = None, is_mobile: bool = False, java_script_enabled=True):
        ctx = browser.new_context(
            base_url=live_portal.url,
            viewport=viewport or {"width": 1280, "height": 900},
            is_mobile=is_mobile,
            java_script_enabled=java_script_enabled,
        )
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        errors, failures = live_portal.console_errors, live_portal.server_errors
        page.on(
            "console",
            lambda msg: errors.append(f"{msg.text} ({page.url})") if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc} ({page.url})"))
        page.on(
            "response",
            lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        return page

    yield open_
    for ctx in contexts:
        ctx.close()
    assert not live_portal.server_errors, (
        f"the portal answered with server errors: {live_portal.server_errors}; "
        f"it logged: {live_portal.exceptions}"
    )


@pytest.fixture
def page(open_page):
    """A desktop-width page in a fresh browser profile."""
    return open_page()
