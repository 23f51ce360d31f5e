"""Images in articles (issue 13 item 7): uploaded by staff, checked by their bytes, served
only to whoever may read the article, shown in it, never wider than the page."""

from __future__ import annotations

import io
import struct
import zlib

import pytest

from portal.articles import images
from portal.extensions import db
from tests.conftest import PASSWORD


def png(width: int = 2, height: int = 2) -> bytes:
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = zlib.compress((b"\x00" + b"\x10\x20\x30" * width) * height)
    idat = b"IDAT" + raw
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + ihdr
        + struct.pack(">I", zlib.crc32(ihdr))
        + struct.pack(">I", len(raw))
        + idat
        + struct.pack(">I", zlib.crc32(idat))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


def _as(app, user):
    c = app.test_client()
    c.post("/login", data={"email": user.email, "password": PASSWORD})
    return c


def get(client, url):
    """GET and close (a served file stays open until its response is closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def upload(client, slug, data, name="screen shot.png"):
    return client.post(
        f"/articles/{slug}/images",
        data={"image": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def agent(app, make_user):
    return _as(app, make_user("agent", email="alex.agent@example.com"))


def test_an_uploaded_image_is_shown_in_the_article_to_its_readers(app, agent, client, make_article):
    article = make_article(title="Printer offline", status="published")
    response = upload(agent, article.slug, png(640, 480))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["markdown"] == f"![screen shot]({answer['url']})"
    assert (answer["width"], answer["height"]) == (640, 480)
    served = get(client, answer["url"])  # anonymous: the article is for everyone
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == png(640, 480)
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in served.headers["Cache-Control"]

    from dataclasses import replace

    from portal.articles.services import save_article, to_data

    data = to_data(article)
    body = data.body_md + "\n\n" + answer["markdown"] + "\n"
    save_article(replace(data, body_md=body), None, article=article)
    db.session.commit()
    page = client.get(f"/articles/{article.slug}").data.decode()
    assert f'<img alt="screen shot" src="{answer["url"]}"' in page or (
        f'src="{answer["url"]}"' in page and 'alt="screen shot"' in page
    )


def test_an_image_is_served_only_to_who_may_read_the_article(app, agent, make_user, make_article):
    staff_only = make_article(title="Reset MFA", visibility="staff", status="published")
    draft = make_article(title="Badge printer", status="draft")
    other = make_article(title="VPN", status="published")
    urls = {a.slug: upload(agent, a.slug, png()).get_json()["url"] for a in (staff_only, draft)}
    employee = _as(app, make_user("employee", email="erin@example.com"))
    anonymous = app.test_client()
    for url in urls.values():
        assert get(employee, url).status_code == 404
        assert get(anonymous, url).status_code == 404
        assert get(agent, url).status_code == 200
    # an image is reached only through its own article
    image_id = urls[staff_only.slug].rsplit("/", 1)[1]
    assert get(agent, f"/articles/{other.slug}/images/{image_id}").status_code == 404


@pytest.mark.parametrize(
    "data, name, message",
    [
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "x.svg",
            "not a PNG",
        ),
        (b"<html><script>alert(1)</script></html>", "pretend.png", "not a PNG"),
        (b"", "empty.png", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 10, "cut.png", "size cannot be read"),
        (png(7000, 1), "wide.png", "over 6000 px"),
    ],
)
def test_what_is_not_an_image_is_refused_with_a_reason(
    app, agent, make_article, data, name, message
):
    article = make_article(title="Printer offline", status="published")
    response = upload(agent, article.slug, data, name)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert message in error
    db.session.rollback()
    assert db.session.scalars(db.select(images.ArticleImage)).all() == []


def test_an_image_over_the_limit_is_refused(app, agent, make_article, monkeypatch):
    monkeypatch.setattr(images, "MAX_BYTES", 100)
    article = make_article(title="Printer offline", status="published")
    response = upload(agent, article.slug, png(50, 50) + b"\x00" * 200)
    assert response.status_code == 400 and "larger than" in response.get_json()["error"]


def test_only_staff_upload(app, make_user, make_article):
    article = make_article(title="Printer offline", status="published")
    employee = _as(app, make_user("employee", email="erin@example.com"))
    assert upload(employee, article.slug, png()).status_code == 403
    assert upload(app.test_client(), article.slug, png()).status_code in (302, 401)
