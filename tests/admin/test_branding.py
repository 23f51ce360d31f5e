"""Branding (issue 13 item 9): admins set the portal's name, accent colour and logo; every
page and every mail shows them; bad colours and files are refused with a reason."""

from __future__ import annotations

import io
import struct
import zlib

import pytest

from portal import branding, settings
from portal.extensions import db
from portal.notifications.compose import Content, compose


def png(width: int, height: int) -> bytes:
    """A real PNG of that size (a browser draws it), in the accent's green."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = zlib.compress((b"\x00" + b"\x0b\x6e\x4f" * width) * height)
    idat = b"IDAT" + raw
    iend = b"IEND"
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
        for chunk in (ihdr, idat, iend)
    )


def post(client, **data):
    files = {}
    if "logo" in data:
        files["logo"] = (io.BytesIO(data.pop("logo")), data.pop("filename", "logo.png"))
    return client.post(
        "/admin/branding",
        data={"name": "", "accent": "", **data, **files},
        content_type="multipart/form-data",
    )


def test_name_accent_and_logo_show_on_every_page(admin_client, client, audit_log):
    response = post(admin_client, name="Acme Help", accent="#0B6E4F", logo=png(120, 40))
    assert response.status_code == 302
    assert audit_log()[-1][0] == "setting.branding"
    assert "name: default -> Acme Help" in audit_log()[-1][2]
    page = admin_client.get("/articles/attention" if False else "/").data.decode()
    assert "<title>Acme Help</title>" in page or "· Acme Help</title>" in page
    assert 'class="brand"' in page and "Acme Help</a>" in page
    assert 'width="96" height="32"' in page  # 120x40 shown 32 px high, its place reserved
    assert "Acme Help: find the fix yourself" in page
    version = branding.current().version
    css = client.get(f"/branding/theme.css?v={version}")
    assert css.mimetype == "text/css" and "--brand: #0b6e4f;" in css.data.decode()
    assert "immutable" in css.headers["Cache-Control"]
    logo = client.get(f"/branding/logo?v={version}")  # signed out: the login page shows it
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert logo.data.startswith(b"\x89PNG")


def test_mail_carries_the_branding(admin_client, app):
    post(admin_client, name="Acme Help", accent="#0b6e4f", logo=png(64, 64))
    db.session.rollback()
    mail = compose("Hello", Content(heading="Your incident", paragraphs=["Text."]))
    assert "Acme Help" in mail.html and "Acme Help" in mail.text
    assert "color:#0b6e4f" in mail.html and "#1d4ed8" not in mail.html
    assert "/branding/logo?v=" in mail.html and 'width="32" height="32"' in mail.html


def test_unbranded_portal_keeps_its_defaults(admin_client, client):
    page = client.get("/login").data.decode()
    assert "Firstfix</a>" in page and "brand-logo" not in page
    assert client.get("/branding/logo").status_code == 404
    assert "--brand: #1f5fbf;" in client.get("/branding/theme.css").data.decode()


@pytest.mark.parametrize(
    "accent, message",
    [
        ("#ffcc00", "contrast of 1.5:1"),
        ("orange", "Give the accent colour as #rrggbb"),
        ("#12345g", "Give the accent colour as #rrggbb"),
        ("red;}a{b:c", "Give the accent colour as #rrggbb"),
    ],
)
def test_an_unreadable_or_malformed_accent_is_refused(admin_client, audit_log, accent, message):
    response = post(admin_client, name="Keep me", accent=accent)
    assert response.status_code == 400
    assert message in response.data.decode()
    db.session.rollback()
    assert settings.get("brand_name") == "" and settings.get("brand_accent") == ""
    assert audit_log() == []


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "l.svg",
            "must be a PNG",
        ),
        (b"GIF89a", "logo.png", "cannot be read"),  # a GIF too short to say its size
        (b"", "logo.png", None),  # no file chosen: nothing to change
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048, "big.png", "larger than 1 KB"),
        (png(4000, 10), "wide.png", "over 2000 px"),
    ],
)
def test_a_bad_logo_is_refused(admin_client, audit_log, monkeypatch, data, filename, message):
    # the limit made small: a body over 500 KB makes the test client spool it to a file it
    # never closes
    monkeypatch.setattr(branding, "LOGO_MAX_BYTES", 1024)
    response = post(admin_client, logo=data, filename=filename)
    db.session.rollback()
    assert settings.get("brand_logo") == {}
    if message is None:
        assert response.status_code == 302 and audit_log() == []
        return
    assert response.status_code == 400
    assert message in response.data.decode()
    assert audit_log() == []


def test_the_logo_is_replaced_and_removed(admin_client, client, audit_log):
    post(admin_client, logo=png(10, 10))
    first = branding.current().version
    post(admin_client, logo=png(20, 10))
    assert branding.current().version != first
    assert "logo: 10x10 -> 20x10 image/png" in audit_log()[-1][2]
    admin_client.post("/admin/branding", data={"name": "", "accent": "", "remove_logo": "y"})
    db.session.rollback()
    assert settings.get("brand_logo") == {} and client.get("/branding/logo").status_code == 404


def test_only_admins_change_the_branding(client, auth, make_user):
    auth.login(make_user("agent", email="alex@example.com"))
    assert client.get("/admin/branding").status_code == 403
    assert post(client, name="Hacked").status_code == 403
    db.session.rollback()
    assert settings.get("brand_name") == ""


def test_contrast_is_the_wcag_ratio():
    assert branding.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert branding.contrast("#1f5fbf", "#ffffff") == pytest.approx(6.09, abs=0.01)
