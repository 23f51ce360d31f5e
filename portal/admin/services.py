"""The verbs of the admin area: categories, SLA policies and the priority matrix, the business
calendar, search synonyms, users and roles.

Each verb validates, changes models and flushes; the request commits once. Every change writes
its audit entry through `record`, in the same transaction, so a change is never saved unlogged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, time
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from flask import current_app
from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session

from portal import settings
from portal.accounts.audit import account_event
from portal.accounts.models import ROLES, User
from portal.accounts.services import AccountError, create_user, generate_password
from portal.accounts.sessions import end_sessions
from portal.admin.models import AuditEntry
from portal.articles.models import Article, Category
from portal.articles.services import get_or_create_category
from portal.extensions import db
from portal.incidents import priority as prio
from portal.incidents import sla
from portal.incidents.models import Incident
from portal.search import record_change
from portal.search.models import SynonymGroup

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NAME_MAX = 120
TERM_MAX = 100
TERMS_MAX = 20
YEARS = range(2000, 2101)
MAX_SLA_MINUTES = 366 * 24 * 60
MAX_SLA_DAYS = 366


class AdminError(ValueError):
    """A reason a change cannot be made, fit to show to the admin who tried it."""


# -- the audit log ------------------------------------------------------------------------


def record(
    actor: User | None, action: str, target: str, detail: str = "", address: str = ""
) -> AuditEntry:
    """Write one audit entry in the caller's transaction: who changed what, from what to what."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action[:60],
        target=target[:200],
        detail=detail,
        address=(address or "")[:45],
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@account_event.connect
def _record_account_event(action: str, *, actor, target, detail, address) -> None:
    """Sign-ins, failures, resets, directory role changes and tokens (from portal.accounts)."""
    record(actor, action, target, detail, address)


def _change_setting(actor: User, key: str, new: Any, describe) -> bool:
    """Store a setting and audit it as "old -> new"; False (and no entry) when nothing changed."""
    old = settings.get(key)
    if old == new:
        return False
    settings.put(key, new)
    record(actor, f"setting.{key}", key, f"{describe(old)} -> {describe(new)}")
    return True


# -- categories ---------------------------------------------------------------------------


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise AdminError("Give the category a name.")
    if len(name) > NAME_MAX:
        raise AdminError(f"A category name has at most {NAME_MAX} characters.")
    return name


def _label(category: Category) -> str:
    return f"{category.parent.name} › {category.name}" if category.parent else category.name


def _sibling_named(name: str, parent: Category | None, other_than: int | None = None):
    stmt = select(Category).where(func.lower(Category.name) == name.lower())
    stmt = stmt.where(
        Category.parent_id == parent.id if parent is not None else Category.parent_id.is_(None)
    )
    if other_than is not None:
        stmt = stmt.where(Category.id != other_than)
    return db.session.scalars(stmt).first()


def create_category(actor: User, name: str, parent: Category | None = None) -> Category:
    """Add a category, or a subcategory when `parent` is given (one level deep)."""
    name = _clean_name(name)
    if parent is not None and parent.parent_id is not None:
        raise AdminError("A subcategory cannot hold subcategories; pick a top-level category.")
    if _sibling_named(name, parent):
        where = f" in {parent.name}" if parent else ""
        raise AdminError(f"There is already a category named “{name}”{where}.")
    category = get_or_create_category(name, parent)
    record(actor, "category.create", _label(category), f"none -> {_label(category)}")
    return category


def rename_category(actor: User, category: Category, name: str) -> bool:
    """Rename a (sub)category; its address (slug) stays, its articles are reindexed."""
    name = _clean_name(name)
    if name == category.name:
        return False
    if _sibling_named(name, category.parent, other_than=category.id):
        raise AdminError(f"There is already a category named “{name}” next to this one.")
    old = _label(category)
    category.name = name
    column = Article.category_id if category.parent_id is None else Article.subcategory_id
    for article_id in db.session.scalars(select(Article.id).where(column == category.id)):
        record_change(db.session, article_id)  # the index stores category names
    record(actor, "category.rename", _label(category), f"{old} -> {_label(category)}")
    return True


def category_usage(category: Category) -> tuple[int, int]:
    """How many articles and incidents use the category or one of its subcategories."""
    ids = [category.id, *(child.id for child in category.children)]
    articles = db.session.scalar(
        select(func.count(Article.id)).where(
            or_(Article.category_id.in_(ids), Article.subcategory_id.in_(ids))
        )
    )
    incidents = db.session.scalar(
        select(func.count(Incident.id)).where(
            or_(Incident.category_id.in_(ids), Incident.subcategory_id.in_(ids))
        )
    )
    return articles or 0, incidents or 0


def usage_by_category() -> dict[int, tuple[int, int]]:
    """Articles and incidents filed directly under each category, by category id."""
    counts: dict[int, list[int]] = {}
    for slot, model in ((0, Article), (1, Incident)):
        for column in (model.category_id, model.subcategory_id):
            rows = db.session.execute(
                select(column, func.count()).where(column.is_not(None)).group_by(column)
            )
            for category_id, n in rows:
                counts.setdefault(category_id, [0, 0])[slot] += n
    return {key: (articles, incidents) for key, (articles, incidents) in counts.items()}


def delete_category(actor: User, category: Category) -> None:
    """Delete a category and its subcategories, only when no article or incident uses them."""
    articles, incidents = category_usage(category)
    if articles or incidents:
        uses = " and ".join(
            f"{n} {word}{'' if n == 1 else 's'}"
            for n, word in ((articles, "article"), (incidents, "incident"))
            if n
        )
        scope = " (with its subcategories)" if category.children else ""
        raise AdminError(
            f"“{_label(category)}”{scope} is used by {uses}; move them to another "
            "category first, then delete it."
        )
    label = _label(category)
    children = [child.name for child in category.children]
    for child in list(category.children):
        db.session.delete(child)
    db.session.delete(category)
    db.session.flush()
    subcategories = f" (with subcategories {', '.join(children)})" if children else ""
    record(actor, "category.delete", label, f"{label}{subcategories} -> none")


# -- SLA policies and the priority matrix -------------------------------------------------


def set_priority_matrix(actor: User, data: Mapping[str, Mapping[str, str]]) -> bool:
    """Store the impact x urgency matrix, checked by the priority module's own reader."""
    try:
        value = prio.matrix_to_json(prio.matrix_from_json(data))
    except ValueError as exc:
        raise AdminError(_sentence(str(exc))) from None
    old = settings.get("priority_matrix")
    if old == value:
        return False
    settings.put("priority_matrix", value)
    changed = [
        f"{impact}/{urgency}: {old.get(impact, {}).get(urgency)} -> {value[impact][urgency]}"
        for impact in prio.LEVELS
        for urgency in prio.LEVELS
        if old.get(impact, {}).get(urgency) != value[impact][urgency]
    ]
    record(actor, "setting.priority_matrix", "priority_matrix", "; ".join(changed))
    return True


def set_requesters_see_priority(actor: User, visible: bool) -> bool:
    """Show requesters (and their mail) the priority of their incidents, or keep it to staff."""
    return _change_setting(
        actor, "requesters_see_priority", bool(visible), lambda on: "shown" if on else "hidden"
    )


def _amount(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AdminError(f"{what}: give a number.") from None
    if not math.isfinite(number) or number < 0:
        raise AdminError(f"{what}: give a number of zero or more.")
    return int(number) if number.is_integer() else number


def _policy(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """One priority's policy as stored, refused when the SLA clock could not count it."""
    fields = {
        "response_minutes": "response time (minutes)",
        "response_days": "response time (business days)",
        "resolution_minutes": "resolution time (minutes)",
        "resolution_days": "resolution time (business days)",
    }
    unknown = set(spec) - {*fields, "around_the_clock"}
    if unknown:
        raise AdminError(f"{name}: unknown fields {', '.join(sorted(unknown))}.")
    value: dict[str, Any] = {
        key: _amount(spec.get(key, 0), f"{name} {label}") for key, label in fields.items()
    }
    value["around_the_clock"] = bool(spec.get("around_the_clock", False))
    for kind in ("response", "resolution"):
        minutes, days = value[f"{kind}_minutes"], value[f"{kind}_days"]
        if not minutes and not days:
            raise AdminError(f"{name}: the {kind} time must be more than zero.")
        if minutes > MAX_SLA_MINUTES or days > MAX_SLA_DAYS:
            raise AdminError(f"{name}: the {kind} time is longer than a year.")
    try:
        sla.PolicySpec(**value)
    except ValueError as exc:
        raise AdminError(f"{name}: {_sentence(str(exc))}") from None
    return value


def set_sla_policies(actor: User, policies: Mapping[str, Mapping[str, Any]]) -> bool:
    """Store the response and resolution times of every priority."""
    missing = [p for p in prio.PRIORITIES if p not in policies]
    unknown = [p for p in policies if p not in prio.PRIORITIES]
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise AdminError(f"SLA policies: {'; '.join(problems)}.")
    value = {name: _policy(name, policies[name]) for name in prio.PRIORITIES}
    calendar = settings.calendar()
    for name in prio.PRIORITIES:
        policy = sla.policy_for(name, calendar, {name: sla.PolicySpec(**value[name])})
        if policy.response > policy.resolution:
            raise AdminError(
                f"{name}: the response time cannot be longer than the resolution time."
            )
    old = settings.get("sla_policies")
    if old == value:
        return False
    settings.put("sla_policies", value)
    changed = [
        f"{name}: {describe_policy(old.get(name))} -> {describe_policy(value[name])}"
        for name in prio.PRIORITIES
        if old.get(name) != value[name]
    ]
    record(actor, "setting.sla_policies", "sla_policies", "; ".join(changed))
    return True


def _duration(minutes: float, days: float) -> str:
    parts = []
    if days:
        parts.append(f"{days:g} business day{'' if days == 1 else 's'}")
    if minutes:
        parts.append(f"{minutes:g} min")
    return " + ".join(parts) or "0"


def describe_policy(spec: Mapping[str, Any] | None) -> str:
    """A policy in a few words, for the audit log and the page."""
    if not spec:
        return "none"
    text = (
        f"respond {_duration(spec['response_minutes'], spec['response_days'])}, "
        f"resolve {_duration(spec['resolution_minutes'], spec['resolution_days'])}"
    )
    return text + (", around the clock" if spec.get("around_the_clock") else "")


# -- the business calendar ----------------------------------------------------------------


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """Every zone name the time-zone database knows (read once: it scans the files)."""
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def current_time_zones() -> tuple[str, ...]:
    """The zones to offer, sorted: the time-zone database's own list of zones in use per
    country (zone.tab, shipped with tzdata), plus UTC; the deprecated aliases it still
    carries for old data ("US/Eastern", "Asia/Calcutta", "GB") are left out."""
    from importlib.resources import files

    text = (files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    zones = {
        line.split("\t")[2]
        for line in text.splitlines()
        if line and not line.startswith("#") and line.count("\t") >= 2
    }
    return tuple(sorted((zones | {"UTC"}) & time_zones()))


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _check_calendar(**changes: Any) -> None:
    """Build the calendar the change would give, so its own checks refuse a bad one."""
    current = settings.calendar()
    fields = {
        "tz": current.tz,
        "days": current.days,
        "start": current.start,
        "end": current.end,
        "holidays": current.holidays,
    }
    try:
        sla.BusinessCalendar(**{**fields, **changes})
    except ValueError as exc:
        raise AdminError(_sentence(str(exc))) from None


def _time(value: time | str | None, what: str) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    try:
        return time.fromisoformat((value or "").strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise AdminError(f"The {what} time must look like 08:00, got “{value}”.") from None


def describe_days(days: Iterable[int]) -> str:
    return ", ".join(WEEKDAYS[d] for d in sorted(days))


def set_business_hours(
    actor: User, days: Iterable[int | str], start: time | str, end: time | str
) -> bool:
    """Set the days and hours the service desk is staffed (SLA clocks run only then)."""
    try:
        wanted = sorted({int(d) for d in days})
    except (TypeError, ValueError):
        raise AdminError("Business days must be weekdays.") from None
    if not wanted:
        raise AdminError("Pick at least one business day.")
    opening, closing = _time(start, "opening"), _time(end, "closing")
    if opening >= closing:
        raise AdminError(
            f"The opening time ({opening:%H:%M}) must come before the closing time "
            f"({closing:%H:%M})."
        )
    _check_calendar(days=frozenset(wanted), start=opening, end=closing)
    old = {
        "days": [int(d) for d in settings.get("business_days")],
        "start": settings.get("business_start"),
        "end": settings.get("business_end"),
    }
    new = {"days": wanted, "start": opening.strftime("%H:%M"), "end": closing.strftime("%H:%M")}
    if old == new:
        return False
    settings.put("business_days", new["days"])
    settings.put("business_start", new["start"])
    settings.put("business_end", new["end"])

    def text(hours: dict) -> str:
        return f"{describe_days(hours['days'])} {hours['start']}-{hours['end']}"

    record(actor, "setting.business_hours", "business_hours", f"{text(old)} -> {text(new)}")
    return True


def set_timezone(actor: User, tz: str) -> bool:
    """Set the zone business hours, holidays and local times are read in."""
    tz = (tz or "").strip()
    if tz not in time_zones():
        raise AdminError(f"Unknown time zone “{tz}”; pick one from the list, like Europe/Berlin.")
    _check_calendar(tz=tz)
    return _change_setting(actor, "timezone", tz, str)


def _date(value: date | str | None) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise AdminError(f"A holiday must be a date like 2026-12-24, got “{value}”.") from None


HOLIDAY_NAME_MAX = 100


def holiday_list() -> list[date]:
    return sorted(date.fromisoformat(d) for d in settings.get("holidays"))


def holiday_rows() -> list[tuple[date, str]]:
    """Each holiday with its name ("" when it was added without one), earliest first."""
    names = settings.get("holiday_names")
    return [(day, names.get(day.isoformat(), "")) for day in holiday_list()]


def _store_holidays(
    actor: User, days: Iterable[date], action: str, detail: str, names: Mapping[date, str]
) -> None:
    """Store the days and their names (a name is kept only while its day is a holiday)."""
    kept = sorted({d.isoformat() for d in days})
    known = {**settings.get("holiday_names"), **{d.isoformat(): n for d, n in names.items()}}
    settings.put("holidays", kept)
    settings.put("holiday_names", {d: known[d] for d in kept if known.get(d)})
    record(actor, action, "holidays", detail)


def add_holiday(actor: User, day: date | str, name: str = "") -> bool:
    """Add a day the desk is closed, with an optional name; False when it is already one."""
    day = _date(day)
    name = " ".join((name or "").split())
    if len(name) > HOLIDAY_NAME_MAX:
        raise AdminError(f"A holiday's name has at most {HOLIDAY_NAME_MAX} characters.")
    current = holiday_list()
    if day in current:
        return False
    label = f"{day.isoformat()} {name}".strip()
    _store_holidays(actor, [*current, day], "holiday.add", f"none -> {label}", {day: name})
    return True


def remove_holiday(actor: User, day: date | str) -> bool:
    """Remove a holiday; False when it was not one."""
    day = _date(day)
    current = holiday_list()
    if day not in current:
        return False
    rest = [d for d in current if d != day]
    _store_holidays(actor, rest, "holiday.remove", f"{day.isoformat()} -> none", {})
    return True


def import_public_holidays(
    actor: User, country: str, year: int | str, subdivision: str = ""
) -> list[date]:
    """Merge a country's (or region's) public holidays for a year into the list, each with
    its name (in English); returns the dates that were new."""
    country = (country or "").strip().upper()
    subdivision = (subdivision or "").strip().upper()
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise AdminError("Give the year as a number, like 2026.") from None
    if year not in YEARS:
        raise AdminError(f"Pick a year from {YEARS.start} to {YEARS.stop - 1}.")
    if not re.fullmatch(r"[A-Z]{2,3}", country):
        raise AdminError("Give the country as its ISO code, like DE, FR or US.")
    import holidays as public_holidays  # 9 MB of calendars: loaded when an admin imports

    try:
        found = public_holidays.country_holidays(
            country, subdiv=subdivision or None, years=year, language="en_US"
        )
    except NotImplementedError:
        where = f"{country}-{subdivision}" if subdivision else country
        raise AdminError(f"No public holidays are known for “{where}”.") from None
    current = holiday_list()
    added = sorted(set(found) - set(current))
    if added:
        where = f"{country}-{subdivision}" if subdivision else country
        _store_holidays(
            actor,
            [*current, *added],
            "holiday.import",
            f"{where} {year}: none -> {', '.join(d.isoformat() for d in added)}",
            {day: str(found.get(day) or "")[:HOLIDAY_NAME_MAX] for day in added},
        )
    return added


# -- search synonyms ----------------------------------------------------------------------


def parse_terms(terms: str | Iterable[str]) -> list[str]:
    """Comma-separated words or phrases, lowercased and de-duplicated, in the given order."""
    items = terms.split(",") if isinstance(terms, str) else list(terms)
    cleaned = []
    for item in items:
        term = " ".join(str(item).lower().split())
        if term and term not in cleaned:
            cleaned.append(term)
    if len(cleaned) < 2:
        raise AdminError(
            "A synonym group needs at least two words or phrases, separated by commas, "
            "like “vpn, remote access”."
        )
    if len(cleaned) > TERMS_MAX:
        raise AdminError(f"A synonym group has at most {TERMS_MAX} words or phrases.")
    for term in cleaned:
        if len(term) > TERM_MAX:
            raise AdminError(f"“{term[:30]}…” is longer than {TERM_MAX} characters.")
        if not re.search(r"\w", term):
            raise AdminError(f"“{term}” has no letters or digits to search for.")
    return cleaned


def _same_group(terms: list[str], other_than: int | None = None) -> SynonymGroup | None:
    wanted = set(terms)
    for group in db.session.scalars(select(SynonymGroup)):
        if group.id != other_than and set(group.term_list) == wanted:
            return group
    return None


def _synonyms_changed() -> None:
    """Let this process's searches see the change at once; other processes reread the groups
    within SEARCH_SYNC_INTERVAL. Cleared now and again after the commit (see below)."""
    current_app.extensions["search_synonyms"].invalidate()
    db.session.info["synonyms_changed"] = True


@event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    # A search between the flush and the commit may have cached the old groups again.
    if session.info.pop("synonyms_changed", False):
        try:
            current_app.extensions["search_synonyms"].invalidate()
        except (RuntimeError, KeyError):  # no app here (scripts): nothing is cached
            pass


@event.listens_for(Session, "after_rollback")
def _forget_synonym_change(session: Session) -> None:
    session.info.pop("synonyms_changed", None)


def add_synonym_group(actor: User, terms: str | Iterable[str]) -> SynonymGroup:
    """Add words or phrases that mean the same to searchers; applies to search at once."""
    cleaned = parse_terms(terms)
    if _same_group(cleaned):
        raise AdminError("That synonym group already exists.")
    group = SynonymGroup(terms=", ".join(cleaned))
    db.session.add(group)
    db.session.flush()
    record(actor, "synonyms.add", f"synonym group {group.id}", f"none -> {group.terms}")
    _synonyms_changed()
    return group


def update_synonym_group(actor: User, group: SynonymGroup, terms: str | Iterable[str]) -> bool:
    """Change a group's words or phrases; False when nothing changed."""
    cleaned = parse_terms(terms)
    new = ", ".join(cleaned)
    if new == group.terms:
        return False
    if _same_group(cleaned, other_than=group.id):
        raise AdminError("Another synonym group already has exactly these words.")
    old, group.terms = group.terms, new
    db.session.flush()
    record(actor, "synonyms.edit", f"synonym group {group.id}", f"{old} -> {new}")
    _synonyms_changed()
    return True


def delete_synonym_group(actor: User, group: SynonymGroup) -> None:
    """Remove a synonym group; searches stop expanding it at once."""
    record(actor, "synonyms.delete", f"synonym group {group.id}", f"{group.terms} -> none")
    db.session.delete(group)
    db.session.flush()
    _synonyms_changed()


# -- users and roles ----------------------------------------------------------------------


def _roles(roles: Iterable[str]) -> set[str]:
    wanted = {str(r).strip() for r in roles if str(r).strip()}
    unknown = wanted - set(ROLES)
    if unknown:
        raise AdminError(f"Unknown role {', '.join(sorted(unknown))}; use {', '.join(ROLES)}.")
    return wanted or {"employee"}


def _role_text(roles: Iterable[str]) -> str:
    return ", ".join(r for r in ROLES if r in set(roles)) or "none"


def create_account(actor: User, email: str, name: str, roles: Iterable[str]) -> tuple[User, str]:
    """Add a user with a generated password, returned once for the admin to hand over."""
    password = generate_password()
    try:
        user = create_user(email, name, _roles(roles), password)
    except AccountError as exc:
        field, _, message = str(exc).partition(": ")
        raise AdminError(
            _sentence(f"{field.capitalize()}: {message}" if message else field)
        ) from None
    record(actor, "user.create", user.email, f"none -> {_role_text(user.roles)}")
    return user, password


def set_user_roles(actor: User, user: User, roles: Iterable[str]) -> bool:
    """Give a user exactly these roles; an admin keeps their own admin role."""
    wanted = _roles(roles)
    if user.id == actor.id and "admin" not in wanted:
        raise AdminError("You cannot remove your own admin role; ask another admin to do it.")
    old = set(user.roles)
    if old == wanted:
        return False
    user.set_roles(wanted)
    db.session.flush()
    record(actor, "user.roles", user.email, f"{_role_text(old)} -> {_role_text(wanted)}")
    return True


def set_user_active(actor: User, user: User, active: bool) -> bool:
    """Let a user sign in again, or stop them; an admin cannot deactivate themselves."""
    if user.id == actor.id and not active:
        raise AdminError("You cannot deactivate your own account.")
    if user.is_active_account == active:
        return False
    user.is_active_account = active
    ended = 0 if active else end_sessions(user)
    db.session.flush()
    state = {True: "active", False: "inactive"}
    detail = f"{state[not active]} -> {state[active]}"
    record(
        actor, "user.active", user.email, detail + (f"; {ended} session(s) ended" if ended else "")
    )
    return True


def sign_out_everywhere(actor: User, user: User) -> int:
    """End every session of a user (a lost laptop, a leaver); they sign in again."""
    ended = end_sessions(user)
    record(actor, "signout.everywhere", user.email, f"{ended} session(s), by an admin")
    return ended


def summary() -> dict[str, str]:
    """The settings at a glance, for the admin index."""
    return {
        "Time zone": settings.get("timezone"),
        "Business hours": (
            f"{describe_days(settings.get('business_days'))}, "
            f"{settings.get('business_start')}-{settings.get('business_end')}"
        ),
        "Holidays": str(len(settings.get("holidays"))),
        "Synonym groups": str(db.session.scalar(select(func.count(SynonymGroup.id))) or 0),
    }


# -- branding -----------------------------------------------------------------------------


def set_branding(
    actor: User, name: str, accent: str, logo: bytes | None = None, remove_logo: bool = False
) -> bool:
    """Set the portal's name, accent colour and logo; False (no entry) when nothing changed."""
    from portal import branding

    try:
        changes = branding.store(name, accent, logo, remove_logo)
    except branding.BrandingError as exc:
        raise AdminError(str(exc)) from None
    if not changes:
        return False
    detail = "; ".join(f"{what}: {old} -> {new}" for what, (old, new) in changes.items())
    record(actor, "setting.branding", "branding", detail)
    return True
