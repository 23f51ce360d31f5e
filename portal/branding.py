"""The portal's branding: its name, accent colour and logo, set by admins, shown in every
page's top bar, title and footer and in every mail. Stored as settings (portal/settings.py);
unset, the name is PORTAL_NAME and the accent the portal's blue.

The accent must keep white text readable on it (buttons are white on the accent), so a
colour under 4.5:1 against white is refused with the ratio it has."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from flask import current_app

from portal import images, settings

DEFAULT_ACCENT = "#1f5fbf"
NAME_MAX = 60
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 2000
LOGO_HEIGHT = 32  # px in the top bar; the width follows the logo's shape
MIN_CONTRAST = 4.5


class BrandingError(ValueError):
    """Why a branding change was refused, fit to show the admin."""


@dataclass(frozen=True)
class Branding:
    name: str
    accent: str
    accent_dark: str
    logo: dict  # {} or {"type", "width", "height", "version"}

    @property
    def logo_width(self) -> int:
        """The logo's width at LOGO_HEIGHT px high, so the page reserves its place."""
        if not self.logo:
            return 0
        return max(1, round(self.logo["width"] * LOGO_HEIGHT / self.logo["height"]))

    @property
    def version(self) -> str:
        """Changes whenever the accent or logo does (the address of the theme and logo)."""
        seed = f"{self.accent}|{self.logo.get('version', '')}"
        return hashlib.sha256(seed.encode()).hexdigest()[:12]


def current() -> Branding:
    """The branding in force now."""
    found = settings.many("brand_name", "brand_accent", "brand_logo")
    name = found["brand_name"] or current_app.config["PORTAL_NAME"]
    accent = found["brand_accent"] or DEFAULT_ACCENT
    return Branding(name=name, accent=accent, accent_dark=_darker(accent), logo=found["brand_logo"])


def name() -> str:
    """The portal's name as people see it (pages, mail subjects and bodies)."""
    return current().name


def logo_bytes() -> tuple[bytes, str] | None:
    """The stored logo and its content type, or None."""
    meta = settings.get("brand_logo")
    data = settings.get("brand_logo_data")
    if not meta or not data:
        return None
    return base64.b64decode(data), meta["type"]


def clean_name(value: str | None) -> str:
    text = " ".join((value or "").split())
    if len(text) > NAME_MAX:
        raise BrandingError(f"The portal's name has at most {NAME_MAX} characters.")
    return text


def clean_accent(value: str | None) -> str:
    """A #rrggbb colour white text can be read on, lower case; "" for the default."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    if re.fullmatch(r"#[0-9a-f]{3}", text):
        text = "#" + "".join(ch * 2 for ch in text[1:])
    if not re.fullmatch(r"#[0-9a-f]{6}", text):
        raise BrandingError(f"Give the accent colour as #rrggbb, like #1f5fbf, not “{value}”.")
    ratio = contrast(text, "#ffffff")
    if ratio < MIN_CONTRAST:
        raise BrandingError(
            f"White text on {text} has a contrast of {ratio:.1f}:1; buttons need at least "
            f"{MIN_CONTRAST}:1. Pick a darker colour."
        )
    return text


def check_logo(data: bytes) -> dict:
    """The logo's metadata; refuses what is not a PNG, JPEG, GIF or WebP image of sane size."""
    if not data:
        raise BrandingError("The logo file is empty.")
    if len(data) > LOGO_MAX_BYTES:
        raise BrandingError(f"The logo is larger than {LOGO_MAX_BYTES // 1024} KB.")
    kind = images.sniff(data)
    if kind is None:
        raise BrandingError("The logo must be a PNG, JPEG, GIF or WebP image.")
    size = images.dimensions(data)
    if not size or not all(0 < side <= LOGO_MAX_SIDE for side in size):
        raise BrandingError(
            f"The logo's size cannot be read or is over {LOGO_MAX_SIDE} px on a side."
        )
    return {
        "type": kind,
        "width": size[0],
        "height": size[1],
        "version": hashlib.sha256(data).hexdigest()[:16],
    }


def store(name_value: str, accent_value: str, logo: bytes | None, remove_logo: bool) -> dict:
    """Store the branding (the caller audits and commits); returns what changed, as
    {setting: (old, new)} in words."""
    new_name = clean_name(name_value)
    new_accent = clean_accent(accent_value)
    changes: dict[str, tuple[str, str]] = {}
    if new_name != settings.get("brand_name"):
        changes["name"] = (settings.get("brand_name") or "default", new_name or "default")
        settings.put("brand_name", new_name)
    if new_accent != settings.get("brand_accent"):
        changes["accent"] = (settings.get("brand_accent") or "default", new_accent or "default")
        settings.put("brand_accent", new_accent)
    old_logo = settings.get("brand_logo")
    if logo:
        meta = check_logo(logo)
        if meta["version"] != old_logo.get("version"):
            settings.put("brand_logo", meta)
            settings.put("brand_logo_data", base64.b64encode(logo).decode("ascii"))
            was = f"{old_logo['width']}x{old_logo['height']}" if old_logo else "none"
            changes["logo"] = (was, f"{meta['width']}x{meta['height']} {meta['type']}")
    elif remove_logo and old_logo:
        settings.put("brand_logo", {})
        settings.put("brand_logo_data", "")
        changes["logo"] = (f"{old_logo['width']}x{old_logo['height']}", "none")
    return changes


def theme_css(brand: Branding) -> str:
    """The stylesheet that puts the accent in place (CSP allows no inline style)."""
    return f":root {{ --brand: {brand.accent}; --brand-dark: {brand.accent_dark}; }}\n"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours."""
    a, b = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _darker(colour: str) -> str:
    """The hover shade: the accent at 78% brightness."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c * 0.78):02x}" for c in (r, g, b))
