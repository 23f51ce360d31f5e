"""Forms for signing in, resetting and changing passwords, the profile and API tokens."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts.models import LANGUAGES
from portal.forms import choices


class LoginForm(FlaskForm):
    # Text, not an email field: with LDAP a user name (sAMAccountName) signs in too.
    email = StringField(
        "Email",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class ButtonForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ForgotForm(FlaskForm):
    email = StringField(
        "Email",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "email", "autocapitalize": "none"},
    )
    submit = SubmitField("Send me a reset link")


class _NewPasswordForm(FlaskForm):
    """A new password typed twice, and whether the API tokens go with the old one."""

    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )
    revoke_tokens = BooleanField("Also revoke my API tokens (scripts using them stop working)")


class ResetForm(_NewPasswordForm):
    submit = SubmitField("Set the new password")


class PasswordForm(_NewPasswordForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Change password")


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    language = SelectField("Language", choices=choices(LANGUAGES.items()), validate_choice=True)
    submit = SubmitField("Save")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MailForm(FlaskForm):
    mail = CheckboxesField("Send me mail about", choices=[], validate_choice=True)
    submit = SubmitField("Save mail settings")


class TokenForm(FlaskForm):
    name = StringField(
        "What the token is for",
        validators=[DataRequired(), Length(max=120)],
        render_kw={"placeholder": "e.g. monitoring script"},
    )
    expires = DateField("Expires on (optional)", validators=[Optional()])
    submit = SubmitField("Create token")
