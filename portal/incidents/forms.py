from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import choices
from portal.incidents.models import LEVELS, STATUS_LABELS

LEVEL_CHOICES = [(level, level.capitalize()) for level in LEVELS]


class CheckboxesField(SelectMultipleField):
    """Several choices, each its own checkbox (a list the user unticks to leave one out)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RaiseForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        "What happened? What did you try?", validators=[DataRequired(), Length(max=20_000)]
    )
    attachments = MultipleFileField("Attach screenshots or logs (optional, 10 MB each)")
    # Files already chosen on an earlier press (kept on the server): their tokens.
    held = CheckboxesField("Files already attached", validate_choice=False)
    # "1": the confirmation step was shown; "live": suggestions were shown while typing.
    checked = HiddenField(default="")
    submit = SubmitField("Raise the incident")


class CommentForm(FlaskForm):
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=20_000)])
    internal = BooleanField("Internal note (staff only)")
    for_followers = BooleanField("Update for followers too (everyone with this problem reads it)")
    attachments = MultipleFileField("Attach files (optional, 10 MB each)")
    submit = SubmitField("Send")


class TriageForm(FlaskForm):
    category = SelectField("Category", validators=[Optional()], validate_choice=False)
    subcategory = SelectField("Subcategory", validators=[Optional()], validate_choice=False)
    impact = SelectField("Impact", choices=choices(LEVEL_CHOICES))
    urgency = SelectField("Urgency", choices=choices(LEVEL_CHOICES))
    submit = SubmitField("Save triage")


class AssignForm(FlaskForm):
    assignee = SelectField("Assignee", validators=[Optional()])
    submit = SubmitField("Assign")


class StatusForm(FlaskForm):
    status = SelectField(
        "Status", choices=choices((k, v) for k, v in STATUS_LABELS.items() if k != "resolved")
    )
    reason = TextAreaField(
        "Why (optional; kept in the history, the requester sees it)",
        validators=[Optional(), Length(max=2000)],
    )
    submit = SubmitField("Change status")


class ResolveForm(FlaskForm):
    solution = TextAreaField(
        "Solution: what fixed it (the requester sees this)",
        validators=[DataRequired(message="Resolving needs a solution."), Length(max=20_000)],
    )
    create_article = BooleanField("Create an article from this incident")
    no_article_reason = StringField(
        "No article: why not (optional)", validators=[Optional(), Length(max=500)]
    )
    submit = SubmitField("Resolve")


class ShareForm(FlaskForm):
    email = StringField("Colleague's mail address", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Share")


class SimpleForm(FlaskForm):
    """A button that changes state: CSRF only."""

    submit = SubmitField("OK")
