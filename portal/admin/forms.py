"""Forms of the admin area. Choices the services check (zones, matrix cells, roles) are not
checked again here, so the admin sees the service's one message for a bad value."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FileField,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts.models import ROLES
from portal.admin.services import WEEKDAYS
from portal.forms import choices
from portal.incidents.priority import LEVELS, PRIORITIES

UNIT_CHOICES = [("minutes", "minutes"), ("days", "business days")]


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes instead of a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ButtonForm(FlaskForm):
    """A button that changes state: CSRF only."""

    submit = SubmitField("OK")


# -- categories ---------------------------------------------------------------------------


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    parent = SelectField("Inside", validators=[Optional()], validate_choice=False)
    submit = SubmitField("Add")


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=120)])
    submit = SubmitField("Rename")


# -- SLA policies and the priority matrix -------------------------------------------------


class _PolicyForm(Form):
    """One priority's row: response and resolution, each an amount and a unit."""

    response = FloatField("Response", validators=[InputRequired()])
    response_unit = SelectField("Response unit", choices=choices(UNIT_CHOICES))
    resolution = FloatField("Resolution", validators=[InputRequired()])
    resolution_unit = SelectField("Resolution unit", choices=choices(UNIT_CHOICES))
    around_the_clock = BooleanField("Around the clock")


class SlaForm(FlaskForm):
    """Response and resolution times for P1 to P5."""

    submit = SubmitField("Save SLA policies")

    def fill(self, policies: dict[str, dict[str, Any]]) -> None:
        """Show the stored policies; a duration in business days shows in days."""
        for name in PRIORITIES:
            row, spec = self[name], policies.get(name, {})
            for kind in ("response", "resolution"):
                days = spec.get(f"{kind}_days", 0)
                unit = "days" if days else "minutes"
                amount = days if days else spec.get(f"{kind}_minutes", 0)
                row[kind].data = amount
                row[f"{kind}_unit"].data = unit
            row["around_the_clock"].data = bool(spec.get("around_the_clock"))

    def policies(self) -> dict[str, dict[str, Any]]:
        """The policies as the settings store them."""
        result = {}
        for name in PRIORITIES:
            row = self[name]
            spec: dict[str, Any] = {"around_the_clock": bool(row["around_the_clock"].data)}
            for kind in ("response", "resolution"):
                unit = row[f"{kind}_unit"].data
                amount = row[kind].data
                spec[f"{kind}_minutes"] = amount if unit == "minutes" else 0
                spec[f"{kind}_days"] = amount if unit == "days" else 0
            result[name] = spec
        return result


for _name in PRIORITIES:
    setattr(SlaForm, _name, FormField(_PolicyForm, label=_name))


class MatrixForm(FlaskForm):
    """A 3x3 grid of selects: impact rows, urgency columns, a priority in each cell."""

    submit = SubmitField("Save priority matrix")

    @staticmethod
    def cell_name(impact: str, urgency: str) -> str:
        return f"{impact}_{urgency}"

    def fill(self, matrix: dict[str, dict[str, str]]) -> None:
        for impact in LEVELS:
            for urgency in LEVELS:
                self[self.cell_name(impact, urgency)].data = matrix[impact][urgency]

    def matrix(self) -> dict[str, dict[str, str | None]]:
        """The grid as the priority module reads it (checked there)."""
        return {
            impact: {urgency: self[self.cell_name(impact, urgency)].data for urgency in LEVELS}
            for impact in LEVELS
        }


for _impact in LEVELS:
    for _urgency in LEVELS:
        setattr(
            MatrixForm,
            MatrixForm.cell_name(_impact, _urgency),
            SelectField(
                f"Impact {_impact}, urgency {_urgency}",
                choices=choices((p, p) for p in PRIORITIES),
                validate_choice=False,
            ),
        )


# -- the business calendar ----------------------------------------------------------------


class HoursForm(FlaskForm):
    days = CheckboxesField(
        "Business days", coerce=int, choices=choices((str(i), d) for i, d in enumerate(WEEKDAYS))
    )
    start = TimeField("Opens at", validators=[InputRequired()])
    end = TimeField("Closes at", validators=[InputRequired()])
    submit = SubmitField("Save business hours")


class PriorityVisibilityForm(FlaskForm):
    """Whether requesters see the priority triage gave their incident."""

    requesters_see_priority = BooleanField("Requesters see the priority of their incidents")
    submit = SubmitField("Save")


class TimezoneForm(FlaskForm):
    timezone = SelectField("Time zone", validate_choice=False)
    submit = SubmitField("Save time zone")


class HolidayForm(FlaskForm):
    day = DateField("Date", validators=[InputRequired()])
    name = StringField("Name (optional)", validators=[Optional(), Length(max=100)])
    submit = SubmitField("Add holiday")


class HolidayRemoveForm(FlaskForm):
    day = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Remove")


class HolidayImportForm(FlaskForm):
    country = StringField("Country code", validators=[DataRequired(), Length(max=3)])
    subdivision = StringField("Region code (optional)", validators=[Optional(), Length(max=10)])
    year = IntegerField("Year", validators=[InputRequired()])
    submit = SubmitField("Import public holidays")


# -- branding -----------------------------------------------------------------------------


class BrandingForm(FlaskForm):
    name = StringField("Portal name", validators=[Optional(), Length(max=60)])
    accent = StringField("Accent colour", validators=[Optional(), Length(max=20)])
    logo = FileField("Logo (PNG, JPEG, GIF or WebP, at most 512 KB)")
    remove_logo = BooleanField("Remove the logo")
    submit = SubmitField("Save branding")


# -- search synonyms ----------------------------------------------------------------------


class SynonymForm(FlaskForm):
    terms = StringField(
        "Words or phrases that mean the same", validators=[Optional(), Length(max=2000)]
    )
    submit = SubmitField("Save")


# -- users and roles ----------------------------------------------------------------------

ROLE_CHOICES = [(role, role.capitalize()) for role in ROLES]


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    roles = CheckboxesField("Roles", choices=choices(ROLE_CHOICES), validate_choice=False)
    submit = SubmitField("Create user")


class RolesForm(FlaskForm):
    roles = CheckboxesField("Roles", choices=choices(ROLE_CHOICES), validate_choice=False)
    submit = SubmitField("Save roles")
