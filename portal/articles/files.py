"""Articles as Markdown files with a YAML front-matter header (import and export)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from portal.accounts.models import User
from portal.articles.models import STATUSES, VISIBILITIES, Article
from portal.articles.services import (
    ArticleData,
    ArticleError,
    normalise_body,
    save_article,
    to_data,
)
from portal.extensions import db

REQUIRED = ("slug", "title", "visibility", "status")
# May be empty (a draft from the web editor or an untriaged incident has no category yet);
# checks.save_problems says when a value is needed (publishing needs a category).
OPTIONAL = ("summary", "category", "subcategory", "tags", "owner", "reviewed")
FIELD_ORDER = REQUIRED + OPTIONAL


class FrontMatterError(ValueError):
    pass


_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)


def parse(text: str) -> ArticleData:
    """Read one article file; raise FrontMatterError saying what is wrong.

    Only the front matter's own fence is looked for: a body may hold '---' lines
    (Markdown rules, tables) and keeps them."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    first, _, rest = text.partition("\n")
    if first.rstrip() != "---":
        raise FrontMatterError("no front matter: the file must start with a '---' line")
    close = _FENCE.search(rest)
    if close is None:
        raise FrontMatterError("front matter is not closed by a '---' line")
    header_text = rest[: close.start()]
    body = rest[close.end() :]
    try:
        header = yaml.safe_load(header_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise FrontMatterError(f"front matter is not valid YAML{where}") from exc
    if not isinstance(header, dict):
        raise FrontMatterError("front matter must be a set of 'key: value' lines")
    missing = [key for key in REQUIRED if header.get(key) in (None, "")]
    if missing:
        raise FrontMatterError(f"missing required field(s): {', '.join(missing)}")
    unknown = sorted(set(header) - set(FIELD_ORDER))
    if unknown:
        raise FrontMatterError(f"unknown field(s): {', '.join(map(str, unknown))}")
    tags = header.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str | int) for t in tags):
        raise FrontMatterError("tags: must be a list of words")
    if header["visibility"] not in VISIBILITIES:
        raise FrontMatterError(f"visibility: must be one of {', '.join(VISIBILITIES)}")
    if header["status"] not in STATUSES:
        raise FrontMatterError(f"status: must be one of {', '.join(STATUSES)}")
    reviewed = header.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, date):
        try:
            reviewed = date.fromisoformat(str(reviewed))
        except ValueError as exc:
            raise FrontMatterError("reviewed: must be a date like 2026-01-31") from exc
    data = ArticleData(
        slug=str(header["slug"]),
        title=str(header["title"]),
        summary=_text(header.get("summary")),
        body_md=normalise_body(body),
        category=_text(header.get("category")),
        subcategory=_text(header.get("subcategory")),
        tags=[str(t) for t in tags],
        visibility=header["visibility"],
        status=header["status"],
        owner_email=str(header["owner"]) if header.get("owner") else "",
        reviewed_on=reviewed,
    )
    problems = data.problems()
    if problems:
        raise FrontMatterError("; ".join(problems))
    return data


def _text(value: object) -> str:
    return "" if value is None else str(value)


def dump(article: Article) -> str:
    """One article as a file: front matter in a fixed order, then the body."""
    data = to_data(article)
    header = {
        "slug": data.slug,
        "title": data.title,
        "summary": data.summary,
        "category": data.category,
        "subcategory": data.subcategory,
        "tags": list(data.tags or []),
        "visibility": data.visibility,
        "status": data.status,
    }
    if data.owner_email:
        header["owner"] = data.owner_email
    if data.reviewed_on:
        header["reviewed"] = data.reviewed_on
    head = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{head}---\n\n{normalise_body(data.body_md)}"


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def import_path(path: Path, editor: User | None = None) -> ImportReport:
    """Import a file or every *.md in a folder; broken files are reported and skipped.

    Each good file is saved in its own savepoint, so one bad file never undoes another.
    The caller commits.
    """
    report = ImportReport()
    files = sorted(path.glob("*.md")) if path.is_dir() else [path]
    seen: dict[str, str] = {}
    for file in files:
        try:
            data = parse(file.read_text(encoding="utf-8"))
            if data.slug in seen:
                raise FrontMatterError(f"slug '{data.slug}' is also used by {seen[data.slug]}")
            with db.session.begin_nested():
                existed = db.session.scalar(select(Article.id).where(Article.slug == data.slug))
                _, changed = save_article(data, editor, note=f"Imported from {file.name}")
        except (FrontMatterError, ArticleError, UnicodeDecodeError, OSError) as exc:
            report.failed.append((file.name, str(exc)))
            continue
        seen[data.slug] = file.name
        bucket = report.unchanged if not changed else report.updated if existed else report.created
        bucket.append(data.slug)
    return report


def export_path(path: Path, articles: list[Article]) -> int:
    """Write one <slug>.md per article into a folder."""
    path.mkdir(parents=True, exist_ok=True)
    for article in articles:
        (path / f"{article.slug}.md").write_text(dump(article), encoding="utf-8")
    return len(articles)
