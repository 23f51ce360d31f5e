import shutil
from pathlib import Path

from sqlalchemy import delete, func, select

from portal.articles.files import FrontMatterError, dump, import_path, parse
from portal.articles.models import Article, ArticleRevision, Category
from portal.articles.shape import skeleton
from portal.extensions import db
from portal.incidents import services as incident_services
from tests.conftest import FIXTURES, PASSWORD

GOOD = (FIXTURES / "articles" / "printer-offline.md").read_text()


def test_parse_reads_every_front_matter_field():
    data = parse(GOOD)
    assert data.slug == "printer-offline"
    assert data.category == "Printing and scanning"
    assert data.subcategory == "Offline printers"
    assert data.tags == ["printer", "offline"]
    assert data.owner_email == "workplace@example.com"
    assert data.reviewed_on.isoformat() == "2026-10-01"
    assert data.body_md.startswith("## Symptoms")


def _broken(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_broken_files_are_named_with_the_reason_and_the_rest_imported(app, tmp_path):
    folder = tmp_path / "lib"
    shutil.copytree(FIXTURES / "articles", folder)
    _broken(
        folder,
        "no-title.md",
        GOOD.replace("title: Printer shows as offline\n", "").replace(
            "slug: printer-offline", "slug: other"
        ),
    )
    _broken(folder, "bad-yaml.md", GOOD.replace("tags: [printer, offline]", "tags: [printer"))
    _broken(
        folder,
        "no-resolution.md",
        GOOD.replace("## Resolution", "## Fix").replace("slug: printer-offline", "slug: third"),
    )
    report = import_path(folder)
    db.session.commit()
    failed = dict(report.failed)
    assert set(failed) == {"no-title.md", "bad-yaml.md", "no-resolution.md"}
    assert "title" in failed["no-title.md"]
    assert "YAML" in failed["bad-yaml.md"]
    assert "Resolution" in failed["no-resolution.md"]
    assert sorted(report.created) == ["printer-offline", "staff-unlock"]
    assert db.session.scalar(select(func.count(Article.id))) == 2


def test_cli_import_exits_non_zero_and_names_the_broken_file(runner, tmp_path):
    folder = tmp_path / "lib"
    shutil.copytree(FIXTURES / "articles", folder)
    _broken(folder, "zz-broken.md", "no front matter here")
    result = runner.invoke(args=["kb", "import", str(folder)])
    assert result.exit_code == 1
    assert "zz-broken.md" in result.output and "front matter" in result.output
    assert "2 created" in result.output


def test_import_export_import_changes_nothing(app, runner, tmp_path):
    library = Path(app.root_path).parent / "articles"
    assert runner.invoke(args=["kb", "import", str(library)]).exit_code == 0
    revisions = db.session.scalar(select(func.count(ArticleRevision.id)))
    out = tmp_path / "export"
    result = runner.invoke(args=["kb", "export", str(out)])
    assert result.exit_code == 0
    exported = {p.name: p.read_text() for p in out.glob("*.md")}
    assert len(exported) == len(list(library.glob("*.md")))
    again = runner.invoke(args=["kb", "import", str(out)])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated" in again.output
    assert db.session.scalar(select(func.count(ArticleRevision.id))) == revisions
    runner.invoke(args=["kb", "export", str(out)])
    assert {p.name: p.read_text() for p in out.glob("*.md")} == exported


def test_dump_then_parse_round_trips(make_article):
    article = make_article(title="Round trip: colons and 'quotes'", tags=["a", "b"])
    data = parse(dump(article))
    assert data.title == article.title
    assert data.tags == ["a", "b"]
    assert data.body_md == article.body_md


def test_unknown_visibility_is_refused():
    try:
        parse(GOOD.replace("visibility: everyone", "visibility: public"))
    except FrontMatterError as exc:
        assert "visibility" in str(exc)
    else:
        raise AssertionError("expected FrontMatterError")


# -- issue 11 B.9: the web editor, incident drafts and the importer agree ---------------

RULED_BODY = (
    "## Symptoms\n\n- The scanner sends blank pages\n\n---\n\n"
    "## Applies to\n\n| Model | Site |\n|---|---|\n| X1 | HQ |\n\n"
    "## Cause\n\nThe glass is dirty.\n--- not a fence, a line of text\n\n"
    "## Resolution\n\n1. Clean the glass.\n\n---\n"
)


def _sign_in(app, user):
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return client


def _web_and_incident_library(app, make_user, make_article, employee):
    """A library as people make it: in the web editor (no category, no Symptoms, a body with
    '---' lines) and from an untriaged incident, next to imported articles."""
    make_article(title="Imported scanner guide", category="Printing", subcategory="Scanners")
    editor, agent = make_user("editor"), make_user("agent")
    web = _sign_in(app, editor)
    for form in (
        {
            "title": "Notes on the new VPN",
            "slug": "notes-on-the-new-vpn",
            "body": "Just notes for now.\n\n---\n\nMore later.",
        },
        {"title": "Printer skeleton", "slug": "printer-skeleton", "body": skeleton()},
        {
            "title": "Scanner sends blank pages",
            "slug": "scanner-sends-blank-pages",
            "category": "printing",
            "subcategory": "printing-scanners",
            "tags": "scanner, Blank",
            "summary": "Clean the glass.",
            "status": "published",
            "body": RULED_BODY.replace("\n", "\r\n"),
        },
    ):
        data = {"visibility": "everyone", "status": "draft", "save": "Save", **form}
        response = web.post("/articles/new", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)
    incident = incident_services.raise_incident(
        employee, "Teams keeps signing me out", "It happens every morning.\nSince Monday."
    )
    incident_services.draft_article_from(incident, agent)
    db.session.commit()
    made = db.session.scalars(select(Article).order_by(Article.slug)).all()
    assert {a.category is None for a in made} == {True, False}  # some have no category
    return made


def test_web_and_incident_articles_export_import_export_identically(
    app, runner, tmp_path, make_user, make_article, employee
):
    made = _web_and_incident_library(app, make_user, make_article, employee)
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(args=["kb", "export", str(first)]).exit_code == 0
    exported = {p.name: p.read_text() for p in first.glob("*.md")}
    assert len(exported) == len(made) == 5

    # Into the same library: nothing changes, no new revision.
    revisions = db.session.scalar(select(func.count(ArticleRevision.id)))
    again = runner.invoke(args=["kb", "import", str(first)])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 5 unchanged, 0 failed" in again.output
    assert db.session.scalar(select(func.count(ArticleRevision.id))) == revisions

    # Into an empty library: everything comes back, and exports to the same bytes.
    db.session.execute(delete(Article))
    db.session.execute(delete(Category))
    db.session.commit()
    fresh = runner.invoke(args=["kb", "import", str(first)])
    assert fresh.exit_code == 0, fresh.output
    assert "5 created" in fresh.output
    assert runner.invoke(args=["kb", "export", str(second)]).exit_code == 0
    assert {p.name: p.read_text() for p in second.glob("*.md")} == exported
    ruled = db.session.scalars(
        select(Article).where(Article.slug == "scanner-sends-blank-pages")
    ).one()
    assert ruled.body_md == RULED_BODY  # every '---' line kept, line ends made Unix
    assert ruled.category.name == "Printing" and ruled.subcategory.name == "Scanners"


def test_a_body_with_rule_lines_is_not_cut():
    text = GOOD.split("\n---\n", 1)[0] + "\n---\n\n" + RULED_BODY
    assert parse(text).body_md == RULED_BODY


def test_front_matter_must_still_be_closed():
    try:
        parse("---\nslug: x\ntitle: X\n\n## Symptoms\n")
    except FrontMatterError as exc:
        assert "not closed" in str(exc)
    else:
        raise AssertionError("expected FrontMatterError")


def test_import_and_editor_refuse_publishing_without_category_alike(app, make_user, tmp_path):
    text = GOOD.replace("category: Printing and scanning\n", "category: ''\n").replace(
        "subcategory: Offline printers\n", "subcategory: ''\n"
    )
    try:
        parse(text)
    except FrontMatterError as exc:
        assert "category: choose one before publishing" in str(exc)
    else:
        raise AssertionError("expected FrontMatterError")
    assert parse(text.replace("status: published", "status: draft")).category == ""
    web = _sign_in(app, make_user("editor"))
    response = web.post(
        "/articles/new",
        data={
            "title": "No category",
            "visibility": "everyone",
            "status": "published",
            "body": parse(GOOD).body_md,
            "save": "Save",
        },
    )
    assert response.status_code == 400
    assert "category: choose one before publishing" in response.get_data(as_text=True)


def test_new_article_starts_from_the_skeleton_and_slug_comes_from_the_title(app, make_user):
    web = _sign_in(app, make_user("agent"))
    page = web.get("/articles/new").get_data(as_text=True)
    for name in ("Symptoms", "Applies to", "Cause", "Resolution"):
        assert f"## {name}" in page
    assert 'data-slug-from="title"' in page
    response = web.post(
        "/articles/new",
        data={
            "title": "Café Wi-Fi: no sign-in page",
            "body": skeleton(),
            "visibility": "everyone",
            "status": "draft",
            "save": "Save",
        },
    )
    assert response.status_code == 302
    assert response.location.endswith("/articles/cafe-wi-fi-no-sign-in-page")


def test_editor_chooses_categories_from_the_tree_and_never_makes_new_ones(
    app, make_user, make_article
):
    make_article(title="Printer offline", category="Printing and scanning", subcategory="Printers")
    make_article(title="VPN", category="Network", subcategory="VPN")
    web = _sign_in(app, make_user("editor"))
    page = web.get("/articles/new").get_data(as_text=True)
    assert '<option value="printing-and-scanning">Printing and scanning</option>' in page
    assert "Printing and scanning › Printers" in page
    base = {"title": "Scanner", "slug": "scanner", "body": skeleton(), "save": "Save"}
    base.update(visibility="everyone", status="draft")
    typed = web.post("/articles/new", data={**base, "category": "Printing & scanning"})
    assert typed.status_code == 400 and "Not a valid choice" in typed.get_data(as_text=True)
    mismatched = web.post(
        "/articles/new",
        data={**base, "category": "network", "subcategory": "printing-and-scanning-printers"},
    )
    assert mismatched.status_code == 400
    assert "is not a subcategory of" in mismatched.get_data(as_text=True)
    names = db.session.scalars(select(Category.name).where(Category.parent_id.is_(None))).all()
    assert sorted(names) == ["Network", "Printing and scanning"]
    chosen = web.post(
        "/articles/new",
        data={**base, "category": "network", "subcategory": "network-vpn"},
    )
    assert chosen.status_code == 302
    article = db.session.scalars(select(Article).where(Article.slug == "scanner")).one()
    assert (article.category.name, article.subcategory.name) == ("Network", "VPN")
