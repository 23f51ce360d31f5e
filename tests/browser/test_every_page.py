"""Every page, for each role, at desk and phone width, with and without JavaScript.

Each visit checks what a person would notice first: the page does not scroll sideways,
every text box on a phone is wide enough to type in (at least 200 px), the page answers
without a server error, and axe-core (Deque's rules for WCAG 2.2 A/AA and best practice)
finds no serious or critical violation. Screenshots of the pages people use most are kept.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.accounts.services import create_user
from portal.extensions import db
from portal.incidents import attachments, services
from tests.browser.conftest import AGENT_EMAIL, EMPLOYEE_EMAIL
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
EDITOR_EMAIL = "ed.editor@example.com"
ADMIN_EMAIL = "ada.admin@example.com"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81"
    b"\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)

# The pages each role reaches from the top bar and the pages those lead to.
PUBLIC = [
    "/",
    "/search?q=printer",
    "/search?q=nothingmatcheshere",
    "/articles/printer-offline",
    "/categories/printing-and-scanning",
]
PAGES: dict[str, list[str]] = {
    "anonymous": [*PUBLIC, "/login", "/no-such-page"],
    "employee": [
        *PUBLIC,
        "/incidents/",
        "/incidents/new?q=webcam freezes",
        "/incidents/{ref}",
        "/incidents/queue",  # 403: an employee has no queue
    ],
    "agent": [
        "/",
        "/articles/printer-offline",
        "/incidents/queue",
        "/incidents/{ref}",
        "/incidents/{ref}/resolve",
        "/articles/new",
        "/articles/printer-offline/edit",
        "/articles/printer-offline/history",
        "/reports/",
        "/reports/sla",
    ],
    "editor": [
        "/articles/attention",
        "/articles/printer-offline",
        "/articles/printer-offline/edit",
        "/reports/self-service",
        "/reports/searches",
        "/reports/gaps",
        "/reports/articles",
        "/reports/categories",
        "/reports/time-to-resolve",
        "/reports/backlog",
    ],
    "admin": [
        "/admin/",
        "/admin/users",
        "/admin/categories",
        "/admin/calendar",
        "/admin/sla",
        "/admin/synonyms",
        "/admin/audit",
        "/admin/branding",
    ],
}
EMAILS = {
    "employee": EMPLOYEE_EMAIL,
    "agent": AGENT_EMAIL,
    "editor": EDITOR_EMAIL,
    "admin": ADMIN_EMAIL,
}
# Pages worth a look by a person after each run: (role, path, name).
SHOTS = {
    ("employee", "/incidents/new?q=webcam freezes"): "incident-form",
    ("employee", "/incidents/"): "my-incidents",
    ("agent", "/incidents/queue"): "queue",
    ("agent", "/incidents/{ref}"): "agent-incident",
    ("agent", "/articles/printer-offline/edit"): "editor",
    ("editor", "/reports/time-to-resolve"): "report-time-to-resolve",
    ("editor", "/articles/printer-offline/edit"): "editor-editor",
    ("admin", "/admin/branding"): "admin-branding",
}

# axe-core from npm (tests/browser/axe; `make test` runs `npm ci` there). It is evaluated
# through the DevTools protocol, so it runs with the page's JavaScript switched off too.
AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                   'best-practice']},
    resultTypes: ['violations'],
  });
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
                count: v.nodes.length}));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    """The axe-core script; skipped with the reason where it is not installed, a failure
    under CI (CI=true), which must measure every page."""
    if not AXE_JS.is_file():
        reason = f"axe-core is not installed in {AXE_JS.parent.parent.parent} (run `make browser`)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the accessibility checks, but {reason}")
        pytest.skip(reason)
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page, source: str) -> list[dict]:
    """The serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    return page.evaluate(AXE_RUN)


# Measured in the page: sideways scroll, and text boxes narrower than a thumb can use.
MEASURE = """() => {
  const doc = document.scrollingElement;
  const boxes = [...document.querySelectorAll(
    'input:not([type]), input[type=text], input[type=search], input[type=email], ' +
    'input[type=password], input[type=url], input[type=number], input[type=date], textarea')]
    .filter(e => e.offsetParent !== null)
    .map(e => ({name: e.name || e.id, width: Math.round(e.getBoundingClientRect().width)}));
  const wide = [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > doc.clientWidth + 1)
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > doc.clientWidth + 1))
    .slice(0, 3)
    .map(e => e.tagName.toLowerCase() +
         (e.className ? '.' + String(e.className).split(' ')[0] : '') +
         ' "' + (e.textContent || '').trim().slice(0, 30) + '"');
  return {scrollWidth: doc.scrollWidth, boxes, wide};
}"""


@dataclass
class Visit:
    role: str
    width: int
    js: bool
    path: str

    def __str__(self) -> str:
        return f"{self.role} {self.width}px {'js' if self.js else 'no-js'} {self.path}"


@pytest.fixture(scope="module")
def seeded(live_portal) -> dict[str, str]:
    """An editor, an admin and one incident with a reply and a picture."""
    app = live_portal.app
    with app.app_context():
        create_user(EDITOR_EMAIL, "Ed Editor", ["agent", "editor"], PASSWORD)
        create_user(ADMIN_EMAIL, "Ada Admin", ["admin"], PASSWORD)
        from portal.accounts.services import find_user

        employee, agent = find_user(EMPLOYEE_EMAIL), find_user(AGENT_EMAIL)
        incident = services.raise_incident(
            employee,
            "Webcam freezes in every Teams call since Monday",
            "The picture freezes after a minute.\n\nI restarted the laptop.",
            search_context={"queries": [{"q": "webcam freezes", "total": 0}], "articles": []},
        )
        reply = services.add_comment(incident, agent, "Does it freeze in the Camera app too?")
        attachments.save(incident, agent, "screen.png", io.BytesIO(PNG), comment_id=reply.id)
        db.session.commit()
        ref = incident.ref
        db.session.remove()
    return {"ref": ref}


def _context(browser, live_portal, viewport: dict, js: bool, state=None, axe: bool = False):
    """A browser profile at that width; without JavaScript the page's own scripts never run.
    With `axe` the no-JavaScript profile refuses every page script by a Content-Security-
    Policy (script-src 'none') instead of switching JavaScript off, which would also stop
    axe-core (its promises never settle); the page renders and behaves the same, as the
    portal has no <noscript> content."""
    ctx = browser.new_context(
        base_url=live_portal.url,
        viewport=viewport,
        is_mobile=viewport is PHONE,
        java_script_enabled=js or axe,
        storage_state=state,
    )
    ctx.set_default_timeout(10_000)
    if axe and not js:
        ctx.route("**/*", _refuse_page_scripts)
    return ctx


def _refuse_page_scripts(route) -> None:
    if route.request.resource_type != "document":
        route.continue_()
        return
    response = route.fetch()
    headers = dict(response.headers)
    policy = headers.get("content-security-policy", "")
    headers["content-security-policy"] = ", ".join(filter(None, [policy, "script-src 'none'"]))
    route.fulfill(response=response, headers=headers)


def _sign_in_state(browser, live_portal, email: str):
    """Cookies of a session signed in through the real form."""
    ctx = _context(browser, live_portal, DESK, js=False)
    page = ctx.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    assert "Signed in as" in page.locator(".flashes").inner_text()
    state = ctx.storage_state()
    ctx.close()
    return state


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_fits_and_is_usable(role, browser, live_portal, seeded, axe_source):
    state = _sign_in_state(browser, live_portal, EMAILS[role]) if role in EMAILS else None
    problems: list[str] = []
    server_errors: list[str] = []
    for viewport in (DESK, PHONE):
        for js in (True, False):
            ctx = _context(browser, live_portal, viewport, js, state, axe=True)
            page = ctx.new_page()
            page.on(
                "response",
                lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
            )
            for template in PAGES[role]:
                path = template.format(**seeded)
                visit = Visit(role, viewport["width"], js, path)
                page.goto(path)
                found = page.evaluate(MEASURE)
                if found["scrollWidth"] > viewport["width"]:
                    problems.append(
                        f"{visit}: scrolls sideways ({found['scrollWidth']} px wide: "
                        f"{', '.join(found['wide'])})"
                    )
                if viewport is PHONE:
                    narrow = [b for b in found["boxes"] if b["width"] < 200]
                    if narrow:
                        problems.append(f"{visit}: text boxes under 200 px: {narrow}")
                for v in axe_violations(page, axe_source):
                    problems.append(
                        f"{visit}: axe {v['impact']} {v['id']} ({v['help']}) on {v['count']} "
                        f"element(s): {'; '.join(v['nodes'])}"
                    )
                name = SHOTS.get((role, template))
                if name and js:
                    suffix = "phone" if viewport is PHONE else "desk"
                    live_portal.shot(page, f"every-{name}-{suffix}")
            ctx.close()
    assert not server_errors, f"server errors: {server_errors}; logged: {live_portal.exceptions}"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_axe_reports_a_violation_it_is_shown(js, browser, live_portal, axe_source):
    """The check above can fail: a button without a name (critical) is found, with the
    page's scripts on and refused alike."""
    ctx = _context(browser, live_portal, PHONE, js, axe=True)
    page = ctx.new_page()
    page.goto("/")
    assert axe_violations(page, axe_source) == []
    page.evaluate("() => document.querySelector('main').append(document.createElement('button'))")
    found = axe_violations(page, axe_source)
    ctx.close()
    assert [(v["id"], v["impact"]) for v in found] == [("button-name", "critical")]
