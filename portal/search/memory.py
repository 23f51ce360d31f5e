"""Giving freed heap back to the system after a large load."""

from __future__ import annotations

import ctypes


def give_back_freed_memory() -> None:
    """Return to the system the heap a whole load used and freed (rows read, a word list
    parsed from JSON: tens of MB that glibc would otherwise keep in a long-lived worker).
    Only glibc has malloc_trim; elsewhere nothing happens."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
