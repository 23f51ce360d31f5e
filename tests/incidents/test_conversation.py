"""Status and conversation as people notice them (issue 13, item 3): a first public reply
puts a New incident In progress, a status change keeps its reason, a search on the Resolve
page keeps the solution typed, and files are shown with the message they came with."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import Attachment, IncidentEvent
from tests.incidents.conftest import PNG, reload

LOG = b"2026-11-27 17:55 vpn: tunnel down (timeout)\n"


def comment_blocks(html: str) -> dict[str, str]:
    """Each message on the page (its text) -> the HTML of its block."""
    blocks = re.findall(r'<article class="comment[^"]*" id="c\d+">(.*?)</article>', html, re.S)
    return {
        re.sub(r"<[^>]+>", "", b.split('<div class="body">', 1)[1].split("</div>")[0]).strip(): b
        for b in blocks
    }


def history(html: str) -> str:
    return html.split("<h2>History</h2>", 1)[1].split("</section>", 1)[0]


# -- the first public reply ---------------------------------------------------------------


def test_an_agents_first_public_reply_moves_new_to_in_progress(make_incident, agent):
    incident = make_incident()
    services.add_comment(incident, agent, "Looking at it now.")
    assert incident.status == "in_progress"
    assert incident.first_response_at is not None
    moves = [(e.old_value, e.new_value) for e in incident.events if e.kind == "status"]
    assert moves == [("new", "in_progress")]


def test_an_internal_note_or_a_requesters_reply_leaves_it_new(make_incident, agent, employee):
    incident = make_incident()
    services.add_comment(incident, agent, "Probably the dock firmware.", internal=True)
    services.add_comment(incident, employee, "It also happens at home.")
    assert incident.status == "new" and incident.first_response_at is None


def test_a_later_reply_does_not_move_a_waiting_incident(make_incident, agent):
    incident = make_incident(status="waiting", agent=agent)
    services.add_comment(incident, agent, "Any news?")
    assert incident.status == "waiting"


def test_the_requester_sees_in_progress_after_the_reply(
    client, sign_in, make_incident, agent, employee
):
    incident = make_incident()
    sign_in(agent)
    client.post(f"/incidents/{incident.ref}/comments", data={"body": "On it."})
    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}").text
    assert '<span class="status status-in_progress">In progress</span>' in page
    assert "status New → In progress" in history(page)


# -- the reason for a status change --------------------------------------------------------


def test_the_reason_for_a_status_change_is_kept(make_incident, agent):
    incident = make_incident()
    services.change_status(incident, "waiting", agent, reason="  Need a photo of\n the error. ")
    [reason] = [e for e in incident.events if e.kind == "status_reason"]
    assert (reason.new_value, reason.actor, reason.is_internal) == (
        "Need a photo of the error.",
        agent,
        False,
    )


def test_no_reason_no_line(make_incident, agent):
    incident = make_incident()
    services.change_status(incident, "in_progress", agent)
    assert not [e for e in incident.events if e.kind == "status_reason"]


def test_a_refused_move_keeps_no_reason(make_incident, agent):
    incident = make_incident(status="closed", agent=agent)
    try:
        services.change_status(incident, "waiting", agent, reason="Should not stay")
    except services.IncidentError:
        pass
    db.session.rollback()
    reasons = db.session.scalars(
        select(IncidentEvent).where(IncidentEvent.kind == "status_reason")
    ).all()
    assert reasons == []


def test_the_reason_shows_in_the_history_for_requester_and_agent(
    client, sign_in, make_incident, agent, employee, other
):
    incident = make_incident()
    sign_in(agent)
    page = client.get(f"/incidents/{incident.ref}").text
    assert 'name="reason"' in page.split("<h2>Status</h2>", 1)[1]
    response = client.post(
        f"/incidents/{incident.ref}/status",
        data={"status": "waiting", "reason": "Which dock model is it?"},
        follow_redirects=True,
    )
    assert "Status: Waiting on requester." in response.text
    assert "Which dock model is it?" in history(response.text)
    sign_in(employee)
    assert "Which dock model is it?" in history(client.get(f"/incidents/{incident.ref}").text)
    sign_in(other)
    assert client.get(f"/incidents/{incident.ref}").status_code == 404


def test_a_too_long_reason_is_refused_with_a_message(client, sign_in, make_incident, agent):
    incident = make_incident()
    sign_in(agent)
    response = client.post(
        f"/incidents/{incident.ref}/status",
        data={"status": "waiting", "reason": "x" * 2001},
        follow_redirects=True,
    )
    assert "the reason is longer than 2000 characters" in response.text
    assert reload(incident).status == "new"


def test_the_reopen_reason_is_still_a_reply(client, sign_in, make_incident, agent, employee):
    incident = make_incident(status="resolved", agent=agent)
    sign_in(employee)
    client.post(
        f"/incidents/{incident.ref}/status",
        data={"status": "reopened", "reason": "Black screen again today."},
    )
    incident = reload(incident)
    assert incident.status == "reopened"
    assert [c.body_md for c in incident.comments] == ["Black screen again today."]


# -- searching on the Resolve page ----------------------------------------------------------


def test_searching_on_the_resolve_page_keeps_the_solution_and_the_ticks(
    client, sign_in, agent, make_incident, make_article
):
    vpn = make_article(title="Reset the VPN profile", slug="vpn-profile", symptoms="VPN drops")
    make_article(title="Renew the Wi-Fi certificate", slug="wifi-cert", symptoms="Wi-Fi fails")
    incident = make_incident(title="VPN disconnects every hour")
    sign_in(agent)
    page = client.post(
        f"/incidents/{incident.ref}/resolve",
        data={
            "solution": "Reset the profile, then renewed the certificate.",
            "article_ids": [str(vpn.id)],
            "aq": "certificate",
            "find": "1",
        },
    )
    assert page.status_code == 200
    assert "Reset the profile, then renewed the certificate.</textarea>" in page.text
    assert 'value="certificate"' in page.text
    assert "Renew the Wi-Fi certificate" in page.text
    # the article ticked before the search stays ticked, though the new search did not find it
    assert re.search(rf'value="{vpn.id}" checked>', page.text)
    assert "Resolving needs a solution" not in page.text
    assert reload(incident).status == "new"  # a search resolves nothing


def test_resolve_still_resolves_after_a_search(client, sign_in, agent, make_incident, make_article):
    vpn = make_article(title="Reset the VPN profile", slug="vpn-profile", symptoms="VPN drops")
    incident = make_incident(title="VPN disconnects every hour")
    sign_in(agent)
    response = client.post(
        f"/incidents/{incident.ref}/resolve",
        data={"solution": "Reset the profile.", "article_ids": [str(vpn.id)], "aq": "wifi"},
    )
    assert response.status_code == 302
    incident = reload(incident)
    assert incident.status == "resolved" and [a.article_id for a in incident.article_links] == [
        vpn.id
    ]


# -- files with their message --------------------------------------------------------------


def test_files_are_shown_with_the_message_they_came_with(
    client, sign_in, make_incident, agent, employee
):
    incident = make_incident()
    sign_in(employee)
    client.post(
        f"/incidents/{incident.ref}/comments",
        data={"body": "Here is the screen.", "attachments": [(io.BytesIO(PNG), "black.png")]},
        content_type="multipart/form-data",
    )
    sign_in(agent)
    client.post(
        f"/incidents/{incident.ref}/comments",
        data={"body": "Try this driver.", "attachments": [(io.BytesIO(LOG), "driver.log")]},
        content_type="multipart/form-data",
    )
    client.post(
        f"/incidents/{incident.ref}/comments",
        data={
            "body": "Service tool says the panel is fine.",
            "internal": "y",
            "attachments": [(io.BytesIO(LOG), "service.log")],
        },
        content_type="multipart/form-data",
    )
    png = db.session.scalars(select(Attachment).where(Attachment.filename == "black.png")).one()
    url = f"/incidents/{incident.ref}/attachments/{png.id}"
    page = client.get(f"/incidents/{incident.ref}").text
    blocks = comment_blocks(page)
    assert "black.png" in blocks["Here is the screen."]
    assert f'<img src="{url}" alt="black.png"' in blocks["Here is the screen."]
    assert "driver.log" in blocks["Try this driver."] and "<img" not in blocks["Try this driver."]
    assert "service.log" in blocks["Service tool says the panel is fine."]
    assert "driver.log" not in blocks["Here is the screen."]
    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}").text
    assert set(comment_blocks(page)) == {"Here is the screen.", "Try this driver."}
    assert "service.log" not in page


def test_files_raised_with_the_incident_sit_under_the_description(client, sign_in, employee):
    sign_in(employee)
    page = client.post(
        "/incidents/new",
        data={
            "title": "Quokka console frozen",
            "description": "See the attached file.",
            "checked": "1",
            "attachments": [(io.BytesIO(PNG), "frozen.png")],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    ).text
    description = page.split("<h2>Description</h2>", 1)[1].split("</section>", 1)[0]
    assert "Attached to the incident" in description and 'alt="frozen.png"' in description


def test_the_reply_box_accepts_dropped_files_when_scripts_run(
    client, sign_in, make_incident, agent
):
    incident = make_incident()
    sign_in(agent)
    page = client.get(f"/incidents/{incident.ref}").text
    assert 'data-drop-files="attachments"' in page
    assert 'type="file"' in page  # without scripts, the file field does it
