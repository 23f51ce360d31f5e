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


# A "<" that opens a tag (or a declaration) outside the allowlist. Markdown has already
# escaped code, so what remains is HTML the writer typed.
_FOREIGN_TAG = re.compile(r"<(?=/?([A-Za-z][A-Za-z0-9:-]*)|[!?](?!--))")


def _show_foreign_tags(html: str) -> str:
    """Escape the "<" of tags outside the allowlist, so they read as the text they are.

    The HTML parser behind nh3 treats what follows <script>, <style>, <textarea> or <title>
    as that element's raw content (and nh3 drops script and style content), so a writer's
    "use the <script> tag" would swallow the rest of the article without a word.
    """

    def escape(match: re.Match) -> str:
        name = match.group(1)
        return "<" if name and name.lower() in _TAGS else "&lt;"

    return _FOREIGN_TAG.sub(escape, html)


def sanitise(html: str) -> str:
    """Keep only an allowlist of tags, attributes and URL schemes; other tags become text."""
    return nh3.clean(
        _show_foreign_tags(html),
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
