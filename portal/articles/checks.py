"""The one validation of an article, whatever saves it: the web editor, `kb import`, the API
and drafts made from incidents. Two levels, so a draft may be unfinished but nothing is
published (or imported as published) that the editor would refuse to publish."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from portal.articles.models import STATUSES, VISIBILITIES
from portal.articles.shape import shape_problems

if TYPE_CHECKING:
    from portal.articles.services import ArticleData

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 120
MAX_TITLE = 200
MAX_NAME = 120


def save_problems(data: ArticleData) -> list[str]:
    """What stops an article from being saved at all, as "field: reason" sentences."""
    found = []
    if not SLUG_RE.match(data.slug or "") or len(data.slug) > MAX_SLUG:
        found.append("slug: use lowercase letters, digits and single hyphens (at most 120)")
    if not (data.title or "").strip():
        found.append("title: required")
    elif len(data.title) > MAX_TITLE:
        found.append(f"title: at most {MAX_TITLE} characters")
    if data.visibility not in VISIBILITIES:
        found.append(f"visibility: must be one of {', '.join(VISIBILITIES)}")
    if data.status not in STATUSES:
        found.append(f"status: must be one of {', '.join(STATUSES)}")
    if not (data.body_md or "").strip():
        found.append("body: required")
    if data.subcategory and not data.category:
        found.append("subcategory: needs a category")
    for name, value in (("category", data.category), ("subcategory", data.subcategory)):
        if len(value or "") > MAX_NAME:
            found.append(f"{name}: at most {MAX_NAME} characters")
    if data.status == "published":
        found.extend(publish_problems(data))
    return found


def publish_problems(data: ArticleData) -> list[str]:
    """What an article needs before readers may see it: a place in the category tree and
    the uniform shape (Symptoms, Applies to, Cause, Resolution)."""
    found = []
    if not (data.category or "").strip():
        found.append("category: choose one before publishing")
    found.extend(f"body: {problem}" for problem in shape_problems(data.body_md or ""))
    return found
