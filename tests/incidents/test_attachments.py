"""Attachments: what may be attached, and who may download it."""

from __future__ import annotations

import io
import os
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.incidents import attachments
from portal.incidents.attachments import MAX_BYTES, AttachmentError
from portal.incidents.models import Attachment
from tests.incidents.conftest import PDF, PNG, reload

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 16
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 16
LOG = b"2026-11-27 17:55 vpn: tunnel down (timeout)\n"


def links(html: str, ref: str) -> dict[str, str]:
    """Attachment names on an incident page and the URL each link points to."""
    pattern = rf'<a href="(/incidents/{ref}/attachments/\d+)">([^<]+)</a>'
    return {name: url for url, name in re.findall(pattern, html)}


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">(.*?)</p>', html)


def download(client, url: str):
    """GET a file and close the response, as a browser would once it has the bytes."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def reload_attachments() -> list[Attachment]:
    """Every stored attachment, as the database holds them after the requests."""
    db.session.rollback()
    return list(db.session.scalars(select(Attachment).order_by(Attachment.id)))


def raise_with(client, *files, title="Quokka console frozen"):
    """Raise an incident through the form with files attached; the page it lands on."""
    data = {
        "title": title,
        "description": "See the attached file.",
        "attachments": [(io.BytesIO(body), name) for body, name in files],
    }
    return client.post(
        "/incidents/new", data=data, content_type="multipart/form-data", follow_redirects=True
    )


# -- what may be attached ---------------------------------------------------------------


ACCEPTED = [
    ("screenshot.png", PNG, "image/png", True),
    ("SCREENSHOT.PNG", PNG, "image/png", True),
    ("photo.jpg", JPEG, "image/jpeg", True),
    ("photo.jpeg", JPEG, "image/jpeg", True),
    ("spinner.gif", GIF, "image/gif", True),
    ("picture.webp", WEBP, "image/webp", True),
    ("scan.pdf", PDF, "application/pdf", True),
    ("vpn.log", LOG, "text/plain", False),
    ("notes.txt", "Grüße aus Zürich\n".encode(), "text/plain", False),
    ("export.csv", b"user,error\nerin,timeout\n", "text/plain", False),
    ("settings.json", b'{"proxy": null}', "text/plain", False),
]


@pytest.mark.parametrize(
    ("name", "body", "content_type", "inline"), [pytest.param(*f, id=f[0]) for f in ACCEPTED]
)
def test_allowed_files_are_attached_and_served(
    client, sign_in, employee, agent, name, body, content_type, inline
):
    sign_in(employee)
    page = raise_with(client, (body, name))
    assert page.status_code == 200
    assert not [f for f in flashes(page.text) if f.startswith("Not attached")]
    url = links(page.text, "INC-000001")[name]

    for person in (employee, agent):
        sign_in(person)
        response = download(client, url)
        assert response.status_code == 200 and response.data == body
        assert response.mimetype == content_type
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("inline" if inline else "attachment")
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


REFUSED = [
    ("screenshot.png", b"this is not a picture", "screenshot.png: the content does not match"),
    ("photo.jpg", PNG, "photo.jpg: the content does not match a .jpg file"),
    ("scan.pdf", b"<html>not a pdf</html>", "scan.pdf: the content does not match a .pdf"),
    ("sound.webp", WAV, "sound.webp: the content does not match a .webp file"),
    ("setup.exe", b"MZ\x90\x00", "setup.exe: this type of file is not accepted"),
    ("report.pdf.exe", b"MZ\x90\x00", "report.pdf.exe: this type of file is not accepted"),
    ("page.html", b"<script>alert(1)</script>", "page.html: this type of file"),
    ("logo.svg", b"<svg onload=alert(1)>", "logo.svg: this type of file is not accepted"),
    ("noextension", b"text", "noextension: this type of file is not accepted"),
    ("binary.log", b"\x00\x01\x02\xff\xfe", "binary.log: not a text file"),
    ("empty.txt", b"", "empty.txt: the file is empty"),
]


@pytest.mark.parametrize(("name", "body", "message"), [pytest.param(*f, id=f[0]) for f in REFUSED])
def test_refused_files_say_why_and_the_incident_is_still_raised(
    client, sign_in, employee, name, body, message
):
    sign_in(employee)
    page = raise_with(client, (body, name))
    refused = [f for f in flashes(page.text) if f.startswith("Not attached")]
    assert len(refused) == 1 and refused[0].startswith(f"Not attached: {message}")
    assert "Incident INC-000001 raised. We will get back to you." in flashes(page.text)
    assert links(page.text, "INC-000001") == {}
    assert reload_attachments() == []


def test_the_exe_message_names_what_is_accepted(app):
    with pytest.raises(AttachmentError) as caught:
        attachments.check("setup.exe", b"MZ", 2)
    assert str(caught.value) == (
        "setup.exe: this type of file is not accepted; attach images, PDFs, text or log files"
    )


def test_ten_megabytes_is_the_limit(client, sign_in, employee):
    sign_in(employee)
    exactly = b"a" * (MAX_BYTES - 1) + b"\n"
    page = raise_with(client, (exactly, "ten.log"), (exactly + b"x", "more.log"))
    assert "Not attached: more.log: larger than 10 MB" in flashes(page.text)
    assert list(links(page.text, "INC-000001")) == ["ten.log"]
    [stored] = reload_attachments()
    assert stored.size == MAX_BYTES


def test_a_text_file_may_end_in_the_middle_of_a_character(app):
    head = ("é" * 2048).encode()[:4095]  # the sample cuts the last character in half
    assert attachments.check("notes.txt", head, 10_000) == "text/plain"


def test_files_are_stored_under_a_random_name_with_a_clean_display_name(
    client, sign_in, employee, app
):
    sign_in(employee)
    page = raise_with(client, (LOG, "..\\..\\evil/../../etc/pass<wd>.log"))
    [(name, url)] = links(page.text, "INC-000001").items()
    assert name == "passwd.log"
    [stored] = reload_attachments()
    assert stored.filename == "passwd.log" and re.fullmatch(r"[0-9a-f]{32}", stored.storage_name)
    assert os.listdir(app.config["ATTACHMENTS_DIR"]) == [stored.storage_name]
    assert download(client, url).headers["Content-Disposition"] == "attachment; filename=passwd.log"


# -- who may download -------------------------------------------------------------------


@pytest.fixture
def with_files(client, sign_in, make_incident, employee, agent):
    """An incident with a requester's screenshot and a staff-only log in an internal note."""
    incident = make_incident()
    sign_in(employee)
    client.post(
        f"/incidents/{incident.ref}/comments",
        data={"body": "Screenshot attached.", "attachments": [(io.BytesIO(PNG), "black.png")]},
        content_type="multipart/form-data",
    )
    sign_in(agent)
    client.post(
        f"/incidents/{incident.ref}/comments",
        data={
            "body": "Firmware log from the service tool.",
            "internal": "y",
            "attachments": [(io.BytesIO(LOG), "firmware.log")],
        },
        content_type="multipart/form-data",
    )
    files = {a.filename: a for a in reload(incident).attachments}
    assert files["firmware.log"].is_internal and not files["black.png"].is_internal
    assert files["black.png"].comment_id == reload(incident).comments[0].id
    urls = {name: f"/incidents/{incident.ref}/attachments/{a.id}" for name, a in files.items()}
    return incident, urls


def test_staff_see_every_attachment(client, sign_in, agent, with_files):
    incident, urls = with_files
    sign_in(agent)
    page = client.get(f"/incidents/{incident.ref}").text
    assert links(page, incident.ref) == {
        "black.png": urls["black.png"],
        "firmware.log": urls["firmware.log"],
    }
    assert "staff only" in page
    assert all(download(client, url).status_code == 200 for url in urls.values())


def test_the_requester_sees_only_public_attachments(client, sign_in, employee, with_files):
    incident, urls = with_files
    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}").text
    assert links(page, incident.ref) == {"black.png": urls["black.png"]}
    assert "firmware" not in page
    assert download(client, urls["black.png"]).status_code == 200
    assert download(client, urls["firmware.log"]).status_code == 404


def test_another_employee_gets_404_even_with_the_right_url(client, sign_in, other, with_files):
    _, urls = with_files
    sign_in(other)
    for url in urls.values():
        response = download(client, url)
        assert response.status_code == 404 and b"\x89PNG" not in response.data


def test_an_attachment_is_only_served_under_its_own_incident(
    client, sign_in, other, employee, make_incident, with_files
):
    incident, urls = with_files
    theirs = make_incident(requester=other, title="My own problem")
    sign_in(other)
    attachment_id = urls["black.png"].rsplit("/", 1)[1]
    assert (
        download(client, f"/incidents/{theirs.ref}/attachments/{attachment_id}").status_code == 404
    )
    assert download(client, f"/incidents/{theirs.ref}/attachments/99999").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, with_files):
    _, urls = with_files
    client.post("/logout")
    response = download(client, urls["black.png"])
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_follower_downloads_none_of_the_requesters_files(client, sign_in, other, with_files):
    incident, urls = with_files
    sign_in(other)
    client.get("/incidents/new?q=Laptop will not start")  # offered as a known issue
    assert client.post(f"/incidents/{incident.ref}/follow").status_code == 302
    page = client.get(f"/incidents/{incident.ref}").text
    assert "black.png" not in page and "firmware.log" not in page
    assert download(client, urls["black.png"]).status_code == 404
    assert download(client, urls["firmware.log"]).status_code == 404


def test_a_file_missing_from_disk_is_a_404(client, sign_in, employee, app, with_files):
    _, urls = with_files
    for name in os.listdir(app.config["ATTACHMENTS_DIR"]):
        os.remove(os.path.join(app.config["ATTACHMENTS_DIR"], name))
    sign_in(employee)
    assert download(client, urls["black.png"]).status_code == 404
