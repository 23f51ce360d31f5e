"""The incident page for agents (issue 13, item 6): triage, assignment and status first,
what the requester tried collapsible, subcategories under their category, and the priority
the matrix gives shown before saving."""

from __future__ import annotations

import json
import re

import pytest

from portal import settings
from portal.extensions import db
from portal.incidents import services
from portal.incidents.priority import DEFAULT_MATRIX, matrix_to_json
from tests.incidents.conftest import reload


@pytest.fixture
def categories(make_article):
    make_article(category="Network", subcategory="VPN")
    make_article(category="Network", subcategory="Wi-Fi")
    make_article(category="Email", subcategory="Outlook")


def test_triage_assignment_and_status_come_before_the_description(
    client, sign_in, agent, make_incident
):
    incident = make_incident()
    sign_in(agent)
    page = client.get(f"/incidents/{incident.ref}").text
    order = [page.index(h) for h in ("Triage</h2>", "Assignment</h2>", "Status</h2>")]
    assert order == sorted(order) and order[-1] < page.index("<h2>Description</h2>")


def test_requesters_see_no_desk_controls(client, sign_in, employee, make_incident):
    incident = make_incident()
    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}").text
    assert "desk-controls" not in page and "data-matrix" not in page


def test_what_the_requester_tried_is_collapsible(client, sign_in, employee, agent):
    sign_in(employee)
    client.get("/search?q=printer+jammed")
    client.post(
        "/incidents/new",
        data={"title": "Printer jammed", "description": "Paper stuck.", "checked": "1"},
    )
    sign_in(agent)
    page = client.get("/incidents/INC-000001").text
    tried = page.split('<section class="panel tried">', 1)[1].split("</section>", 1)[0]
    assert tried.lstrip().startswith("<details open>")
    assert "<summary><h2>What the requester tried</h2></summary>" in tried
    assert "“printer jammed”" in tried


def test_subcategories_are_grouped_under_their_category(
    client, sign_in, agent, make_incident, categories
):
    incident = make_incident()
    sign_in(agent)
    page = client.get(f"/incidents/{incident.ref}").text
    select = page.split('<select id="subcategory"', 1)[1].split("</select>", 1)[0]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert [(label, re.findall(r">([^<]+)</option>", body)) for label, body in groups] == [
        ("Email", ["Outlook"]),
        ("Network", ["VPN", "Wi-Fi"]),
    ]
    assert re.search(r'<option data-parent="network" value="network-vpn">VPN</option>', select)
    assert "›" not in select  # the names read in full, not "Network › ..." cut short


def test_a_subcategory_names_its_category(make_incident, agent, categories):
    incident = make_incident()
    services.triage(incident, agent, subcategory="network-wi-fi")
    assert (incident.category.name, incident.subcategory.name) == ("Network", "Wi-Fi")


def test_a_subcategory_of_another_category_is_refused(make_incident, agent, categories):
    incident = make_incident()
    with pytest.raises(services.IncidentError, match="Outlook is not a subcategory of Network"):
        services.triage(incident, agent, category="network", subcategory="email-outlook")


def test_a_mismatched_subcategory_is_refused_on_the_page(
    client, sign_in, agent, make_incident, categories
):
    incident = make_incident()
    sign_in(agent)
    page = client.post(
        f"/incidents/{incident.ref}/triage",
        data={
            "category": "network",
            "subcategory": "email-outlook",
            "impact": "medium",
            "urgency": "medium",
        },
        follow_redirects=True,
    )
    assert "Not done: Outlook is not a subcategory of Network; choose one of its own" in page.text
    assert reload(incident).category is None


def test_the_page_carries_the_matrix_that_the_server_uses(client, sign_in, agent, make_incident):
    custom = dict(DEFAULT_MATRIX)
    custom[("low", "low")] = "P4"
    settings.put("priority_matrix", matrix_to_json(custom))
    db.session.commit()
    incident = make_incident(impact="low", urgency="low")
    assert incident.priority == "P4"
    sign_in(agent)
    page = client.get(f"/incidents/{incident.ref}").text
    carried = json.loads(re.search(r"data-matrix='([^']+)'", page).group(1))
    assert carried["low"]["low"] == "P4" and carried["high"]["high"] == "P1"
    assert 'data-now="P4"><span class="prio prio-P4">P4</span></output>' in page
    table = page.split('<table class="table matrix-table">', 1)[1].split("</table>", 1)[0]
    assert table.count("<td>") == 9 and "<td>P4</td>" in table
