"""Forms of the admin's mail page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from portal.forms import choices


class MailSettingsForm(FlaskForm):
    answer_first = BooleanField(
        "Answer first: reply with matching articles, raise an incident only when asked"
    )
    allowed_domains = TextAreaField(
        "Domains whose people may write in without an account", validators=[Length(max=4000)]
    )
    unknown_senders = SelectField(
        "Mail from anyone else",
        choices=choices([("refuse", "Refuse politely"), ("guest", "Accept as a guest requester")]),
    )
    hourly_cap = IntegerField(
        "Mails taken from one sender per hour (0: no cap)",
        validators=[Optional(), NumberRange(min=0, max=10_000)],
    )
    submit = SubmitField("Save")


class TestMailForm(FlaskForm):
    to = EmailField(
        "Send a test mail to",
        validators=[
            DataRequired(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter a mail address."),
        ],
    )
    submit = SubmitField("Send a test mail")


class ButtonForm(FlaskForm):
    submit = SubmitField("OK")
