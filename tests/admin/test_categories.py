"""Categories and subcategories: create, rename, delete only when unused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import search
from portal.access import EVERYONE
from portal.admin import services
from portal.admin.services import AdminError
from portal.articles.models import Category
from portal.extensions import db
from portal.incidents import services as incidents


def category(name: str, parent: str | None = None) -> Category | None:
    db.session.rollback()
    stmt = select(Category).where(Category.name == name)
    if parent:
        stmt = stmt.where(Category.parent.has(Category.name == parent))
    else:
        stmt = stmt.where(Category.parent_id.is_(None))
    return db.session.scalars(stmt).first()


def test_categories_and_subcategories_are_created_and_audited(admin_client, audit_log):
    response = admin_client.post("/admin/categories", data={"name": "  Network  "})
    assert response.status_code == 302
    network = category("Network")
    assert network is not None and network.slug == "network"
    response = admin_client.post(
        "/admin/categories", data={"name": "Wi-Fi", "parent": str(network.id)}
    )
    assert response.status_code == 302
    wifi = category("Wi-Fi", parent="Network")
    assert wifi is not None and wifi.parent_id == network.id
    page = admin_client.get("/admin/categories").data.decode()
    assert "Network" in page and "Wi-Fi" in page
    assert audit_log() == [
        ("category.create", "Network", "none -> Network"),
        ("category.create", "Network › Wi-Fi", "none -> Network › Wi-Fi"),
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "network"}, "There is already a category named “network”."),
        ({"name": ""}, "Name: This field is required."),
        ({"name": "x" * 121}, "Name: Field cannot be longer than 120 characters."),
        ({"name": "Deep", "parent": "wifi"}, "A subcategory cannot hold subcategories"),
        ({"name": "Orphan", "parent": "99999"}, "The parent category no longer exists."),
    ],
)
def test_bad_categories_are_refused(admin_client, admin, audit_log, data, message):
    network = services.create_category(admin, "Network")
    wifi = services.create_category(admin, "Wi-Fi", network)
    db.session.commit()
    if data.get("parent") == "wifi":
        data = {**data, "parent": str(wifi.id)}
    before = len(audit_log())
    response = admin_client.post("/admin/categories", data=data)
    assert response.status_code == 400
    assert message in response.data.decode()
    assert len(audit_log()) == before
    assert db.session.scalar(select(db.func.count(Category.id))) == 2


def test_a_subcategory_name_may_repeat_under_another_category(admin):
    hardware = services.create_category(admin, "Hardware")
    software = services.create_category(admin, "Software")
    services.create_category(admin, "Other", hardware)
    other = services.create_category(admin, "Other", software)
    assert other.parent is software


def test_renaming_keeps_the_address_reindexes_and_is_audited(admin_client, make_article, audit_log):
    article = make_article(title="Printer shows offline", category="Printing")
    printing = category("Printing")
    assert search.search("peripherals", EVERYONE).total == 0
    response = admin_client.post(
        f"/admin/categories/{printing.id}/rename", data={"name": "Peripherals"}
    )
    assert response.status_code == 302
    renamed = category("Peripherals")
    assert renamed.id == printing.id and renamed.slug == "printing"
    hits = search.search("peripherals", EVERYONE).hits
    assert [hit.slug for hit in hits] == [article.slug]
    assert hits[0].category == "Peripherals"
    assert audit_log()[-1] == ("category.rename", "Peripherals", "Printing -> Peripherals")


def test_renaming_onto_a_sibling_is_refused(admin_client, admin, audit_log):
    services.create_category(admin, "Network")
    email = services.create_category(admin, "Email")
    db.session.commit()
    response = admin_client.post(f"/admin/categories/{email.id}/rename", data={"name": "NETWORK"})
    assert response.status_code == 400
    assert "There is already a category named “NETWORK” next to this one." in (
        response.data.decode()
    )
    assert category("Email") is not None
    assert len(audit_log()) == 2


def test_an_unused_category_is_deleted_with_its_subcategories(admin_client, admin, audit_log):
    network = services.create_category(admin, "Network")
    services.create_category(admin, "Wi-Fi", network)
    services.create_category(admin, "Cable", network)
    db.session.commit()
    response = admin_client.post(f"/admin/categories/{network.id}/delete")
    assert response.status_code == 302
    assert db.session.scalar(select(db.func.count(Category.id))) == 0
    assert audit_log()[-1] == (
        "category.delete",
        "Network",
        "Network (with subcategories Cable, Wi-Fi) -> none",
    )


def test_a_category_used_by_an_article_is_not_deleted(admin_client, make_article, audit_log):
    make_article(category="Printing", subcategory="Offline")
    printing = category("Printing")
    offline = category("Offline", parent="Printing")
    for target, label in ((printing, "“Printing” (with its subcategories)"), (offline, None)):
        response = admin_client.post(f"/admin/categories/{target.id}/delete")
        assert response.status_code == 400
        text = response.data.decode()
        assert "is used by 1 article; move them to another category first" in text
        if label:
            assert label in text
    assert category("Printing") is not None
    assert category("Offline", parent="Printing") is not None
    assert audit_log() == []


def test_a_category_used_by_an_incident_is_not_deleted(admin, make_user):
    hardware = services.create_category(admin, "Hardware")
    db.session.commit()
    incidents.raise_incident(make_user(), "Broken", "It broke.", category="Hardware")
    db.session.commit()
    with pytest.raises(AdminError, match="is used by 1 incident;"):
        services.delete_category(admin, hardware)


def test_deleting_a_missing_category_is_a_404(admin_client):
    assert admin_client.post("/admin/categories/999/delete").status_code == 404
    assert admin_client.post("/admin/categories/999/rename", data={"name": "x"}).status_code == 404


def test_the_page_shows_usage(admin_client, make_article):
    make_article(category="Printing", subcategory="Offline")
    page = admin_client.get("/admin/categories").data.decode()
    assert page.count("1 article, 0 incidents") == 2


def test_the_pages_own_delete_button_deletes(admin_client, admin):
    from tests.admin.conftest import submit

    email = services.create_category(admin, "Email")
    db.session.commit()
    response = submit(admin_client, "/admin/categories", f"/admin/categories/{email.id}/delete")
    assert response.status_code == 302
    assert category("Email") is None
