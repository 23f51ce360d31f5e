"""Every sign-in, failure and sign-out lands in the audit log with time, address and method."""

from __future__ import annotations

from sqlalchemy import select

from portal.admin.models import AuditEntry
from portal.extensions import db
from tests.conftest import PASSWORD


def entries() -> list[AuditEntry]:
    db.session.rollback()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_sign_in_failure_and_sign_out_are_audited(client, employee):
    client.post(
        "/login",
        data={"email": employee.email, "password": "wrong wrong"},
        environ_base={"REMOTE_ADDR": "127.0.5.5"},
    )
    client.post(
        "/login",
        data={"email": "ghost@example.com", "password": "nope nope"},
        environ_base={"REMOTE_ADDR": "127.0.5.5"},
    )
    client.post(
        "/login",
        data={"email": employee.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "127.0.5.6"},
    )
    client.post("/logout", environ_base={"REMOTE_ADDR": "127.0.5.6"})
    rows = [(e.action, e.target, e.detail, e.address, e.actor_id) for e in entries()]
    assert rows == [
        (
            "signin.failure",
            employee.email,
            "password: wrong password or deactivated",
            "127.0.5.5",
            None,
        ),
        (
            "signin.failure",
            "ghost@example.com",
            "password: no such local account",
            "127.0.5.5",
            None,
        ),
        ("signin.success", employee.email, "password", "127.0.5.6", employee.id),
        ("signout", employee.email, "", "127.0.5.6", employee.id),
    ]
    assert all(e.created_at is not None for e in entries())


def test_the_admin_audit_page_shows_the_address(client, auth, make_user):
    admin = make_user("admin", email="ada@example.com")
    client.post(
        "/login",
        data={"email": admin.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "127.0.5.7"},
    )
    page = client.get("/admin/audit").data.decode()
    assert ">Signed in</td>" in page and "127.0.5.7" in page
