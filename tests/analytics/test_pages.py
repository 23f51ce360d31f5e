"""Every report URL: staff only, a validated date range, its chart as SVG, its tables as CSV."""

from __future__ import annotations

import base64
import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from portal import writebehind
from portal.analytics.charts import CHARTS
from portal.analytics.events import record_search

CSV_DISPOSITION = r'attachment; filename="firstfix-[a-z-]+-[0-9-]+-to-[0-9-]+\.csv"'


def report_urls(app: Flask) -> list[str]:
    """Every URL of the reports blueprint, charts once per chart name."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("reports."):
            continue
        if rule.arguments == {"name"}:
            urls += [rule.build({"name": name})[1] for name in CHARTS]
        else:
            assert not rule.arguments, f"add sample values for {rule}"
            urls.append(rule.rule)
    assert len(urls) > len(CHARTS) + 5
    return urls


def page_urls(app: Flask) -> list[str]:
    return [url for url in report_urls(app) if "/chart/" not in url]


@pytest.fixture
def some_data(app, place_incident, agent):
    """A little of everything, so no chart or table is drawn empty."""
    now = datetime.now(UTC)
    with app.test_request_context("/search"):
        for text, total in (("vpn not connecting", 0), ("printer offline", 3), ("=cmd()", 0)):
            record_search(text, total)
    writebehind.flush()
    place_incident(now - timedelta(days=3), priority="P2", status="in_progress")
    place_incident(
        now - timedelta(days=2),
        priority="P1",
        status="resolved",
        first_response_at=now - timedelta(days=2) + timedelta(minutes=5),
        resolved_at=now - timedelta(days=1),
    )


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    for url in report_urls(app):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/login"), url


def test_employees_get_403_on_every_report_url(app, browser, employee):
    employee_client = browser(employee)
    for url in report_urls(app):
        assert employee_client.get(url).status_code == 403, url
        assert employee_client.get(url, query_string={"format": "csv"}).status_code == 403, url


@pytest.mark.parametrize("with_data", [False, True], ids=["empty", "data"])
def test_every_report_renders_its_charts_and_its_csv(app, request, staff_client, with_data):
    if with_data:
        request.getfixturevalue("some_data")
    charts_seen = set()
    for url in page_urls(app):
        page = staff_client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert 'class="definition"' in text, f"{url} defines none of its figures"
        images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', text)
        assert images, f"{url} has no chart"
        for image in images:
            svg = base64.b64decode(image)
            assert svg.startswith(b"<?xml") and b"<svg" in svg and b"</svg>" in svg, url
        links = [html.unescape(h) for h in re.findall(r'href="(/reports/chart/[^"]+)"', text)]
        assert len(links) == len(images), f"{url}: a chart without its SVG link"
        for href in links:
            svg = staff_client.get(href)
            assert svg.status_code == 200, href
            assert svg.mimetype == "image/svg+xml", href
            assert b"<svg" in svg.data and b"</svg>" in svg.data, href
            assert "script-src" not in svg.headers["Content-Security-Policy"], href
            charts_seen.add(href.split("/chart/")[1].split(".svg")[0])
        downloads = [html.unescape(h) for h in re.findall(r'href="([^"]*format=csv[^"]*)"', text)]
        assert downloads, f"{url} offers no CSV"
        for href in downloads:
            csv_response = staff_client.get(href)
            assert csv_response.status_code == 200, href
            assert csv_response.mimetype == "text/csv", href
            disposition = csv_response.headers["Content-Disposition"]
            assert re.fullmatch(CSV_DISPOSITION, disposition), disposition
            assert csv_response.get_data(as_text=True).count("\n") >= 1
    assert charts_seen == set(CHARTS), "a chart no page shows"


def test_csv_keeps_a_formula_looking_query_as_text(staff_client, some_data):
    text = staff_client.get("/reports/searches?format=csv&table=no-result").get_data(as_text=True)
    assert "'=cmd()" in text and "\n=cmd()" not in text


def test_unknown_csv_table_and_chart_are_404(staff_client):
    assert staff_client.get("/reports/sla?format=csv&table=nope").status_code == 404
    assert staff_client.get("/reports/chart/nope.svg").status_code == 404


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from": "yesterday"}, "must be a date written YYYY-MM-DD"),
        ({"to": "2025-02-30"}, "must be a date written YYYY-MM-DD"),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "comes after"),
        ({"from": "1900-01-01", "to": "2025-02-01"}, "must lie between"),
        ({"from": "2000-01-01", "to": "2099-01-01"}, "at most"),
    ],
)
def test_bad_dates_give_a_clear_message_not_an_error(app, staff_client, args, message):
    for url in report_urls(app):
        response = staff_client.get(url, query_string=args)
        assert response.status_code == 400, url
        assert message in html.unescape(response.get_data(as_text=True)), url
        assert staff_client.get(url, query_string={**args, "format": "csv"}).status_code == 400


def test_the_range_defaults_to_the_last_30_days_and_is_kept_in_links(staff_client):
    today = datetime.now(UTC).date()
    page = staff_client.get("/reports/sla").get_data(as_text=True)
    start = (today - timedelta(days=29)).isoformat()
    assert f'name="from" value="{start}"' in page and f'name="to" value="{today}"' in page
    page = staff_client.get("/reports/sla?from=2025-01-01&to=2025-03-31").get_data(as_text=True)
    assert "from=2025-01-01&amp;to=2025-03-31" in page
    assert "by week" in page
