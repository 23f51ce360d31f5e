"""How a mail from the portal reads: one template pair (HTML and plain text) for every mail,
filled with a heading, paragraphs, what a person wrote (Markdown, rendered and sanitised
by portal.markdown), matching articles and one link to act on.

Rendered when the mail is queued, from the app's Jinja environment but without request
context processors, so the worker, the CLI and a request all produce the same mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup

from portal import branding, markdown

# Everything from the line holding this marker down is history: intake cuts it off.
REPLY_MARKER = "##- Please type your reply above this line -##"
REPLY_MARKER_RE = re.compile(r"^[\s>]*##-\s*Please type your reply above this line\s*-##", re.M)


@dataclass
class ArticleOffer:
    """An article offered in a mail, with its links ("This solved it", "I still need help")."""

    title: str
    summary: str
    url: str
    solved_url: str = ""
    need_help_url: str = ""


@dataclass
class Composed:
    subject: str
    text: str
    html: str


@dataclass
class Content:
    """What one mail says; every field is optional except the heading."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    quote_author: str = ""
    quote_md: str = ""  # what a person wrote: Markdown
    solution_md: str = ""
    articles: list[ArticleOffer] = field(default_factory=list)
    articles_intro: str = ""
    action_label: str = ""
    action_url: str = ""
    reference: str = ""  # INC-000123, shown at the foot
    replyable: bool = True  # carries the "reply above this line" marker


def public_url(path: str = "") -> str:
    """An absolute link for a mail: there is no request to ask the host from."""
    base = (current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    return base + (path if path.startswith("/") or not path else "/" + path)


def compose(subject: str, content: Content) -> Composed:
    """The subject, plain text and HTML of one mail."""
    env = current_app.jinja_env
    brand = branding.current()
    context = {
        "c": content,
        "portal_name": brand.name,
        "accent": brand.accent,
        "logo_url": public_url(f"/branding/logo?v={brand.version}") if brand.logo else "",
        "logo_width": brand.logo_width,
        "portal_url": public_url("/"),
        "marker": REPLY_MARKER,
        "quote_html": _html(content.quote_md),
        "solution_html": _html(content.solution_md),
        "quote_text": _plain_quote(content.quote_md),
    }
    text = env.get_template("mail/message.txt").render(context)
    html = env.get_template("mail/message.html").render(context)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return Composed(subject=" ".join(subject.split()), text=text, html=html)


def _html(md_text: str) -> Markup:
    return markdown.to_markup(md_text) if md_text.strip() else Markup("")


def _plain_quote(md_text: str) -> str:
    return "\n".join(f"  {line}" if line.strip() else "" for line in md_text.strip().splitlines())
