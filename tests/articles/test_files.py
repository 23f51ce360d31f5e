import shutil
from pathlib import Path

from sqlalchemy import func, select

from portal.articles.files import FrontMatterError, dump, import_path, parse
from portal.articles.models import Article, ArticleRevision
from portal.extensions import db
from tests.conftest import FIXTURES

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
