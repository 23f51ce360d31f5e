"""Template filters: local times in the portal's zone, and stored HTML marked safe."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import Markup

from portal import markdown, navigation, settings
from portal.timeutil import as_utc


def localtime(value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """A UTC instant as the portal's local time (the zone admins set)."""
    if value is None:
        return ""
    return as_utc(value).astimezone(ZoneInfo(settings.get("timezone"))).strftime(fmt)


def sanitised(html: str | None) -> Markup:
    """HTML stored from portal.markdown.render(), sanitised again on the way out."""
    return markdown.safe(html or "")


def page_language() -> str:
    """The language the page is written in, for <html lang>: the signed-in person's choice
    where the portal speaks it, else the portal's language (LANGUAGE, English by default)."""
    from flask import current_app, has_request_context
    from flask_login import current_user

    from portal.accounts.models import LANGUAGES

    chosen = getattr(current_user, "language", "") if has_request_context() else ""
    if chosen and chosen in LANGUAGES:
        return chosen
    return current_app.config.get("LANGUAGE") or "en"


def register(app: Flask) -> None:
    from portal import branding

    app.add_template_global(page_language, "page_language")
    app.add_template_global(branding.current, "site_brand")
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(sanitised, "sanitised")
    navigation.register(app)
