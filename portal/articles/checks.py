"""What an article must be before it is published: every required section written, and no
placeholder left from a generated draft.

Drafts are generated from incidents (portal/incidents/services.py) and knowledge gaps
(services.gap_body) with placeholder text where only an editor knows the answer. The
generators take their placeholders from here, so the check below recognises every one of
them; publishing by any path (the editor's form, the workflow, the API, an import) asks
:func:`publish_problems` and refuses while it lists anything.
"""

from __future__ import annotations

import re

from portal.articles.shape import sections, shape_problems

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
