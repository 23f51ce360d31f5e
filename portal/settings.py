"""Settings admins change in the portal (time zone, business hours, holidays, priority
matrix, SLA policies), with their defaults. Read through here, never from the table directly."""

from __future__ import annotations

import copy
from datetime import date, time
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.incidents import priority as prio
from portal.incidents import sla

DEFAULTS: dict[str, Any] = {
    "timezone": None,  # None: the TIMEZONE config key
    "business_days": [0, 1, 2, 3, 4],
    "business_start": "08:00",
    "business_end": "18:00",
    "holidays": [],  # ISO dates, local to the portal's time zone
    "holiday_names": {},  # ISO date -> its name ("Christmas Day"), for the holidays above
    "priority_matrix": prio.matrix_to_json(prio.DEFAULT_MATRIX),
    "sla_policies": {
        name: {
            "response_minutes": spec.response_minutes,
            "response_days": spec.response_days,
            "resolution_minutes": spec.resolution_minutes,
            "resolution_days": spec.resolution_days,
            "around_the_clock": spec.around_the_clock,
        }
        for name, spec in sla.DEFAULT_POLICIES.items()
    },
    "autoclose_business_days": 5,
    "reopen_days": 14,
    # Priority is triage: requesters see it on their incident only when admins say so.
    "requesters_see_priority": False,
    "not_helpful_threshold": 0.5,
    "review_months": 12,
    "analytics_retention_days": 180,
    # Mail to the desk (portal/notifications/intake.py)
    "mail_answer_first": False,  # answer with articles; raise an incident only when asked
    "mail_allowed_domains": [],  # unknown senders from these domains get an account
    "mail_unknown_senders": "refuse",  # refuse (politely) | guest (accept as a requester)
    "mail_sender_hourly_cap": 20,  # mails taken from one sender per hour (0: no cap)
    # Branding (portal/branding.py): "" means PORTAL_NAME / the default accent
    "brand_name": "",
    "brand_accent": "",
    "brand_logo": {},  # {"type", "width", "height", "version"} of the logo, {} for none
    "brand_logo_data": "",  # the logo's bytes, base64 (read only when the logo is served)
}


def get(key: str) -> Any:
    """A setting's value, or its default."""
    from portal.admin.models import Setting

    row = db.session.get(Setting, key)
    if row is not None:
        return row.value
    return get_default(key)


def many(*keys: str) -> dict[str, Any]:
    """Several settings in one query (every page's top bar reads three)."""
    from portal.admin.models import Setting

    rows = db.session.scalars(select(Setting).where(Setting.key.in_(keys)))
    found = {row.key: row.value for row in rows}
    return {key: found[key] if key in found else get_default(key) for key in keys}


def get_default(key: str) -> Any:
    value = copy.deepcopy(DEFAULTS[key])
    if key == "timezone" and value is None:
        value = current_app.config["TIMEZONE"]
    return value


def put(key: str, value: Any) -> None:
    """Store a setting (the caller commits and writes the audit entry)."""
    from portal.admin.models import Setting

    if key not in DEFAULTS:
        raise KeyError(key)
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def calendar() -> sla.BusinessCalendar:
    """The service desk's business calendar, from settings."""
    return sla.BusinessCalendar(
        tz=get("timezone"),
        days=frozenset(int(d) for d in get("business_days")),
        start=time.fromisoformat(get("business_start")),
        end=time.fromisoformat(get("business_end")),
        holidays=frozenset(date.fromisoformat(d) for d in get("holidays")),
    )


def matrix() -> dict[tuple[str, str], str]:
    return prio.matrix_from_json(get("priority_matrix"))


def policies() -> dict[str, sla.PolicySpec]:
    return {name: sla.PolicySpec(**spec) for name, spec in get("sla_policies").items()}


def policy(priority: str) -> sla.Policy:
    return sla.policy_for(priority, calendar(), policies())


def sla_terms(priority: str) -> sla.Terms:
    """The SLA targets in force now for a priority, to snapshot on an incident as it is
    raised or re-prioritised (sla.Terms says why)."""
    cal = calendar()
    return sla.Terms(
        calendar=cal, policy=sla.policy_for(priority, cal, policies()), priority=priority
    )
