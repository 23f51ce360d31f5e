from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.articles.models import STATUSES, VISIBILITIES
from portal.forms import choices

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class ArticleForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        "Slug (the address)",
        validators=[
            Optional(),  # proposed from the title when left empty
            Length(max=120),
            Regexp(SLUG_PATTERN, message="Use lowercase letters, digits and single hyphens."),
        ],
    )
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=500)])
    # Chosen from the existing tree (values are category slugs; choices set by the view).
    category = SelectField("Category", choices=[], default="")
    subcategory = SelectField("Subcategory", choices=[], default="")
    tags = StringField("Tags (comma-separated)", validators=[Optional(), Length(max=300)])
    visibility = SelectField(
        "Visibility",
        choices=choices((v, "Everyone" if v == "everyone" else "Staff only") for v in VISIBILITIES),
    )
    status = SelectField("Status", choices=choices((s, s.capitalize()) for s in STATUSES))
    owner = StringField(
        "Owner (email)",
        validators=[Optional(), Regexp(EMAIL_PATTERN, message="Not an email address.")],
    )
    reviewed = DateField("Last reviewed", validators=[Optional()])
    body = TextAreaField("Body (Markdown)", validators=[DataRequired(), Length(max=100_000)])
    note = StringField(
        "What changed (kept in the history)", validators=[Optional(), Length(max=500)]
    )
    preview = SubmitField("Preview")
    save = SubmitField("Save")


class VoteForm(FlaskForm):
    comment = TextAreaField(
        "Anything to tell us? What helped, or what was missing (optional)",
        validators=[Optional(), Length(max=1000)],
    )
    yes = SubmitField("Yes")
    no = SubmitField("No")


class ProposalForm(FlaskForm):
    comment = TextAreaField(
        "Comment (required when sending back)", validators=[Optional(), Length(max=2000)]
    )
    approve = SubmitField("Approve and publish")
    send_back = SubmitField("Send back")


class RestoreForm(FlaskForm):
    submit = SubmitField("Restore this revision")


class TransitionForm(FlaskForm):
    target = SelectField("Move to")
    comment = TextAreaField(
        "Comment (required when sending back)", validators=[Optional(), Length(max=2000)]
    )
    replaced_by = StringField(
        "Replaced by (slug, when archiving)", validators=[Optional(), Length(max=140)]
    )
    submit = SubmitField("Apply")


class FlagForm(FlaskForm):
    reason = TextAreaField("What is wrong?", validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField("Flag it")
