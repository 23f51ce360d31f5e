"""A small library for mail tests: what a mail to the desk is searched against."""

from __future__ import annotations

import pytest


@pytest.fixture
def library(make_article):
    make_article(
        title="Printer shows as offline",
        slug="printer-offline",
        symptoms="The printer is listed as offline and print jobs stay in the queue",
        step="Remove the printer and add it again from the print portal.",
        summary="Bring an offline printer back in two minutes.",
    )
    make_article(title="VPN will not connect", slug="vpn", symptoms="The VPN client times out")
    make_article(
        title="Printer staff procedure",
        slug="printer-staff",
        symptoms="The printer is listed as offline (zephyrcode)",
        visibility="staff",
    )
