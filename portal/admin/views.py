"""Admin pages under /admin/: categories, SLA policies and the priority matrix, the business
calendar, search synonyms, users and roles, and the audit log. Admins only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal import access, settings
from portal.accounts.models import ROLES, User
from portal.admin import services
from portal.admin.actions import action_label
from portal.admin.forms import (
    BrandingForm,
    ButtonForm,
    CategoryForm,
    HolidayForm,
    HolidayImportForm,
    HolidayRemoveForm,
    HoursForm,
    MatrixForm,
    PriorityVisibilityForm,
    RenameForm,
    RolesForm,
    SlaForm,
    SynonymForm,
    TimezoneForm,
    UserForm,
)
from portal.admin.models import AuditEntry
from portal.admin.services import AdminError
from portal.articles.models import Category
from portal.extensions import db
from portal.forms import choices
from portal.incidents.priority import LEVELS, PRIORITIES
from portal.search.models import SynonymGroup
from portal.timeutil import utcnow


def localnow():
    """Now in the portal's time zone (the year an admin means by "this year")."""
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo(settings.get("timezone")))


bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
# The branding's stylesheet and logo, for everyone (pages and mail show them signed out too).
public_bp = Blueprint("branding", __name__, url_prefix="/branding")

AUDIT_PER_PAGE = 50
USERS_PER_PAGE = 50

bp.add_app_template_filter(action_label, "action_label")


@bp.before_request
def _admins_only():
    """Sign-in first, then admins only: everyone else gets 403 on every admin URL."""
    if not current_user.is_authenticated or not current_user.is_active:
        return current_app.login_manager.unauthorized()
    access.require_role("admin")
    return None


def _flash_errors(form) -> None:
    """The form's own errors as flashed messages, so the page says why it was refused."""

    def walk(field_errors: Any, label: str) -> None:
        if isinstance(field_errors, dict):
            for name, errors in field_errors.items():
                walk(errors, f"{label} {name}".strip())
        else:
            for error in field_errors:
                flash(f"{label}: {error}" if label else str(error), "error")

    for name, errors in form.errors.items():
        if name == "csrf_token":
            flash("The form expired. Reload the page and try again.", "error")
            continue
        walk(errors, str(form[name].label.text) if name in form else name)


def _submit(
    form,
    change: Callable[[], Any],
    page: Callable[[], str],
    done: Callable[[Any], str],
    to: str,
):
    """Validate, call the service, commit once and go back; on bad input say why, change
    nothing and show the page again with 400."""
    if not form.validate_on_submit():
        _flash_errors(form)
        return page(), 400
    try:
        result = change()
    except AdminError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return page(), 400
    db.session.commit()
    flash(done(result), "success" if result is not False else "info")
    return redirect(to)


def _saved(what: str) -> Callable[[Any], str]:
    return lambda changed: f"{what} saved." if changed else "Nothing changed."


# -- index --------------------------------------------------------------------------------


@bp.get("/")
def index():
    """The admin area: the settings at a glance and the latest changes."""
    recent = db.session.scalars(
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(5)
    ).all()
    from portal.notifications.services import delivery_summary

    return render_template(
        "admin/index.html", summary=services.summary(), recent=recent, mail=delivery_summary()
    )


# -- categories ---------------------------------------------------------------------------


def _categories_page(form: CategoryForm | None = None) -> str:
    top = db.session.scalars(
        select(Category)
        .where(Category.parent_id.is_(None))
        .options(selectinload(Category.children))
        .order_by(Category.name)
    ).all()
    form = form or CategoryForm()
    form.parent.choices = choices([("", "(top level)"), *((str(c.id), c.name) for c in top)])
    return render_template(
        "admin/categories.html",
        categories=top,
        usage=services.usage_by_category(),
        form=form,
        rename=RenameForm(formdata=None),
        button=ButtonForm(formdata=None),
    )


@bp.get("/categories")
def categories():
    """Categories and their subcategories, with how many articles and incidents use each."""
    return _categories_page()


def _parent(value: str | None) -> Category | None:
    if not value:
        return None
    category = db.session.get(Category, int(value)) if value.isdigit() else None
    if category is None:
        raise AdminError("The parent category no longer exists.")
    return category


@bp.post("/categories")
def create_category():
    """Add a category or a subcategory."""
    form = CategoryForm()
    return _submit(
        form,
        lambda: services.create_category(current_user, form.name.data, _parent(form.parent.data)),
        lambda: _categories_page(form),
        lambda category: f"Category “{category.name}” added.",
        url_for(".categories"),
    )


@bp.post("/categories/<int:category_id>/rename")
def rename_category(category_id: int):
    """Rename a category; its address stays the same."""
    category = db.get_or_404(Category, category_id)
    form = RenameForm()
    return _submit(
        form,
        lambda: services.rename_category(current_user, category, form.name.data),
        _categories_page,
        lambda changed: "Category renamed." if changed else "Nothing changed.",
        url_for(".categories"),
    )


@bp.post("/categories/<int:category_id>/delete")
def delete_category(category_id: int):
    """Delete an unused category (and its unused subcategories)."""
    category = db.get_or_404(Category, category_id)
    name = category.name
    return _submit(
        ButtonForm(),
        lambda: services.delete_category(current_user, category),
        _categories_page,
        lambda _: f"Category “{name}” deleted.",
        url_for(".categories"),
    )


# -- SLA policies and the priority matrix -------------------------------------------------


def _sla_page(
    sla_form: SlaForm | None = None,
    matrix_form: MatrixForm | None = None,
    visibility_form: PriorityVisibilityForm | None = None,
) -> str:
    if visibility_form is None:
        visibility_form = PriorityVisibilityForm(formdata=None)
        visibility_form.requesters_see_priority.data = bool(settings.get("requesters_see_priority"))
    if sla_form is None:
        sla_form = SlaForm(formdata=None)
        sla_form.fill(settings.get("sla_policies"))
    if matrix_form is None:
        matrix_form = MatrixForm(formdata=None)
        matrix_form.fill(settings.get("priority_matrix"))
    return render_template(
        "admin/sla.html",
        sla_form=sla_form,
        matrix_form=matrix_form,
        visibility_form=visibility_form,
        priorities=PRIORITIES,
        levels=LEVELS,
        policies=settings.get("sla_policies"),
        describe=services.describe_policy,
    )


@bp.get("/sla")
def sla():
    """SLA policies per priority and the impact x urgency priority matrix."""
    return _sla_page()


@bp.post("/sla/policies")
def save_sla_policies():
    """Save the response and resolution times of every priority."""
    form = SlaForm()
    return _submit(
        form,
        lambda: services.set_sla_policies(current_user, form.policies()),
        lambda: _sla_page(sla_form=form),
        _saved("SLA policies"),
        url_for(".sla"),
    )


@bp.post("/sla/matrix")
def save_matrix():
    """Save the priority matrix."""
    form = MatrixForm()
    return _submit(
        form,
        lambda: services.set_priority_matrix(current_user, form.matrix()),
        lambda: _sla_page(matrix_form=form),
        _saved("Priority matrix"),
        url_for(".sla"),
    )


@bp.post("/sla/visibility")
def save_priority_visibility():
    """Save whether requesters see the priority of their incidents."""
    form = PriorityVisibilityForm()
    return _submit(
        form,
        lambda: services.set_requesters_see_priority(
            current_user, form.requesters_see_priority.data
        ),
        lambda: _sla_page(visibility_form=form),
        _saved("Priority visibility"),
        url_for(".sla"),
    )


# -- the business calendar ----------------------------------------------------------------


def _calendar_page(**forms: Any) -> str:
    if "hours_form" not in forms:
        hours = HoursForm(formdata=None)
        hours.days.data = [int(d) for d in settings.get("business_days")]
        hours.start.data = settings.calendar().start
        hours.end.data = settings.calendar().end
        forms["hours_form"] = hours
    zone_form = forms.setdefault("zone_form", TimezoneForm(formdata=None))
    if zone_form.timezone.data is None:
        zone_form.timezone.data = settings.get("timezone")
    zones = services.current_time_zones()
    chosen = zone_form.timezone.data
    if chosen and chosen not in zones and chosen in services.time_zones():
        zones = tuple(sorted((*zones, chosen)))  # an alias chosen before stays selectable
    zone_form.timezone.choices = choices((z, z.replace("_", " ")) for z in zones)
    forms.setdefault("holiday_form", HolidayForm(formdata=None))
    if "import_form" not in forms:
        this_year = localnow().year
        forms["import_form"] = HolidayImportForm(formdata=None, year=this_year)
    return render_template(
        "admin/calendar.html",
        holidays=services.holiday_rows(),
        button=ButtonForm(formdata=None),
        **forms,
    )


@bp.get("/calendar")
def calendar():
    """Business hours, the time zone and holidays: when SLA clocks run."""
    return _calendar_page()


@bp.post("/calendar/hours")
def save_hours():
    """Save the business days and opening hours."""
    form = HoursForm()
    return _submit(
        form,
        lambda: services.set_business_hours(
            current_user, form.days.data or [], form.start.data, form.end.data
        ),
        lambda: _calendar_page(hours_form=form),
        _saved("Business hours"),
        url_for(".calendar"),
    )


@bp.post("/calendar/timezone")
def save_timezone():
    """Save the portal's time zone."""
    form = TimezoneForm()
    return _submit(
        form,
        lambda: services.set_timezone(current_user, form.timezone.data),
        lambda: _calendar_page(zone_form=form),
        _saved("Time zone"),
        url_for(".calendar"),
    )


@bp.post("/calendar/holidays")
def add_holiday():
    """Add one holiday."""
    form = HolidayForm()
    return _submit(
        form,
        lambda: services.add_holiday(current_user, form.day.data, form.name.data or ""),
        lambda: _calendar_page(holiday_form=form),
        lambda added: "Holiday added." if added else "That day is already a holiday.",
        url_for(".calendar"),
    )


@bp.post("/calendar/holidays/remove")
def remove_holiday():
    """Remove one holiday."""
    form = HolidayRemoveForm()
    return _submit(
        form,
        lambda: services.remove_holiday(current_user, form.day.data),
        _calendar_page,
        lambda removed: "Holiday removed." if removed else "That day was not a holiday.",
        url_for(".calendar"),
    )


@bp.post("/calendar/holidays/import")
def import_holidays():
    """Merge a country's public holidays for a year into the list."""
    form = HolidayImportForm()

    def done(added) -> str:
        if not added:
            return "No new holidays: every public holiday of that year is already in the list."
        return f"{len(added)} public holiday{'' if len(added) == 1 else 's'} added."

    return _submit(
        form,
        lambda: services.import_public_holidays(
            current_user, form.country.data, form.year.data, form.subdivision.data or ""
        ),
        lambda: _calendar_page(import_form=form),
        done,
        url_for(".calendar"),
    )


# -- search synonyms ----------------------------------------------------------------------


def _synonyms_page(form: SynonymForm | None = None) -> str:
    groups = db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.terms)).all()
    return render_template(
        "admin/synonyms.html",
        groups=groups,
        form=form or SynonymForm(formdata=None),
        edit=SynonymForm(formdata=None),
        button=ButtonForm(formdata=None),
    )


@bp.get("/synonyms")
def synonyms():
    """Synonym groups: a search for one member also finds the others."""
    return _synonyms_page()


@bp.post("/synonyms")
def add_synonyms():
    """Add a synonym group; searches use it at once."""
    form = SynonymForm()
    return _submit(
        form,
        lambda: services.add_synonym_group(current_user, form.terms.data or ""),
        lambda: _synonyms_page(form),
        lambda group: f"Synonym group “{group.terms}” added.",
        url_for(".synonyms"),
    )


@bp.post("/synonyms/<int:group_id>")
def edit_synonyms(group_id: int):
    """Change a synonym group's words."""
    group = db.get_or_404(SynonymGroup, group_id)
    form = SynonymForm()
    return _submit(
        form,
        lambda: services.update_synonym_group(current_user, group, form.terms.data or ""),
        _synonyms_page,
        _saved("Synonym group"),
        url_for(".synonyms"),
    )


@bp.post("/synonyms/<int:group_id>/delete")
def delete_synonyms(group_id: int):
    """Delete a synonym group."""
    group = db.get_or_404(SynonymGroup, group_id)
    return _submit(
        ButtonForm(),
        lambda: services.delete_synonym_group(current_user, group),
        _synonyms_page,
        lambda _: "Synonym group deleted.",
        url_for(".synonyms"),
    )


# -- users and roles ----------------------------------------------------------------------


def _users_page(form: UserForm | None = None) -> str:
    text = request.args.get("q", "").strip()
    stmt = select(User).order_by(func.lower(User.email))
    if text:
        needle = text.lower()
        stmt = stmt.where(
            or_(
                func.lower(User.email).contains(needle, autoescape=True),
                func.lower(User.name).contains(needle, autoescape=True),
            )
        )
    page = db.paginate(stmt, per_page=USERS_PER_PAGE, error_out=False)
    if form is None:
        form = UserForm(formdata=None)
        form.roles.data = ["employee"]
    return render_template(
        "admin/users.html",
        page=page,
        q=text,
        form=form,
        roles=ROLES,
        button=ButtonForm(formdata=None),
    )


@bp.get("/users")
def users():
    """Users with their roles; create, change roles, deactivate."""
    return _users_page()


@bp.post("/users")
def create_user():
    """Create a user and show the generated password once."""
    form = UserForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _users_page(form), 400
    try:
        user, password = services.create_account(
            current_user, form.email.data, form.name.data, form.roles.data or []
        )
    except AdminError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _users_page(form), 400
    db.session.commit()
    response = current_app.make_response(
        render_template("admin/user_created.html", user=user, password=password)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/users/<int:user_id>/roles")
def set_roles(user_id: int):
    """Give a user exactly the checked roles."""
    user = db.get_or_404(User, user_id)
    form = RolesForm()
    return _submit(
        form,
        lambda: services.set_user_roles(current_user, user, form.roles.data or []),
        _users_page,
        lambda changed: f"Roles of {user.email} saved." if changed else "Nothing changed.",
        url_for(".users", q=request.args.get("q") or None),
    )


@bp.post("/users/<int:user_id>/<any(activate, deactivate):verb>")
def set_active(user_id: int, verb: str):
    """Let a user sign in again, or stop them."""
    user = db.get_or_404(User, user_id)
    active = verb == "activate"
    return _submit(
        ButtonForm(),
        lambda: services.set_user_active(current_user, user, active),
        _users_page,
        lambda changed: (
            f"{user.email} is now {'active' if active else 'deactivated'}."
            if changed
            else "Nothing changed."
        ),
        url_for(".users", q=request.args.get("q") or None),
    )


@bp.post("/users/<int:user_id>/reset-link")
def send_reset_link(user_id: int):
    """Mail a user a link to choose a new password (the admin never sees it)."""
    from portal.accounts.services import AccountError
    from portal.accounts.services import send_reset_link as send
    from portal.accounts.views import reset_link

    user = db.get_or_404(User, user_id)

    def change():
        try:
            send(current_user, user, reset_link, request.remote_addr or "")
        except AccountError as exc:
            raise AdminError(str(exc) + ".") from None

    return _submit(
        ButtonForm(),
        change,
        _users_page,
        lambda _: f"A reset link is on its way to {user.email}.",
        url_for(".users", q=request.args.get("q") or None),
    )


@bp.post("/users/<int:user_id>/sign-out")
def sign_out_user(user_id: int):
    """End every session of a user."""
    user = db.get_or_404(User, user_id)
    return _submit(
        ButtonForm(),
        lambda: services.sign_out_everywhere(current_user, user),
        _users_page,
        lambda ended: f"{user.email} is signed out everywhere ({ended} session(s) ended).",
        url_for(".users", q=request.args.get("q") or None),
    )


# -- API tokens ---------------------------------------------------------------------------


@bp.get("/tokens")
def tokens():
    """Everyone's API tokens: whose, what for, last used; revoke any."""
    from portal.accounts.services import all_tokens

    return render_template(
        "admin/tokens.html", tokens=all_tokens(), button=ButtonForm(formdata=None), now=utcnow()
    )


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke anyone's token."""
    from portal.accounts.models import ApiToken
    from portal.accounts.services import revoke_token as revoke

    token = db.get_or_404(ApiToken, token_id)
    owner = token.user.email
    return _submit(
        ButtonForm(),
        lambda: revoke(current_user, token, request.remote_addr or ""),
        lambda: tokens(),
        lambda _: f"Token of {owner} revoked.",
        url_for(".tokens"),
    )


# -- branding -----------------------------------------------------------------------------


def _branding_page(form: BrandingForm | None = None) -> str:
    from portal import branding

    brand = branding.current()
    if form is None:
        form = BrandingForm(formdata=None)
        form.name.data = settings.get("brand_name")
        form.accent.data = settings.get("brand_accent")
    return render_template(
        "admin/branding.html",
        form=form,
        brand=brand,
        default_name=current_app.config["PORTAL_NAME"],
        default_accent=branding.DEFAULT_ACCENT,
    )


@bp.get("/branding")
def branding():
    """The portal's name, accent colour and logo."""
    return _branding_page()


@bp.post("/branding")
def save_branding():
    """Save the branding; every page and mail shows it from the next one on."""
    from portal import branding as brand

    form = BrandingForm()
    upload = request.files.get("logo")
    logo = None
    if upload and upload.filename:
        try:
            logo = upload.stream.read(brand.LOGO_MAX_BYTES + 1)  # one byte more: "too large"
        finally:
            upload.close()
    return _submit(
        form,
        lambda: services.set_branding(
            current_user,
            form.name.data or "",
            form.accent.data or "",
            logo=logo,
            remove_logo=bool(form.remove_logo.data),
        ),
        lambda: _branding_page(form),
        _saved("Branding"),
        url_for(".branding"),
    )


def _cached(response, version: str):
    """A versioned address never changes content: cache it a year; unversioned, revalidate."""
    if request.args.get("v") == version:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


@public_bp.get("/theme.css")
def theme():
    """The accent colour as CSS custom properties (linked after portal.css)."""
    from portal import branding as brand

    current = brand.current()
    response = current_app.response_class(brand.theme_css(current), mimetype="text/css")
    return _cached(response, current.version)


@public_bp.get("/logo")
def logo():
    """The logo admins uploaded (checked on upload to be a raster image); 404 without one."""
    from flask import abort

    from portal import branding as brand

    found = brand.logo_bytes()
    if found is None:
        abort(404)
    data, content_type = found
    response = current_app.response_class(data, mimetype=content_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _cached(response, brand.current().version)


# -- the audit log ------------------------------------------------------------------------


@bp.get("/audit")
def audit():
    """Every change made here, newest first."""
    stmt = (
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    page = db.paginate(stmt, per_page=AUDIT_PER_PAGE, error_out=False)
    return render_template("admin/audit.html", page=page)
