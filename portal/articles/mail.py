"""Who hears what about an article: the agent who proposed a change to a published article
hears the editor's decision (approved or sent back, and the editor's comment).

The same mechanism as for incidents (portal/incidents/mail.py): a notification in the
author's top-bar inbox, and a mail when their preferences say so (kind "proposal_decided").
Nobody else is told; an editor deciding on their own proposal is not told either.
"""

from __future__ import annotations

from portal.accounts.models import User
from portal.articles.models import Article, ArticleRevision
from portal.extensions import db
from portal.notifications import preferences
from portal.notifications.compose import Content, compose, public_url
from portal.notifications.models import Notification
from portal.notifications.services import queue_mail

KIND = "proposal_decided"
TEXT_MAX = 300  # the notification column's length


def proposal_link(article: Article, revision: ArticleRevision) -> str:
    """The proposal's own page (the decision, the comment, the diff), absolute for a mail."""
    return public_url(f"/articles/{article.slug}/proposals/{revision.number}")


def proposal_decided(
    article: Article, revision: ArticleRevision, editor: User, approved: bool, comment: str = ""
) -> None:
    """Tell the proposal's author what the editor decided, in their inbox and (if they chose
    so) by mail."""
    author = revision.editor
    if author is None or author.id == editor.id or not author.is_active_account:
        return
    comment = (comment or "").strip()
    outcome = "approved" if approved else "sent back"
    text = f"{editor.name} {outcome} your change to “{article.title}”"
    if comment:
        text += f": {comment}"
    if len(text) > TEXT_MAX:
        text = text[: TEXT_MAX - 1] + "…"
    db.session.add(Notification(user_id=author.id, kind=KIND, text=text, revision_id=revision.id))
    if preferences.wants_mail(author, KIND):
        subject = f"Your change to “{article.title}” was {outcome}"
        paragraphs = [
            f"{editor.name} {outcome} revision {revision.number} of “{article.title}”, "
            "the change you proposed.",
            "Readers now see your change."
            if approved
            else "Readers keep seeing the published text. Edit the article to continue from "
            "your proposal and send it again.",
        ]
        composed = compose(
            subject,
            Content(
                heading=subject,
                paragraphs=paragraphs,
                quote_author=editor.name if comment else "",
                quote_md=comment,
                action_label="Open the proposal",
                action_url=proposal_link(article, revision),
                replyable=False,  # a reply would reach the desk's mailbox as a new incident
            ),
        )
        queue_mail(author.email, composed.subject, composed.text, html=composed.html, kind=KIND)
    db.session.flush()
