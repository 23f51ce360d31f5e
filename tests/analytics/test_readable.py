"""Reports people can read (issue 13, item 8): whole numbers on count axes, runs of empty
days as one line, definitions in words, and times in hours and minutes that agree between
the chart and the table."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.analytics import charts, reports
from portal.analytics.reports import Period, collapse_empty, hours_minutes


def svg_of(page: str, name: str) -> str:
    """The SVG a report page shows for one chart (an <img> with a data: URI)."""
    figure = page.split(f'href="/reports/chart/{name}.svg', 1)[0].rsplit("<figure", 1)[1]
    data = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', figure).group(1)
    return base64.b64decode(data).decode()


def axis_labels(svg: str, axis: str) -> list[str]:
    group = re.search(rf'<g class="axis {axis}[^"]*">(.*?)</g>\s*</g>', svg, re.S)
    assert group, f"no {axis} axis"
    return re.findall(r"<text[^>]*>([^<]*)</text>", group.group(1))


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (None, "–"),
        (0, "0 min"),
        (0.25, "15 min"),
        (1, "1 h"),
        (3 + 25 / 60, "3 h 25 min"),
        (2 + 5 / 60, "2 h 05 min"),
        (26.999, "27 h"),
        (1 + 59.6 / 60, "2 h"),
    ],
)
def test_hours_and_minutes(hours, text):
    assert hours_minutes(hours) == text


def test_runs_of_empty_days_become_one_line():
    period = Period(date(2026, 11, 1), date(2026, 11, 7))
    values = [0, 0, 0, 4, 0, 0, 2]
    rows = [
        {"bucket": b, "label": period.label(b), "sessions": v}
        for b, v in zip(period.buckets(), values, strict=True)
    ]
    shown = collapse_empty(rows, ("sessions",), "no search sessions")
    assert [r.get("gap") or r["sessions"] for r in shown] == [
        "01 Nov – 03 Nov (3 days): no search sessions",
        4,
        "05 Nov – 06 Nov (2 days): no search sessions",
        2,
    ]
    single = collapse_empty(rows[2:5], ("sessions",))
    assert [r.get("gap", r["sessions"]) for r in single] == [0, 4, 0]  # one empty day stays


@pytest.mark.parametrize(
    ("most", "labels"), [(1, [0, 1]), (3, [0, 1, 2, 3]), (17, [0, 5, 10, 15, 20])]
)
def test_count_axes_step_in_whole_numbers(most, labels):
    assert charts._int_axis(most)["y_labels"] == labels


def test_a_count_chart_of_one_incident_has_whole_number_labels(app, place_incident, employee):
    place_incident(datetime.now(UTC) - timedelta(hours=3))
    table = reports.backlog(datetime.now(UTC))
    svg = charts.draw_backlog(table, reports.default_period(date.today())).decode()
    labels = axis_labels(svg, "y")
    assert labels and all(re.fullmatch(r"\d+", label) for label in labels), labels
    assert "0.1" not in labels and "0.5" not in labels


def test_the_self_service_table_has_no_rows_of_zeros(staff_client, app):
    page = staff_client.get("/reports/self-service").text
    table = page.split('id="t-self-service"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr") == 2  # the heading and one line for the 30 empty days
    assert "(30 days): no search sessions" in table
    csv = staff_client.get("/reports/self-service?format=csv").text.strip().splitlines()
    assert len(csv) == 31  # the download keeps every day


def test_time_to_resolve_reads_the_same_in_chart_and_table(staff_client, place_incident):
    now = datetime.now(UTC)
    place_incident(
        now - timedelta(hours=3, minutes=25),
        priority="P2",
        status="resolved",
        resolved_at=now,
    )
    page = staff_client.get("/reports/time-to-resolve").text
    table = page.split('id="t-time-to-resolve"', 1)[1].split("</table>", 1)[0]
    assert '<th scope="col" class="k-hours">Mean time</th>' in table
    assert table.count("3 h 25 min") == 4  # mean and median, for P2 and for all
    svg = svg_of(page, "time-to-resolve")
    assert "3 h 25 min" in svg  # the values printed on the bars
    hours = axis_labels(svg, "y")
    assert hours and all(re.fullmatch(r"\d+ h|0 min", label) for label in hours), hours
    csv = staff_client.get("/reports/time-to-resolve?format=csv").text.splitlines()
    assert csv[0] == "Priority,Resolved,Mean time (hours),Median time (hours)"
    assert any(line.startswith("P2,1,3.41") for line in csv)


@pytest.mark.parametrize("url", ["/reports/", "/reports/sla", "/reports/time-to-resolve"])
def test_definitions_are_in_words_not_field_names(staff_client, url):
    page = staff_client.get(url).text
    for name in ("first_response_at", "response_due_at", "resolved_at", "created_at", "_due_at"):
        assert name not in page, f"{url} names the field {name}"
