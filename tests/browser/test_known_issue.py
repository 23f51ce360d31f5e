"""A shared known issue in a real browser, each person in their own browser profile.

Erin raises an incident with her own words and a file; the desk answers her and posts an
update for followers. Fred has the same problem: the raise form offers Erin's incident as a
known issue (by meaning and the relevance bar, not one shared word), he follows it and reads
its public view only: title, status, the desk's update, never Erin's words, file, name or
the conversation, and the file's address answers 404. Tina, a third employee, sees nothing
of it until Erin shares it with her by name; then she reads it as Erin does.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.services import create_user
from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import Attachment, Incident
from tests.browser.conftest import AGENT_EMAIL, EMPLOYEE_EMAIL
from tests.browser.test_incidents import fill_login, flash
from tests.conftest import PASSWORD
from tests.incidents.conftest import PNG

pytestmark = pytest.mark.browser

FOLLOWER_EMAIL = "fred.follower@example.com"
THIRD_EMAIL = "tina.third@example.com"
TITLE = "Docking station monitor stays black"
DESCRIPTION = "My desk is B-204; the new HDMI cable did not help."
REPLY = "Erin, which dock model is on desk B-204?"
UPDATE = "A firmware fix for these docks rolls out on Friday."


@pytest.fixture(scope="module")
def people(live_portal) -> None:
    with live_portal.app.app_context():
        create_user(FOLLOWER_EMAIL, "Fred Follower", ["employee"], PASSWORD)
        create_user(THIRD_EMAIL, "Tina Third", ["employee"], PASSWORD)
        db.session.commit()
        db.session.remove()


def signed_in(open_page, email: str):
    page = open_page()
    page.goto("/login")
    fill_login(page, email)
    return page


def test_requester_follower_and_another_employee_on_a_known_issue(open_page, live_portal, people):
    shot = live_portal.shot

    # 1. Erin raises the incident with her words and a photo.
    erin = signed_in(open_page, EMPLOYEE_EMAIL)
    erin.goto("/incidents/new")
    erin.get_by_label("Title", exact=True).fill(TITLE)
    erin.get_by_label("What happened? What did you try?").fill(DESCRIPTION)
    erin.locator('input[type="file"]').set_input_files(
        files=[{"name": "dock-b204.png", "mimeType": "image/png", "buffer": PNG}]
    )
    erin.get_by_role("button", name="Raise the incident").click()
    last_look = erin.get_by_text("Before you send it")
    expect(last_look.or_(flash(erin))).to_be_visible()
    if last_look.is_visible():
        erin.get_by_role("button", name="Raise the incident").click()
    expect(erin).to_have_url(re.compile(r"/incidents/INC-\d{6}$"))
    ref = erin.url.rsplit("/", 1)[1]

    # The desk answers Erin and posts an update for everyone with the problem.
    with live_portal.app.app_context():
        incident = services.get_by_ref(ref)
        incident_id = incident.id
        agent = db.session.scalars(select(User).where(User.email == AGENT_EMAIL)).one()
        services.add_comment(incident, agent, REPLY)
        services.add_comment(incident, agent, UPDATE, for_followers=True)
        file_id = db.session.scalars(
            select(Attachment.id).where(Attachment.incident_id == incident.id)
        ).one()
        db.session.commit()
        db.session.remove()

    # 2. Fred has the same problem, in other words; the form offers Erin's incident.
    fred = signed_in(open_page, FOLLOWER_EMAIL)
    fred.goto("/incidents/new")
    fred.get_by_label("Title", exact=True).press_sequentially(
        "monitor on my docking station stays black", delay=20
    )
    known = fred.locator("#known-live")
    expect(known.get_by_role("heading", name="Others reported this")).to_be_visible()
    expect(known).to_contain_text(TITLE)
    expect(known).not_to_contain_text("B-204")
    shot(fred, "known-issue-01-offered")
    known.get_by_role("button", name="I have this problem too: follow it").click()
    expect(fred).to_have_url(re.compile(rf"/incidents/{ref}$"))
    expect(flash(fred)).to_contain_text(f"You now follow {ref}")
    main = fred.locator("main")
    expect(main).to_contain_text(TITLE)
    expect(main).to_contain_text(UPDATE)
    expect(main.locator(".incident-head .status")).to_have_text("In progress")
    for private in ("B-204", REPLY, "dock-b204.png", "Erin"):
        expect(main).not_to_contain_text(private)
    expect(fred.locator('textarea[name="body"]')).to_have_count(0)
    shot(fred, "known-issue-02-follower-public-view")
    response = fred.request.get(f"/incidents/{ref}/attachments/{file_id}")
    assert response.status == 404
    response = fred.request.get(f"/api/v1/incidents/{ref}")
    assert response.status == 401  # the API needs a token, never a browser session

    # 3. Tina sees nothing of it: not by its address, not in her list.
    tina = signed_in(open_page, THIRD_EMAIL)
    assert tina.goto(f"/incidents/{ref}").status == 404
    shot(tina, "known-issue-03-other-employee-404")
    tina.goto("/incidents/")
    expect(tina.locator("main")).not_to_contain_text(TITLE)

    # 4. Erin reads it all, and shares it with Tina by name.
    erin.goto(f"/incidents/{ref}")
    expect(erin.locator("main")).to_contain_text(DESCRIPTION)
    expect(erin.locator("main")).to_contain_text(REPLY)
    expect(erin.locator("main")).to_contain_text(UPDATE)
    expect(erin.locator("main")).not_to_contain_text("Fred")  # who follows is the desk's
    erin.get_by_label("Colleague's mail address").fill(THIRD_EMAIL)
    erin.get_by_role("button", name="Share").click()
    expect(flash(erin)).to_have_text(f"Tina Third can now read and answer {ref}.")
    shot(erin, "known-issue-04-requester-shared")

    tina.goto(f"/incidents/{ref}")
    expect(tina.locator("main")).to_contain_text(DESCRIPTION)
    expect(tina.locator("main")).to_contain_text(REPLY)
    expect(tina.get_by_role("link", name="dock-b204.png").first).to_be_visible()
    expect(tina.get_by_text("It is not fixed: reopen")).to_have_count(0)
    shot(tina, "known-issue-05-shared-colleague")

    # Fred still reads the public view only.
    fred.reload()
    expect(fred.locator("main")).not_to_contain_text("B-204")
    with live_portal.app.app_context():
        assert db.session.get(Incident, incident_id).status == "in_progress"
        db.session.remove()
    assert not live_portal.server_errors and not live_portal.exceptions
