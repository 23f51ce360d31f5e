"""Small helpers shared by every Flask-WTF form."""

from __future__ import annotations

from collections.abc import Iterable

try:  # WTForms 3.3 and later prefer SelectChoice objects to (value, label) tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choices(pairs: Iterable[tuple[str, str]]) -> list:
    """Select options from (value, label) pairs, in the form this WTForms expects."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]
