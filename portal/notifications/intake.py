"""Mail in: one function takes a raw RFC 822 message, from the IMAP poller or from
`flask mail receive` on standard input, and turns it into what the web would have done.

In order: parse (standard library, policy default); drop a message already taken (same
Message-ID) and noise nobody should answer (auto-replies, bounces, bulk, our own mail, a
sender over the hourly cap); quarantine what the receiving server says failed DMARC or SPF;
find who wrote (a user, an allow-listed domain, else a polite refusal or a guest); then a
reply threads into its incident as a comment (or reopens it when it says so), and a new
mail is searched like a query and becomes an incident whose acknowledgement lists the
matching articles, or, in "answer first" mode, an answer that becomes an incident only if
the sender still needs help. Every mail is kept in the intake log (InboundMail).

The caller's session is used and committed once; nothing here talks to a mail server.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal import access, branding, search, settings
from portal.accounts.models import User
from portal.accounts.services import AccountError, create_user, find_user
from portal.analytics.models import SearchEvent
from portal.extensions import db
from portal.incidents import attachments, services
from portal.incidents import mail as incident_mail
from portal.incidents.models import Incident
from portal.notifications import answers
from portal.notifications.compose import REPLY_MARKER_RE, Content, compose
from portal.notifications.htmltext import html_to_text
from portal.notifications.models import InboundMail, MailMessage, Notification
from portal.notifications.services import mail_domain, queue_mail
from portal.search.query import normalise
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

SUBJECT_MAX = 300
TITLE_MAX = 200
BODY_MAX = 20_000
ANSWERS = 3
_REF_IN_SUBJECT = re.compile(r"\[(INC-\d{6,})\]", re.IGNORECASE)
_IDS = re.compile(r"<[^<>\s]+>")
# Words that mean "it is not fixed": only these reopen a resolved or closed incident.
_REOPEN = re.compile(
    r"\b(re-?open|still (?:not|doesn'?t|does not|isn'?t|is not|broken|failing|happening|"
    r"the same)|not (?:fixed|solved|resolved|working)|(?:did ?n[o']t|does ?n[o']t|didn't) "
    r"(?:work|help|fix)|same problem|happened again|happening again|back again)\b",
    re.IGNORECASE,
)
_BULK = {"bulk", "list", "junk"}
_BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}


@dataclass
class Outcome:
    """What became of one mail; `temporary` asks the caller to deliver it again later."""

    status: str
    reason: str = ""
    inbound_id: int | None = None
    incident_ref: str | None = None
    temporary: bool = False


@dataclass
class Parsed:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    text: str  # the whole text body (HTML turned to text)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


# -- the one entry point ---------------------------------------------------------------


def receive(raw: bytes, source: str = "pipe", *, release: InboundMail | None = None) -> Outcome:
    """Take one message and commit what it became.

    `release` is a quarantined mail an agent let through: the sender checks are skipped.
    Raises only for trouble worth a retry (the database), with the session rolled back;
    a message the incident rules refuse is kept as "failed".
    """
    try:
        return _receive(raw, source, release)
    except Exception:
        db.session.rollback()  # the caller retries later; the session stays usable
        raise


def _receive(raw: bytes, source: str, release: InboundMail | None) -> Outcome:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    parsed = parse(message, raw)
    if release is None and db.session.scalar(
        select(InboundMail.id).where(InboundMail.message_id == parsed.message_id)
    ):
        return Outcome("duplicate", "this Message-ID was received before")
    row = release or InboundMail(message_id=parsed.message_id, source=source)
    row.from_address = parsed.from_address[:254]
    row.from_name = parsed.from_name[:200]
    row.subject = parsed.subject[:SUBJECT_MAX]
    row.body = parsed.text[:BODY_MAX]
    if release is None:
        row.status = "failed"  # until decided below, in this same transaction
        db.session.add(row)
        try:
            db.session.flush()  # claims the Message-ID: a second worker stops here
        except IntegrityError:
            db.session.rollback()
            return Outcome("duplicate", "another worker took this Message-ID first")
    try:
        outcome = _handle(message, parsed, row, raw, release is not None)
    except services.IncidentError as exc:
        db.session.rollback()
        return _store_failure(parsed, raw, source, f"refused by the incident rules: {exc}")
    row.status, row.reason = outcome.status, outcome.reason[:2000]
    row.handled_at = utcnow()
    if row.status not in ("quarantined", "answered"):
        row.raw = None  # kept only while it may still become something
    outcome.inbound_id = row.id
    db.session.commit()
    return outcome


def parse(message: EmailMessage, raw: bytes) -> Parsed:
    """The parts of a message intake uses, each read defensively."""
    message_id = _first_id(_header(message, "Message-ID"))
    if not message_id:  # the same bytes twice are still the same mail
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id>"
    name, address = _sender(message)
    subject = " ".join(_header(message, "Subject").split())
    text, files = _body_and_files(message)
    refs = _IDS.findall(_header(message, "In-Reply-To")) + list(
        reversed(_IDS.findall(_header(message, "References")))
    )
    return Parsed(
        message_id=message_id[:250],
        from_address=address.lower(),
        from_name=name,
        subject=subject,
        text=text,
        files=files,
        references=list(dict.fromkeys(refs)),
    )


# -- deciding --------------------------------------------------------------------------


def _handle(
    message: EmailMessage, parsed: Parsed, row: InboundMail, raw: bytes, released: bool
) -> Outcome:
    noise = noise_reason(message, parsed)
    if noise:
        return Outcome("ignored", noise)
    if not released:
        cap = int(settings.get("mail_sender_hourly_cap"))
        recent = db.session.scalar(
            select(func.count(InboundMail.id)).where(
                func.lower(InboundMail.from_address) == parsed.from_address,
                InboundMail.received_at >= utcnow() - timedelta(hours=1),
                InboundMail.id != row.id,
                InboundMail.status != "ignored",
            )
        )
        if cap and recent >= cap:
            return Outcome("ignored", f"more than {cap} mails from this sender in an hour")
        failed = authentication_failure(message)
        if failed:
            row.raw = raw
            _tell_desk_quarantined(parsed, failed)
            return Outcome("quarantined", failed)
    user, refusal = _sender_account(parsed)
    if user is None:
        _refuse(parsed, refusal)
        return Outcome("refused", refusal)
    row.user_id = user.id
    target = find_thread(parsed)
    if isinstance(target, InboundMail):  # a reply to an answer-first mail: now it is help
        incident = escalate(target, reason="replied to the answer")
        if incident is not None:
            _comment(incident, user, parsed, row)
            reason = f"replied to the answer; raised {incident.ref}"
            return Outcome("comment", reason, incident_ref=incident.ref)
        target = None
    if isinstance(target, Incident):
        return _reply(target, user, parsed, row)
    return _new(user, parsed, row, raw)


def noise_reason(message: EmailMessage, parsed: Parsed) -> str:
    """Why this mail must get no answer (and make no incident), or "" when it is a person."""
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"automatic mail (Auto-Submitted: {auto})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if _header(message, name):
            return f"automatic reply ({name})"
    suppress = _header(message, "X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "oof", "autoreply")):
        return f"automatic mail (X-Auto-Response-Suppress: {suppress})"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in _BULK:
        return f"bulk mail (Precedence: {precedence})"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing-list mail"
    if message.get_content_type() == "multipart/report" or any(
        part.get_content_type() in ("message/delivery-status", "message/disposition-notification")
        for part in message.walk()
    ):
        return "delivery status notification (bounce)"
    local = parsed.from_address.partition("@")[0]
    if not parsed.from_address or local in _BOUNCE_SENDERS:
        return "bounce (no sender or a mailer daemon)"
    if parsed.from_address in own_addresses():
        return "our own address"
    if parsed.message_id.startswith("<firstfix.") and parsed.message_id.endswith(
        f"@{mail_domain()}>"
    ):
        return "one of our own mails came back"
    return ""


def own_addresses() -> set[str]:
    """The portal's own addresses: mail from them is a loop."""
    config = current_app.config
    found = {parseaddr(config["MAIL_FROM"])[1].lower()}
    for key in ("MAIL_DESK_ADDRESS", "MAIL_IMAP_USERNAME"):
        value = (config.get(key) or "").strip().lower()
        if "@" in value:
            found.add(value)
    return found - {""}


def authentication_failure(message: EmailMessage) -> str:
    """ "dmarc=fail" or "spf=fail" as the receiving server reported it, else "".

    Only the receiving server's own Authentication-Results count: with MAIL_AUTHSERV_ID set,
    headers naming another server are ignored (a sender can write any header); without it
    the topmost header, which the last server added, is read.
    """
    headers = message.get_all("Authentication-Results") or []
    if not headers:
        return ""
    wanted = (current_app.config.get("MAIL_AUTHSERV_ID") or "").strip().lower()
    if wanted:
        headers = [h for h in headers if str(h).split(";", 1)[0].strip().lower() == wanted]
    else:
        headers = headers[:1]
    for header in headers:
        for method in ("dmarc", "spf"):
            if re.search(rf"(?:^|[;\s]){method}\s*=\s*fail\b", str(header), re.IGNORECASE):
                return f"{method}=fail"
    return ""


def _sender_account(parsed: Parsed) -> tuple[User | None, str]:
    """The requester for this mail, or None with the reason for a polite refusal."""
    user = find_user(parsed.from_address)
    if user is not None:
        if not user.is_active:
            return None, "this account is not active"
        return user, ""
    domain = parsed.from_address.rpartition("@")[2]
    allowed = {d.strip().lower().lstrip("@") for d in settings.get("mail_allowed_domains")}
    guest = settings.get("mail_unknown_senders") == "guest"
    if domain not in allowed and not guest:
        return None, "the sender has no account and the domain is not on the allow list"
    name = parsed.from_name or parsed.from_address.partition("@")[0]
    try:
        return create_user(parsed.from_address, name[:120], ["employee"], None), ""
    except AccountError as exc:
        return None, str(exc)


def find_thread(parsed: Parsed) -> Incident | InboundMail | None:
    """The incident (or the answered mail) a reply belongs to: its In-Reply-To and
    References first, then an [INC-000123] in the subject."""
    for message_id in parsed.references:
        ref = incident_mail.ref_from_thread_id(message_id)
        if ref:
            incident = services.get_by_ref(ref)
            if incident is not None:
                return incident
        sent = db.session.scalar(
            select(MailMessage.incident_id).where(
                MailMessage.message_id == message_id, MailMessage.incident_id.is_not(None)
            )
        )
        if sent:
            return db.session.get(Incident, sent)
        earlier = db.session.scalars(
            select(InboundMail).where(InboundMail.message_id == message_id)
        ).first()
        if earlier is not None and earlier.incident_id:
            return db.session.get(Incident, earlier.incident_id)
        if earlier is not None and earlier.status == "answered":
            return earlier
    found = _REF_IN_SUBJECT.search(parsed.subject)
    if found:
        return services.get_by_ref(found.group(1))
    return None


# -- acting ----------------------------------------------------------------------------


def reply_text(text: str) -> str:
    """What a person wrote above the quoted history, without their signature."""
    from mailparser_reply import EmailReplyParser

    marker = REPLY_MARKER_RE.search(text)
    if marker:
        text = text[: marker.start()]
    text = text.strip()
    if not text:
        return ""
    parsed = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl"]).read(text)
    if not parsed.replies:
        return text
    return parsed.replies[0].body.strip() or text


def _reply(incident: Incident, user: User, parsed: Parsed, row: InboundMail) -> Outcome:
    """A reply on an incident: a comment, with the web's rules; it reopens a resolved or
    closed incident only when it says it is not fixed."""
    if services.actor_of(user, incident) is None:
        reason = "the sender may not add to the incident named in the mail"
        _refuse(parsed, "you cannot add to the incident this mail names")
        return Outcome("refused", reason)
    if services.actor_of(user, incident) == "follower":
        # Not into someone else's conversation: a follower's words start their own incident.
        reason = f"the sender follows {incident.ref} and may not write in it"
        _refuse(
            parsed,
            f"you follow {incident.ref}: only the person who raised it and the service desk "
            "write in it. If you have more to tell, raise your own incident",
        )
        return Outcome("refused", reason)
    text = reply_text(parsed.text) or _files_only(parsed)
    wants_reopen = bool(_REOPEN.search(text))
    row.incident_id = incident.id
    if incident.status in ("resolved", "closed") and wants_reopen:
        try:
            services.reopen(incident, user, reason=text)
        except services.IncidentError as exc:
            return _new(user, parsed, row, None, follows=incident, note=str(exc))
        _attach(incident, user, parsed, None)
        return Outcome("comment", f"reopened {incident.ref}", incident_ref=incident.ref)
    if incident.status == "closed" and services.actor_of(user, incident) == "requester":
        return _new(user, parsed, row, None, follows=incident)
    comment = services.add_comment(incident, user, text)
    _attach(incident, user, parsed, comment.id)
    return Outcome("comment", f"added to {incident.ref}", incident_ref=incident.ref)


def _comment(incident: Incident, user: User, parsed: Parsed, row: InboundMail) -> None:
    text = reply_text(parsed.text) or _files_only(parsed)
    row.incident_id = incident.id
    comment = services.add_comment(incident, user, text)
    _attach(incident, user, parsed, comment.id)


def _new(
    user: User,
    parsed: Parsed,
    row: InboundMail,
    raw: bytes | None,
    follows: Incident | None = None,
    note: str = "",
) -> Outcome:
    """A new mail: searched like a query; an incident with the matching articles offered,
    or in answer-first mode only the articles (the mail kept to raise it later)."""
    text = (reply_text(parsed.text) if follows else _cut_marker(parsed.text)) or _files_only(parsed)
    if follows is not None:
        text = f"Follows up {follows.ref}, which is closed.\n\n{text}"
    hits = [] if follows else search_mail(parsed.subject, text, user)
    event = _search_event(user, row, parsed.subject or text, len(hits))
    if hits and settings.get("mail_answer_first") and raw is not None:
        row.raw = raw
        answers.send_answer(row, user, hits)
        return Outcome("answered", f"answered with {len(hits)} articles, no incident yet")
    incident = raise_from_mail(user, parsed, row, text, hits)
    event.incident_id = incident.id
    reason = f"raised {incident.ref}" + (f" ({note})" if note else "")
    return Outcome("incident", reason, incident_ref=incident.ref)


def raise_from_mail(
    user: User, parsed: Parsed, row: InboundMail, text: str, hits: list | None = None
) -> Incident:
    """Raise the incident a mail asks for, with its files; the acknowledgement offers `hits`."""
    db.session.flush()
    title = parsed.subject[:TITLE_MAX] or f"Mail from {parsed.from_name or parsed.from_address}"
    context = {
        "queries": [{"q": parsed.subject[:200], "total": len(hits or [])}]
        if parsed.subject
        else [],
        "articles": [],
        "votes": [],
        "mail_message_id": parsed.message_id,
    }
    incident = services.raise_incident(
        user,
        title,
        text[:BODY_MAX],
        search_context=context,
        source="mail",
        answers=answers.offers(row, hits or [], with_links=True),
    )
    row.incident_id = incident.id
    _attach(incident, user, parsed, None)
    return incident


def escalate(row: InboundMail, reason: str) -> Incident | None:
    """An answered mail becomes an incident after all (the sender needs help, or replied)."""
    if row.incident_id:
        return db.session.get(Incident, row.incident_id)
    if row.status != "answered" or row.user is None:
        return None
    raw = row.raw or b""
    parsed = parse(BytesParser(policy=policy.default).parsebytes(raw), raw) if raw else None
    if parsed is None:
        parsed = Parsed(
            row.message_id or "", row.from_address, row.from_name, row.subject, row.body
        )
    text = _cut_marker(parsed.text) or _files_only(parsed)
    incident = raise_from_mail(row.user, parsed, row, text)
    row.status, row.reason, row.raw = "incident", f"raised {incident.ref}: {reason}", None
    db.session.execute(
        update(SearchEvent)
        .where(SearchEvent.session_key == f"m:{row.id}")
        .values(incident_id=incident.id)
        .execution_options(synchronize_session=False)
    )
    return incident


def search_mail(subject: str, text: str, user: User) -> list:
    """A mail searched like a query: its subject, then (when that finds nothing) its text.

    Whatever the search lists is offered: its relevance bar decides what matches."""
    audience = access.audience(user)
    for query in (subject, " ".join(text.split())[:300]):
        if query.strip():
            hits = search.search(query, audience, per_page=ANSWERS, suggest=False).hits
            hits = [h for h in hits if h.score > 0]  # a zero score is no evidence at all
            if hits:
                return hits
    return []


def _search_event(user: User, row: InboundMail, query: str, total: int) -> SearchEvent:
    """The mail counts in the reports like a search session of its own (source "mail")."""
    text = normalise(query)[:300] or "(mail without words)"
    event = SearchEvent(
        session_key=f"m:{row.id}",
        user_id=user.id,
        query=text,
        normalised=text.lower(),
        result_count=total,
        source="mail",
        created_at=utcnow(),
    )
    db.session.add(event)
    return event


def _attach(incident: Incident, user: User, parsed: Parsed, comment_id: int | None) -> None:
    """Files go through the web form's checks; refused ones are named in an internal note."""
    problems = []
    for name, data in parsed.files:
        try:
            attachments.save(incident, user, name, io.BytesIO(data), comment_id=comment_id)
        except attachments.AttachmentError as exc:
            problems.append(str(exc))
    if problems:
        services.record_event(
            incident, None, "files_refused", new="; ".join(problems), internal=True
        )


def _files_only(parsed: Parsed) -> str:
    if parsed.files:
        return "(no text; see the attached files)"
    return "(the mail had no text)"


def _cut_marker(text: str) -> str:
    """A new mail keeps all its text, unless it quotes one of ours: then only the reply."""
    return reply_text(text) if REPLY_MARKER_RE.search(text) else text.strip()


def _refuse(parsed: Parsed, reason: str) -> None:
    """A polite answer to someone the desk cannot take mail from (never to noise)."""
    name = branding.name()
    composed = compose(
        f"Re: {parsed.subject}" if parsed.subject else f"Your mail to {name}",
        Content(
            heading="We could not take your mail",
            paragraphs=[
                f"Thank you for writing to the {name} service desk. We could not take your "
                f"mail because {reason}.",
                "If you work here, sign in to the portal and raise an incident there, or ask "
                "your service desk to give you an account.",
            ],
            replyable=False,
        ),
    )
    queue_mail(
        parsed.from_address,
        composed.subject,
        composed.text,
        html=composed.html,
        kind="refusal",
        in_reply_to=parsed.message_id,
        references=[parsed.message_id],
    )


def _tell_desk_quarantined(parsed: Parsed, failed: str) -> None:
    text = f"Quarantined mail from {parsed.from_address} ({failed}): {parsed.subject}"[:300]
    for agent in incident_mail.desk():
        db.session.add(Notification(user_id=agent.id, kind="quarantined", text=text))


def _store_failure(parsed: Parsed, raw: bytes, source: str, reason: str) -> Outcome:
    """Keep a mail the rules refused, so nothing is lost and an admin can see why."""
    row = InboundMail(
        message_id=parsed.message_id,
        source=source,
        from_address=parsed.from_address[:254],
        from_name=parsed.from_name[:200],
        subject=parsed.subject[:SUBJECT_MAX],
        body=parsed.text[:BODY_MAX],
        raw=raw,
        status="failed",
        reason=reason[:2000],
        handled_at=utcnow(),
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return Outcome("duplicate", "another worker took this Message-ID first")
    return Outcome("failed", reason, inbound_id=row.id)


# -- reading a message -----------------------------------------------------------------


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (IndexError, ValueError, TypeError):  # a header the parser cannot make sense of
        value = message.get_all(name, [None])[0] if hasattr(message, "get_all") else None
    return str(value) if value is not None else ""


def _first_id(value: str) -> str:
    found = _IDS.search(value or "")
    return found.group(0) if found else ""


def _sender(message: EmailMessage) -> tuple[str, str]:
    """The From address (never Reply-To: that is where a sender wants answers, not who)."""
    for display, address in getaddresses([_header(message, "From")]):
        if "@" in address:
            return display.strip(), address.strip()
    return "", ""


def _body_and_files(message: EmailMessage) -> tuple[str, list[tuple[str, bytes]]]:
    """The text (plain preferred, else HTML turned to text) and every file, inline images
    included."""
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError):  # an unknown charset: keep what decodes
            content = (body.get_payload(decode=True) or b"").decode("utf-8", "replace")
        text = html_to_text(content) if body.get_content_type() == "text/html" else content
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    files: list[tuple[str, bytes]] = []
    alternatives = _alternatives_of(message, body)
    for n, part in enumerate(message.walk(), 1):
        if part.is_multipart() or part is body or id(part) in alternatives:
            continue
        disposition = part.get_content_disposition()
        maintype = part.get_content_maintype()
        if disposition is None and maintype == "text":
            continue  # another text part of the body
        if maintype == "message":
            continue  # a forwarded or reported message: its text is not ours to keep as a file
        data = part.get_payload(decode=True) or b""
        name = part.get_filename() or f"inline-{n}{_extension(part.get_content_type())}"
        files.append((name, data))
    return text, files


def _alternatives_of(message: EmailMessage, body) -> set[int]:
    """The other renderings of the chosen body (the HTML beside the plain text)."""
    found: set[int] = set()
    for part in message.walk():
        if part.get_content_type() == "multipart/alternative":
            for sub in part.iter_parts():
                if sub.get_content_maintype() == "text":
                    found.add(id(sub))
    return found


def _extension(content_type: str) -> str:
    return {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "image/webp": ".webp",
        "application/pdf": ".pdf",
        "text/plain": ".txt",
    }.get(content_type, ".bin")
