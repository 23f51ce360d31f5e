"""The uniform shape of an article body: Symptoms, Applies to, Cause, Resolution, More help."""

from __future__ import annotations

import re

REQUIRED_SECTIONS = ("Symptoms", "Applies to", "Cause", "Resolution")
OPTIONAL_SECTIONS = ("More help",)

_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$", re.MULTILINE)


def sections(body_md: str) -> dict[str, str]:
    """Split a body on its level-2 headings; keys keep the heading text as written."""
    found: dict[str, str] = {}
    matches = list(_HEADING.finditer(body_md or ""))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body_md)
        found[match.group(1).strip()] = body_md[match.end() : end].strip()
    return found


def symptoms(body_md: str) -> str:
    """The Symptoms section, which search weighs above the rest of the body."""
    for name, text in sections(body_md).items():
        if name.lower() == "symptoms":
            return text
    return ""


def shape_problems(body_md: str) -> list[str]:
    """What is missing or empty in the uniform shape, as readable sentences."""
    found = {name.lower(): text for name, text in sections(body_md).items()}
    problems = []
    for name in REQUIRED_SECTIONS:
        if name.lower() not in found:
            problems.append(f"the '## {name}' section is missing")
        elif not found[name.lower()]:
            problems.append(f"the '## {name}' section is empty")
    for name in OPTIONAL_SECTIONS:
        if name.lower() in found and not found[name.lower()]:
            problems.append(f"the '## {name}' section is empty")
    return problems


def skeleton() -> str:
    """The body a new article starts from: every section heading, nothing to delete."""
    return "\n\n".join(f"## {name}\n" for name in (*REQUIRED_SECTIONS, *OPTIONAL_SECTIONS))
