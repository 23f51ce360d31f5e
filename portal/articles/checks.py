"""The one validation of an article, whatever saves it: the web editor, `kb import`, the API
and drafts made from incidents. Two levels: :func:`save_problems` is what any save needs (a
draft may be unfinished), :func:`publish_problems_of` what publishing needs besides: a place
in the category tree, every required section written, and no placeholder left from a
generated draft. :func:`problems` is both, by the article's status, so nothing is saved or
imported as published that the editor would refuse to publish.

Drafts are generated from incidents (portal/incidents/services.py) and knowledge gaps
(services.gap_body) with placeholder text where only an editor knows the answer. The
generators take their placeholders from here, so the check below recognises every one of
them; publishing by any path (the editor's form, the workflow, the API, an import) asks
:func:`publish_problems` and refuses while it lists anything.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from portal.articles.models import STATUSES, VISIBILITIES
from portal.articles.shape import sections, shape_problems

if TYPE_CHECKING:
    from portal.articles.services import ArticleData

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 120
MAX_TITLE = 200
MAX_NAME = 120

# Placeholders the draft generators write; each tells the editor what to replace it with.
SYMPTOMS_PLACEHOLDER = "Describe what people see (check before publishing)"
APPLIES_TO_PLACEHOLDER = "The systems named in the symptoms (check before publishing)"
CAUSE_PLACEHOLDER = "To be confirmed by the editor before publishing."
GAP_SYMPTOMS_PLACEHOLDER = "Describe what people see"
GAP_APPLIES_TO_PLACEHOLDER = "Describe the systems this applies to"
GAP_CAUSE_PLACEHOLDER = "Explain the cause in plain words."
GAP_STEP_PLACEHOLDER = "The first step."

PLACEHOLDERS = (
    SYMPTOMS_PLACEHOLDER,
    APPLIES_TO_PLACEHOLDER,
    CAUSE_PLACEHOLDER,
    GAP_SYMPTOMS_PLACEHOLDER,
    GAP_APPLIES_TO_PLACEHOLDER,
    GAP_CAUSE_PLACEHOLDER,
    GAP_STEP_PLACEHOLDER,
)
# Phrases of the generators no finished article says, whatever was written around them
# (drafts made before these constants existed carry them too).
MARKERS = ("check before publishing", "to be confirmed by the editor")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


_PLACEHOLDER_FORMS = tuple(_norm(p) for p in PLACEHOLDERS)
_MARKER_RE = re.compile(
    "|".join(re.escape(m) for m in MARKERS)
    + r"|^(?:to be confirmed|tbc|tbd|todo)\b"  # a line that only promises to say later
)


def placeholder_problems(body_md: str) -> list[str]:
    """Each section that still holds generated placeholder text, named with the words."""
    problems = []
    for name, text in sections(body_md or "").items():
        for line in text.splitlines():
            plain = _norm(re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line))
            if not plain:
                continue
            marker = _MARKER_RE.search(plain)
            if plain in _PLACEHOLDER_FORMS or marker:
                shown = line.strip().lstrip("-*+ ").strip().rstrip(".")
                problems.append(
                    f"the '## {name}' section still says “{shown[:80]}”: "
                    "replace it with what is true"
                )
                break
    return problems


def publish_problems(body_md: str) -> list[str]:
    """What stops a body being published, as sentences that say what to fix; empty when fine."""
    return shape_problems(body_md or "") + placeholder_problems(body_md or "")


def publish_message(body_md: str) -> str | None:
    """One message for the person publishing, or None when the article may be published."""
    problems = publish_problems(body_md)
    if not problems:
        return None
    return "Not ready to publish: " + "; ".join(problems) + "."


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
    return found


def publish_problems_of(data: ArticleData) -> list[str]:
    """What a whole article needs before readers may see it: a category (readers browse the
    tree) and a body that passes :func:`publish_problems`."""
    found = publish_problems(data.body_md)
    if not (data.category or "").strip():
        found.append("category: choose one before publishing")
    return found


def publish_message_for(data: ArticleData) -> str | None:
    """One message for the person publishing this article, or None when it may be."""
    problems = publish_problems_of(data)
    if not problems:
        return None
    return "Not ready to publish: " + "; ".join(problems) + "."


def problems(data: ArticleData) -> list[str]:
    """Every reason this article cannot be saved with its status (editor, import, API)."""
    found = save_problems(data)
    if data.status == "published" and not found:
        message = publish_message_for(data)
        if message:
            found.append(message)
    return found
