"""Search synonyms: groups of words or phrases, applied to search at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.admin import services
from portal.admin.services import AdminError
from portal.extensions import db
from portal.search.models import SynonymGroup


@pytest.fixture
def config_overrides(tmp_path) -> dict:
    """A long sync interval: only the admin's invalidate() can make a change show at once."""
    return {"MAIL_SEND_AFTER_COMMIT": False, "SEARCH_SYNC_INTERVAL": 3600}


@pytest.fixture
def library(make_article):
    vpn = make_article(
        title="Connect to the VPN from home",
        symptoms="The VPN client says it cannot reach the gateway",
        step="Start the VPN client and sign in with your badge.",
        slug="vpn-from-home",
    )
    printer = make_article(
        title="Printer shows offline",
        symptoms="The printer is offline",
        step="Turn the printer off and on.",
        slug="printer-offline",
    )
    return {"vpn": vpn, "printer": printer}


def found(client, query: str) -> bool:
    page = client.get("/search", query_string={"q": query})
    assert page.status_code == 200
    return b'href="/articles/vpn-from-home?' in page.data


def groups() -> list[str]:
    db.session.rollback()
    return [g.terms for g in db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id))]


def test_a_synonym_group_applies_to_search_at_once(admin_client, library, audit_log):
    assert not found(admin_client, "remote access")  # and the empty group list is now cached
    response = admin_client.post("/admin/synonyms", data={"terms": "vpn, remote access"})
    assert response.status_code == 302
    assert found(admin_client, "remote access")
    assert groups() == ["vpn, remote access"]
    group_id = db.session.scalars(select(SynonymGroup.id)).one()
    assert audit_log() == [
        ("synonyms.add", f"synonym group {group_id}", "none -> vpn, remote access")
    ]


def test_editing_and_deleting_a_group_apply_at_once(admin_client, library, audit_log):
    admin_client.post("/admin/synonyms", data={"terms": "vpn, remote access"})
    group_id = db.session.scalars(select(SynonymGroup.id)).one()
    assert found(admin_client, "remote access")
    response = admin_client.post(
        f"/admin/synonyms/{group_id}", data={"terms": "VPN,  Tunnel ,work from home"}
    )
    assert response.status_code == 302
    assert groups() == ["vpn, tunnel, work from home"]
    assert not found(admin_client, "remote access")
    assert found(admin_client, "work from home")
    page = admin_client.get("/admin/synonyms").data
    assert b'value="vpn, tunnel, work from home"' in page
    response = admin_client.post(f"/admin/synonyms/{group_id}/delete")
    assert response.status_code == 302
    assert groups() == []
    assert not found(admin_client, "tunnel")
    assert [entry[0] for entry in audit_log()] == [
        "synonyms.add",
        "synonyms.edit",
        "synonyms.delete",
    ]
    assert audit_log()[1][2] == "vpn, remote access -> vpn, tunnel, work from home"
    assert audit_log()[2][2] == "vpn, tunnel, work from home -> none"


@pytest.mark.parametrize(
    "terms, message",
    [
        ("", "A synonym group needs at least two words or phrases"),
        (" , ,, ", "A synonym group needs at least two words or phrases"),
        ("vpn", "A synonym group needs at least two words or phrases"),
        ("vpn, VPN", "A synonym group needs at least two words or phrases"),
        ("vpn, ???", "“???” has no letters or digits to search for."),
        ("vpn, " + "x" * 101, "is longer than 100 characters"),
    ],
)
def test_bad_synonym_groups_are_refused(admin_client, audit_log, terms, message):
    response = admin_client.post("/admin/synonyms", data={"terms": terms})
    assert response.status_code == 400
    assert message in response.data.decode()
    assert groups() == []
    assert audit_log() == []


def test_emptying_a_group_is_refused(admin_client, admin, audit_log):
    group = services.add_synonym_group(admin, "laptop, notebook")
    db.session.commit()
    response = admin_client.post(f"/admin/synonyms/{group.id}", data={"terms": ""})
    assert response.status_code == 400
    assert b"needs at least two words or phrases" in response.data
    assert groups() == ["laptop, notebook"]
    assert len(audit_log()) == 1


def test_a_duplicate_group_is_refused(admin):
    services.add_synonym_group(admin, ["laptop", "notebook"])
    with pytest.raises(AdminError, match="already exists"):
        services.add_synonym_group(admin, "Notebook, laptop")


def test_missing_groups_are_404(admin_client):
    assert admin_client.post("/admin/synonyms/42", data={"terms": "a, b"}).status_code == 404
    assert admin_client.post("/admin/synonyms/42/delete").status_code == 404
