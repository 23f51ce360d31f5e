"""Every page, for each role, at desk and phone width, with and without JavaScript.

Each visit checks what a person would notice first: the page does not scroll sideways,
every text box on a phone is wide enough to type in (at least 200 px), and the page
answers without a server error. Screenshots of the pages people use most are kept.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

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
}

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


def _context(browser, live_portal, viewport: dict, js: bool, state=None):
    ctx = browser.new_context(
        base_url=live_portal.url,
        viewport=viewport,
        is_mobile=viewport is PHONE,
        java_script_enabled=js,
        storage_state=state,
    )
    ctx.set_default_timeout(10_000)
    return ctx


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
def test_every_page_fits_and_is_usable(role, browser, live_portal, seeded):
    state = _sign_in_state(browser, live_portal, EMAILS[role]) if role in EMAILS else None
    problems: list[str] = []
    server_errors: list[str] = []
    for viewport in (DESK, PHONE):
        for js in (True, False):
            ctx = _context(browser, live_portal, viewport, js, state)
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
                name = SHOTS.get((role, template))
                if name and js:
                    suffix = "phone" if viewport is PHONE else "desk"
                    live_portal.shot(page, f"every-{name}-{suffix}")
            ctx.close()
    assert not server_errors, f"server errors: {server_errors}; logged: {live_portal.exceptions}"
    assert not problems, "\n".join(problems)
