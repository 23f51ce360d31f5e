"""The admin's mail page (/admin/mail): how mail to the desk is taken, mail that could not be
delivered (retry), mail held in quarantine (agents decide on it, see views.py), the intake
log, and a test mail that checks the SMTP settings while the admin watches."""

from __future__ import annotations

from email.utils import parseaddr

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import access, branding, settings
from portal.admin.services import record
from portal.extensions import db
from portal.notifications import imap, services
from portal.notifications.forms import ButtonForm, MailSettingsForm, TestMailForm
from portal.notifications.models import InboundMail, MailMessage, WorkerJob
from portal.notifications.sender import SmtpSender, build_message, describe

bp = Blueprint("mail_admin", __name__, url_prefix="/admin/mail", template_folder="templates")

LOG_SIZE = 30


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated or not current_user.is_active:
        return current_app.login_manager.unauthorized()
    access.require_role("admin")
    return None


def _page(form: MailSettingsForm | None = None, test: TestMailForm | None = None):
    if form is None:
        form = MailSettingsForm()
        form.answer_first.data = bool(settings.get("mail_answer_first"))
        form.allowed_domains.data = "\n".join(settings.get("mail_allowed_domains"))
        form.unknown_senders.data = settings.get("mail_unknown_senders")
        form.hourly_cap.data = int(settings.get("mail_sender_hourly_cap"))
    if test is None:
        test = TestMailForm(to=current_user.email)
    quarantined = db.session.scalars(
        select(InboundMail)
        .where(InboundMail.status == "quarantined")
        .order_by(InboundMail.id.desc())
    ).all()
    log = db.session.scalars(
        select(InboundMail).order_by(InboundMail.id.desc()).limit(LOG_SIZE)
    ).all()
    return render_template(
        "notifications/admin_mail.html",
        form=form,
        test=test,
        button=ButtonForm(),
        summary=services.delivery_summary(),
        undelivered=services.undelivered(),
        quarantined=quarantined,
        log=log,
        jobs=db.session.scalars(select(WorkerJob).order_by(WorkerJob.name)).all(),
        mailbox=current_app.config.get("MAIL_IMAP_SERVER"),
        desk_address=current_app.config.get("MAIL_DESK_ADDRESS")
        or parseaddr(current_app.config["MAIL_FROM"])[1],
    )


@bp.get("/")
def index():
    """Mail both ways at a glance."""
    return _page()


@bp.post("/settings")
def save_settings():
    """How mail to the desk is taken."""
    form = MailSettingsForm()
    if not form.validate_on_submit():
        flash("Not saved: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()), "error")
        return _page(form=form), 400
    domains = sorted(
        {
            d.strip().lower().lstrip("@")
            for d in form.allowed_domains.data.replace(",", "\n").split()
        }
        - {""}
    )
    bad = [d for d in domains if "." not in d or "/" in d]
    if bad:
        flash(f"Not saved: not a domain: {', '.join(bad)}", "error")
        return _page(form=form), 400
    values = {
        "mail_answer_first": bool(form.answer_first.data),
        "mail_allowed_domains": domains,
        "mail_unknown_senders": form.unknown_senders.data,
        "mail_sender_hourly_cap": int(form.hourly_cap.data or 0),
    }
    for key, value in values.items():
        settings.put(key, value)
    record(current_user, "mail.settings", "mail", repr(values))
    db.session.commit()
    flash("Mail settings saved.", "success")
    return redirect(url_for(".index"))


@bp.post("/outbox/<int:message_id>/retry")
def retry(message_id: int):
    """Try an undelivered mail again now."""
    message = db.get_or_404(MailMessage, message_id)
    if ButtonForm().validate_on_submit():
        services.retry(message)
        db.session.commit()
        flash(f"Mail to {message.to_address} will be sent again now.", "success")
    return redirect(url_for(".index"))


@bp.post("/outbox/retry")
def retry_all():
    """Try every undelivered mail again now."""
    if ButtonForm().validate_on_submit():
        messages = services.undelivered(limit=10_000)
        for message in messages:
            services.retry(message)
        db.session.commit()
        flash(f"{len(messages)} mails will be sent again now.", "success")
    return redirect(url_for(".index"))


@bp.post("/test")
def test_mail():
    """Send one mail now through the SMTP settings and say what the server answered."""
    form = TestMailForm()
    if not form.validate_on_submit():
        return _page(test=form), 400
    message = MailMessage(
        id=0,
        to_address=form.to.data.strip(),
        subject=f"{branding.name()}: test mail",
        body="This is a test mail from the portal's admin page. The SMTP settings work.\n",
        html="",
        message_id=services.new_message_id(),
    )
    db.session.commit()  # no transaction stays open while the mail server is talked to
    config = current_app.config
    try:
        with SmtpSender(config) as smtp:
            smtp.send(build_message(message, config["MAIL_FROM"]))
    except Exception as exc:  # every failure is shown to the admin, none is a 500
        flash(f"The test mail was not sent: {describe(exc)}", "error")
    else:
        flash(
            f"Test mail sent to {message.to_address} through "
            f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}.",
            "success",
        )
    return redirect(url_for(".index"))


@bp.post("/check-mailbox")
def check_mailbox():
    """Log in to the desk's mailbox once and say what happened."""
    if not ButtonForm().validate_on_submit():
        return redirect(url_for(".index"))
    if not current_app.config.get("MAIL_IMAP_SERVER"):
        flash("No mailbox is configured (MAIL_IMAP_SERVER).", "error")
        return redirect(url_for(".index"))
    db.session.commit()
    try:
        found = imap.check(current_app.config)
    except imap.MailboxError as exc:
        flash(f"The mailbox could not be read: {exc}", "error")
    else:
        flash(f"The mailbox answers: {found}.", "success")
    return redirect(url_for(".index"))
