"""The agent's desk in a real browser (issue 13): files dropped on the reply box, a search
on the Resolve page that keeps the solution, with and without JavaScript."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from portal.accounts.services import create_user, find_user
from portal.articles.services import get_article, save_article, to_data
from portal.extensions import db
from portal.incidents import services
from tests.browser.conftest import AGENT_EMAIL, EMPLOYEE_EMAIL, SHOTS_COPY
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

DROP = """() => {
  const dt = new DataTransfer();
  dt.items.add(new File(["spooler: queue stuck\\n"], "spool.log", {type: "text/plain"}));
  return dt;
}"""


@pytest.fixture(scope="module")
def live_config() -> dict:
    """The queue refreshes every second here, so a test sees it without waiting long."""
    return {"QUEUE_REFRESH_SECONDS": 1}


def no_sideways_scroll(page) -> None:
    width = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert width <= 0, f"{page.url} scrolls sideways by {width}px"


def signed_in(open_page, email: str, js: bool = True, viewport: dict | None = None):
    page = open_page(java_script_enabled=js, viewport=viewport)
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.locator(".flash-success")).to_contain_text("Signed in as")
    return page


def raise_one(live_portal, title: str, **fields) -> str:
    with live_portal.app.app_context():
        incident = services.raise_incident(
            find_user(EMPLOYEE_EMAIL), title, "It stopped this morning.", **fields
        )
        db.session.commit()
        ref = incident.ref
        db.session.remove()
    return ref


def test_files_dropped_on_the_reply_box_arrive_with_the_reply(open_page, live_portal):
    ref = raise_one(live_portal, "Printer queue stuck on floor 3")
    agent = signed_in(open_page, AGENT_EMAIL)
    agent.goto(f"/incidents/{ref}")
    reply = agent.locator("form.reply")
    expect(reply.locator(".drop-status")).to_have_text("You can also drop files onto this box.")
    files = agent.evaluate_handle(DROP)
    reply.dispatch_event("dragover", {"dataTransfer": files})
    expect(reply).to_have_class(re.compile(r"\bdropping\b"))
    reply.dispatch_event("drop", {"dataTransfer": files})
    expect(reply).not_to_have_class(re.compile(r"\bdropping\b"))
    expect(reply.locator(".drop-status")).to_have_text("1 file will be sent: spool.log")
    reply.get_by_label("Message").fill("The spooler log from the print server.")
    reply.get_by_role("button", name="Send").click()
    expect(agent.locator(".flash-success")).to_have_text("Reply sent.")
    message = agent.locator(".comment", has_text="The spooler log from the print server.")
    expect(message.get_by_role("link", name="spool.log")).to_be_visible()
    expect(agent.locator(".incident-head .status")).to_have_text("In progress")
    live_portal.shot(agent, "desk-reply-with-dropped-file")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_search_on_the_resolve_page_keeps_the_solution(open_page, live_portal, js):
    ref = raise_one(live_portal, f"VPN drops at home ({'js' if js else 'no js'})")
    agent = signed_in(open_page, AGENT_EMAIL, js=js)
    agent.goto(f"/incidents/{ref}/resolve")
    solution = agent.get_by_label("Solution: what fixed it (the requester sees this)")
    solution.fill("Renewed the VPN certificate.")
    box = agent.get_by_label("Find an article that solved it")
    box.fill("printer offline")
    box.press("Enter")
    expect(agent.get_by_label("Printer shows as offline")).to_be_visible()
    expect(solution).to_have_value("Renewed the VPN certificate.")
    expect(agent.locator(".field.has-error")).to_have_count(0)
    agent.get_by_label("Printer shows as offline").check()
    box.fill("vpn")
    agent.get_by_role("button", name="Search articles").click()
    expect(agent.get_by_label("VPN will not connect")).to_be_visible()
    expect(agent.get_by_label("Printer shows as offline")).to_be_checked()  # kept from before
    expect(solution).to_have_value("Renewed the VPN certificate.")
    agent.get_by_role("button", name="Resolve").click()
    expect(agent.locator(".flash-success")).to_have_text(f"{ref} resolved.")
    expect(agent.locator(".incident-head .status")).to_have_text("Resolved")


def test_the_queue_refreshes_its_rows_and_count_without_a_reload(open_page, live_portal):
    raise_one(live_portal, "Keyboard types double letters")
    agent = signed_in(open_page, AGENT_EMAIL)
    agent.goto("/incidents/queue?q=keyboard")
    table = agent.locator("table.queue")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(agent.locator("#queue-count")).to_have_text("1 incident matches these filters")
    agent.get_by_label(re.compile(r"^Select INC-")).first.check()
    agent.evaluate("window.stayed = true")  # gone if the page reloads
    ref = raise_one(live_portal, "Keyboard light stays off")
    expect(table.get_by_role("link", name=ref)).to_be_visible(timeout=5000)
    expect(agent.locator("#queue-count")).to_have_text("2 incidents match these filters")
    expect(
        agent.get_by_role("navigation", name="Main").get_by_role(
            "link", name=re.compile(r"^Queue \(\d+\)$")
        )
    ).to_be_visible()
    assert agent.evaluate("window.stayed") is True
    expect(agent.get_by_label(re.compile(r"^Select INC-")).first).to_be_checked()  # kept ticked
    raise_one(live_portal, "Printer jams on A3 paper")  # does not match "keyboard"
    agent.wait_for_timeout(1500)
    expect(table.locator("tbody tr")).to_have_count(2)


def test_the_bulk_assignment_comes_with_the_first_rows_and_goes_with_the_last(
    open_page, live_portal
):
    agent = signed_in(open_page, AGENT_EMAIL)
    agent.goto("/incidents/queue?q=webcam")
    table = agent.locator("table.queue")
    bulk = agent.locator("#queue-bulk")
    assign = bulk.get_by_role("button", name="Assign selected")
    expect(table.locator("tbody")).to_have_text("Nothing in the queue for these filters.")
    expect(assign).to_be_hidden()
    ref = raise_one(live_portal, "Webcam shows a black picture")
    expect(table.get_by_role("link", name=ref)).to_be_visible(timeout=5000)
    expect(assign).to_be_visible()
    table.get_by_role("link", name=ref).focus()  # the last row's last control, then Tab
    agent.keyboard.press("Tab")
    expect(bulk.locator("select")).to_be_focused()
    agent.keyboard.press("Tab")
    expect(assign).to_be_focused()
    agent.get_by_label(f"Select {ref}").check()
    bulk.locator("select").select_option(label="Alex Agent")
    assign.click()
    expect(agent.locator(".flash-success")).to_have_text("1 incident assigned.")
    row = table.locator("tr", has=agent.get_by_role("link", name=ref))
    expect(row.locator("td[data-label=Assignee]")).to_have_text("Alex Agent")
    with live_portal.app.app_context():
        services.resolve(services.get_by_ref(ref), find_user(AGENT_EMAIL), "New driver.")
        db.session.commit()
        db.session.remove()
    expect(table.locator("tbody")).to_have_text(
        "Nothing in the queue for these filters.", timeout=5000
    )
    expect(assign).to_be_hidden()


@pytest.mark.parametrize("width", [1280, 390])
def test_queue_and_agent_page_fit_the_screen(open_page, live_portal, width):
    for n in range(3):
        raise_one(live_portal, f"Docking station {n} does not charge the laptop over USB-C")
    agent = signed_in(open_page, AGENT_EMAIL, viewport={"width": width, "height": 900})
    agent.goto("/incidents/queue")
    no_sideways_scroll(agent)
    if width == 1280:
        boxes = agent.locator("table.queue td.ref a")
        for i in range(boxes.count()):
            box = boxes.nth(i).bounding_box()
            assert box["height"] < 30, "a reference wrapped onto two lines"
    live_portal.shot(agent, f"desk-queue-{width}")
    # measured once the incident page has loaded (mid-navigation there is no document)
    with agent.expect_navigation():
        agent.locator("table.queue").get_by_role("link", name=re.compile(r"^INC-")).first.click()
    no_sideways_scroll(agent)
    live_portal.shot(agent, f"desk-agent-incident-{width}")


def test_triage_lists_the_chosen_categorys_subcategories_and_previews_the_priority(
    open_page, live_portal
):
    ref = raise_one(live_portal, "Calendar will not sync on the phone", urgency="medium")
    agent = signed_in(open_page, AGENT_EMAIL)
    agent.goto(f"/incidents/{ref}")
    triage = agent.locator("form.triage")
    sub = triage.get_by_label("Subcategory")
    expect(sub).to_be_disabled()  # no category yet: nothing to choose from
    triage.get_by_label("Category", exact=True).select_option(label="Email and calendar")
    expect(sub).to_be_enabled()
    names = sub.locator("option").all_inner_texts()
    assert names == ["(none)", "Outlook"], names
    sub.select_option(label="Outlook")
    triage.get_by_label("Category", exact=True).select_option(label="Network and remote access")
    expect(sub).to_have_value("")  # Outlook is not a Network subcategory
    assert sub.locator("option").all_inner_texts() == ["(none)", "VPN"]
    sub.select_option(label="VPN")

    preview = triage.locator("output")
    expect(preview).to_have_text("P3")
    triage.get_by_label("Impact").select_option("high")
    expect(preview).to_have_text("P2")
    expect(triage.locator(".priority-note")).to_have_text("when you save (now P3)")
    triage.get_by_label("Urgency").select_option("high")
    expect(preview).to_have_text("P1")
    live_portal.shot(agent, "desk-triage-preview")
    triage.get_by_role("button", name="Save triage").click()
    expect(agent.locator(".flash-success")).to_have_text("Triage saved: priority P1.")
    expect(agent.locator(".incident-head .prio")).to_have_text("P1")
    expect(agent.locator(".incident-head")).to_contain_text("Network and remote access › VPN")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_report_reads_in_hours_and_minutes_at_both_widths(open_page, live_portal, width):
    ref = raise_one(live_portal, f"Report sample at {width}")
    with live_portal.app.app_context():
        incident = services.get_by_ref(ref)
        services.resolve(incident, find_user(AGENT_EMAIL), "Restarted the dock.")
        db.session.commit()
        db.session.remove()
    agent = signed_in(open_page, AGENT_EMAIL, viewport={"width": width, "height": 900})
    agent.goto("/reports/self-service")
    expect(agent.locator("tr.gap").first).to_contain_text("no search sessions")
    agent.goto("/reports/time-to-resolve")
    table = agent.locator("section.report-table", has=agent.locator("#t-time-to-resolve"))
    expect(table.locator("td.k-hours").first).to_have_text(
        re.compile(r"^(–|\d+ min|\d+ h( \d\d min)?)$")
    )
    no_sideways_scroll(agent)
    live_portal.shot(agent, f"desk-report-time-to-resolve-{width}")


LEAD_EMAIL = "lee.lead@example.com"


@pytest.fixture(scope="module")
def lead(live_portal) -> str:
    """Someone with every staff role: the longest top bar there is."""
    with live_portal.app.app_context():
        create_user(LEAD_EMAIL, "Lee Lead-Longname", ["agent", "editor", "admin"], PASSWORD)
        db.session.commit()
        db.session.remove()
    return LEAD_EMAIL


def test_the_staff_top_bar_fits_one_row_at_1280(open_page, live_portal, lead):
    page = signed_in(open_page, lead)
    for path in ("/", "/incidents/queue", "/reports/"):
        page.goto(path)
        tops = page.evaluate(
            """() => Array.from(document.querySelectorAll('.bar > :not(.spacer), .links > li'))
                 .filter(e => e.offsetParent !== null)
                 .map(e => e.getBoundingClientRect())
                 .map(r => Math.round(r.top + r.height / 2))"""
        )
        assert max(tops) - min(tops) <= 4, f"{path}: the top bar wraps ({tops})"
        if page.locator("#top-q").count():  # the home page has its own big box instead
            search = page.locator("#top-q").bounding_box()
            assert search["width"] >= 200, "the header search box is too narrow to type in"
    live_portal.shot(page, "desk-topbar-1280", full_page=False)


def test_the_403_page_speaks_to_a_person(open_page, live_portal):
    page = signed_in(open_page, EMPLOYEE_EMAIL)
    response = page.goto("/incidents/queue")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have access to this page")
    expect(page.locator("main")).not_to_contain_text("You don't have the permission")
    live_portal.shot(page, "desk-403")


def contrast(page, selector: str) -> float:
    """The WCAG contrast ratio of an element's text against the background it sits on."""
    return page.evaluate(
        """(sel) => {
          const el = document.querySelector(sel);
          if (!el) { return 0; }
          const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 4).map(Number);
          let bg = null;
          for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length < 4 || c[3] > 0) { bg = c; break; }
          }
          bg = bg || [255, 255, 255];
          const lum = (c) => {
            const [r, g, b] = c.slice(0, 3).map(v => {
              v /= 255;
              return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
          };
          const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg);
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        selector,
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dark_mode_follows_the_system_with_the_same_contrast(browser, live_portal, scheme):
    ctx = browser.new_context(
        base_url=live_portal.url, viewport={"width": 1280, "height": 900}, color_scheme=scheme
    )
    try:
        page = ctx.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(AGENT_EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        raise_one(live_portal, f"Monitor flickers in {scheme} mode")
        page.goto("/incidents/queue")
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        dark = scheme == "dark"
        assert (background != "rgb(246, 247, 251)") == dark, background
        for selector in (
            "main h1",
            ".queue-count",
            "table.queue td.ref a",
            ".bar .brand",
            "#top-q",
            "table.queue th",
        ):
            ratio = contrast(page, selector)
            assert ratio >= 4.5, f"{scheme}: {selector} has contrast {ratio:.2f}"
        page.goto("/articles/printer-offline")
        for selector in (
            "main h1",
            ".article .body p, .article .body li",
            ".vote button.primary, .vote input.primary",
        ):
            ratio = contrast(page, selector)
            assert ratio >= 4.5, f"{scheme}: {selector} has contrast {ratio:.2f}"
        ctx_shot = live_portal.shots / f"desk-dark-{scheme}.png"
        page.screenshot(path=str(ctx_shot), full_page=True)
        shutil.copy2(ctx_shot, SHOTS_COPY / ctx_shot.name)
    finally:
        ctx.close()


def test_the_revision_diff_is_single_spaced(open_page, live_portal, lead):
    with live_portal.app.app_context():
        article = get_article("vpn-wont-connect")
        data = to_data(article)
        data.body_md = data.body_md.replace("Renew certificate", "Renew the certificate")
        save_article(data, find_user(lead), note="clearer step")  # an editor: live at once
        db.session.commit()
        db.session.remove()
    agent = signed_in(open_page, AGENT_EMAIL)
    agent.goto("/articles/vpn-wont-connect/history?a=1&b=2")
    lines = agent.locator("pre.diff > span")
    assert lines.count() >= 4
    tops = [lines.nth(i).bounding_box()["y"] for i in range(4)]
    line_height = agent.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('pre.diff')).lineHeight)"
    )
    gaps = [b - a for a, b in zip(tops, tops[1:], strict=False)]
    assert all(gap <= line_height * 1.2 for gap in gaps), (gaps, line_height)
    live_portal.shot(agent, "desk-diff")
