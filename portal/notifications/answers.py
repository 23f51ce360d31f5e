"""Articles answered first: the links in a mail that say "This solved it" or "I still need
help", and what each does.

A link carries a signed token naming the mail that was answered, the article and the
action, so the sender needs no password to use it. Opening it only shows a page; the
button on that page (a POST) does the work, so a mail scanner that follows links changes
nothing. "This solved it" closes the incident as self-solved (or, in answer-first mode,
records that no incident was needed) and counts the mail as a deflection; "I still need
help" keeps the incident open (or raises it now, from the kept mail).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update

from portal import branding
from portal.analytics.models import SearchEvent
from portal.articles.models import Article
from portal.articles.services import cast_vote
from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import Incident
from portal.notifications.compose import ArticleOffer, Content, compose, public_url
from portal.notifications.models import InboundMail
from portal.notifications.services import queue_mail

SALT = "mail-answer"
MAX_AGE = 60 * 24 * 3600  # links work for 60 days
ACTIONS = ("solved", "help")


class AnswerError(ValueError):
    """A link that cannot be used, with a message fit for the person who clicked it."""


@dataclass
class Answer:
    """What a link points at."""

    mail: InboundMail
    article: Article | None
    action: str

    @property
    def incident(self) -> Incident | None:
        return db.session.get(Incident, self.mail.incident_id) if self.mail.incident_id else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token(mail_id: int, article_id: int, action: str) -> str:
    return _serializer().dumps([mail_id, article_id, action])


def link(mail_id: int, article_id: int, action: str) -> str:
    return public_url(f"/mail/answers/{token(mail_id, article_id, action)}")


def read(value: str) -> Answer:
    """The answer a token names; AnswerError for a forged, expired or stale one."""
    try:
        mail_id, article_id, action = _serializer().loads(value, max_age=MAX_AGE)
    except (BadSignature, ValueError, TypeError) as exc:
        raise AnswerError("This link is not valid any more. Reply to the mail instead.") from exc
    mail = db.session.get(InboundMail, int(mail_id))
    article = db.session.get(Article, int(article_id))
    if mail is None or mail.user is None or action not in ACTIONS:
        raise AnswerError("This link is not valid any more. Reply to the mail instead.")
    return Answer(mail=mail, article=article, action=action)


def offers(mail: InboundMail, hits: list, with_links: bool = True) -> list[ArticleOffer]:
    """Search hits as articles offered in a mail, each with its two links."""
    return [
        ArticleOffer(
            title=hit.title,
            summary=hit.summary,
            url=public_url(f"/articles/{hit.slug}"),
            solved_url=link(mail.id, hit.article_id, "solved") if with_links else "",
            need_help_url=link(mail.id, hit.article_id, "help") if with_links else "",
        )
        for hit in hits
    ]


def send_answer(mail: InboundMail, user, hits: list) -> None:
    """Answer first: the articles, and no incident until the sender asks for one."""
    name = branding.name()
    subject = f"Re: {mail.subject}" if mail.subject else f"Your mail to {name}"
    composed = compose(
        subject,
        Content(
            heading="These articles may answer your question",
            paragraphs=[
                f"Thank you for writing to the {name} service desk. Before we raise an incident, "
                "these articles from our help library match what you wrote."
            ],
            articles=offers(mail, hits),
            articles_intro=(
                'If one solves it, click "This solved it" and nothing more is needed. If not, '
                'click "I still need help" (or reply to this mail) and we raise an incident with '
                "everything you wrote."
            ),
        ),
    )
    queue_mail(
        user.email,
        composed.subject,
        composed.text,
        html=composed.html,
        kind="answer",
        in_reply_to=mail.message_id or "",
        references=[mail.message_id or ""],
    )


def solved(answer: Answer) -> str:
    """ "This solved it": close as self-solved (or record the deflection); idempotent."""
    mail, article = answer.mail, answer.article
    if article is None:
        raise AnswerError("That article is no longer in the library.")
    user = mail.user
    incident = answer.incident
    if incident is not None and incident.status != "closed" and incident.requester_id != user.id:
        raise AnswerError("Only the person who wrote can close this incident.")
    cast_vote(article, f"user:{user.id}", True, user)
    _count_deflection(mail, article)
    if incident is None:
        mail.status = "solved"
        mail.raw = None
        return "Glad it helped. Nothing more is needed; no incident was raised."
    if incident.status == "closed":
        return f"{incident.ref} is closed. Thank you for telling us."
    services.self_solve(incident, user, article)
    return f"Glad it helped. We closed {incident.ref} as solved."


def need_help(answer: Answer) -> str:
    """ "I still need help": the incident stays open (or is raised now from the kept mail)."""
    incident = answer.incident
    slug = answer.article.slug if answer.article else ""
    if incident is not None:
        if incident.status == "closed":
            return f"{incident.ref} is closed. Reply to its mail to reopen it."
        services.record_event(incident, answer.mail.user, "still_needs_help", new=slug)
        return f"{incident.ref} stays open; the service desk will get back to you."
    from portal.notifications.intake import escalate

    incident = escalate(answer.mail, reason="the sender still needs help")
    if incident is None:
        raise AnswerError("This mail can no longer be raised as an incident.")
    return f"We raised {incident.ref}; the service desk will get back to you."


def _count_deflection(mail: InboundMail, article: Article) -> None:
    """The mail's search session ends without an incident: a deflection by mail."""
    db.session.execute(
        update(SearchEvent)
        .where(SearchEvent.session_key == f"m:{mail.id}")
        .values(incident_id=None, opened_article_id=article.id, voted=True)
        .execution_options(synchronize_session=False)
    )
