"""The one way user text becomes HTML: render Markdown, then sanitise with nh3."""

from __future__ import annotations

import re

import markdown as md
import nh3
from markupsafe import Markup

_EXTENSIONS = ["fenced_code", "tables", "toc", "sane_lists"]
_EXTENSION_CONFIG = {"tables": {"use_align_attribute": True}}

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_HEADINGS = {f"h{n}": {"id"} for n in range(1, 7)}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
    "code": {"class"},
    **_HEADINGS,
}
_SCHEMES = {"http", "https", "mailto"}


def render(text: str) -> str:
    """Markdown to sanitised HTML (a plain string, safe to store and to show)."""
    html = md.markdown(text or "", extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIG)
    return sanitise(html)


def sanitise(html: str) -> str:
    """Keep only an allowlist of tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def safe(html: str) -> Markup:
    """Mark HTML that came out of render() (or was stored from it) as safe for templates."""
    return Markup(sanitise(html))  # noqa: S704  (sanitised just now)


def to_markup(text: str) -> Markup:
    """Render and mark safe in one step, for text that is not stored pre-rendered."""
    return Markup(render(text))  # noqa: S704  (render() sanitises)


_MD_NOISE = re.compile(r"[#*_`>|\[\]]+|\(\s*https?://[^)]*\)|^\s*(?:\d+\.|[-+])\s+", re.MULTILINE)


def plain_text(text: str) -> str:
    """Markdown stripped to words, for the search index and snippets."""
    return re.sub(r"[ \t]+", " ", _MD_NOISE.sub(" ", text or "")).strip()
