"""Pages of mail both ways: the answer links in a mail ("This solved it", "I still need help")
and the staff inbox behind the unread count in the top bar."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from wtforms import SubmitField

from portal import access
from portal.extensions import db
from portal.notifications import answers, intake
from portal.notifications.models import InboundMail, Notification
from portal.timeutil import utcnow

bp = Blueprint("notifications", __name__, template_folder="templates")

INBOX_SIZE = 100


class ButtonForm(FlaskForm):
    """A button that changes state: CSRF only."""

    submit = SubmitField("OK")


@bp.get("/mail/answers/<token>")
def answer(token: str):
    """Ask before acting: a link in a mail only shows this page, the button does the work."""
    try:
        found = answers.read(token)
    except answers.AnswerError as exc:
        return render_template("notifications/answer.html", error=str(exc)), 404
    return render_template(
        "notifications/answer.html",
        answer=found,
        incident=found.incident,
        form=ButtonForm(),
        other=answers.link(
            found.mail.id,
            found.article.id if found.article else 0,
            "help" if found.action == "solved" else "solved",
        ),
    )


@bp.post("/mail/answers/<token>")
def act(token: str):
    """ "This solved it" or "I still need help", for the person the mail was sent to."""
    try:
        found = answers.read(token)
    except answers.AnswerError as exc:
        return render_template("notifications/answer.html", error=str(exc)), 404
    if not ButtonForm().validate_on_submit():
        flash("The form expired. Please click the button again.", "error")
        return redirect(url_for(".answer", token=token))
    try:
        message = answers.solved(found) if found.action == "solved" else answers.need_help(found)
    except answers.AnswerError as exc:
        db.session.rollback()
        return render_template("notifications/answer.html", error=str(exc)), 409
    db.session.commit()
    return render_template("notifications/answer.html", done=message, answer=found)


@bp.get("/notifications")
@login_required
def inbox():
    """A staff member's notifications, newest first, and mail waiting in quarantine."""
    access.require_staff()
    items = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc())
        .limit(INBOX_SIZE)
    ).all()
    return render_template(
        "notifications/inbox.html",
        items=items,
        quarantined=quarantined(),
        form=ButtonForm(),
    )


def quarantined() -> list[InboundMail]:
    return list(
        db.session.scalars(
            select(InboundMail)
            .where(InboundMail.status == "quarantined")
            .order_by(InboundMail.id.desc())
        )
    )


@bp.post("/mail/quarantine/<int:mail_id>/<any(release, discard):verb>")
@login_required
def quarantine(mail_id: int, verb: str):
    """An agent's decision on a mail that failed DMARC or SPF: let it through, or discard."""
    access.require_staff()
    row = db.get_or_404(InboundMail, mail_id)
    if not ButtonForm().validate_on_submit() or row.status != "quarantined":
        flash("That mail is not in quarantine any more.", "info")
        return redirect(url_for(".inbox"))
    if verb == "discard":
        row.status, row.reason, row.raw = "ignored", f"discarded by {current_user.name}", None
        row.handled_at = utcnow()
        db.session.commit()
        flash(f"Discarded the mail from {row.from_address}.", "success")
    else:
        outcome = intake.receive(row.raw or b"", source=row.source, release=row)
        what = f" as {outcome.incident_ref}" if outcome.incident_ref else ""
        flash(f"Let through{what}: {outcome.reason}.", "success")
    return redirect(url_for(".inbox"))


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark every notification read."""
    access.require_staff()
    if ButtonForm().validate_on_submit():
        db.session.execute(
            update(Notification)
            .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
        db.session.commit()
        flash("All notifications marked read.", "success")
    return redirect(url_for(".inbox"))
