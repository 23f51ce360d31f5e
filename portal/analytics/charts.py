"""Report charts as SVG images drawn on the server by pygal: readable without JavaScript.

pygal puts a <style> element in its SVG, which the page's CSP (style-src 'self') would refuse
inline. An SVG shown through <img> is a separate image document that keeps its own styles
and never runs scripts, so pages show each chart as <img>: drawn from the figures the page
has just computed, as a data: URI (the CSP allows img-src data:), so a page view queries the
database once. The same chart stands alone at /reports/chart/<name>.svg?from=&to= (with a CSP
of its own, see views.chart) to open or download. No tooltip script is referenced (js=[]);
the values are printed on the chart or tabled beside it.
"""

from __future__ import annotations

import base64
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pygal
from pygal.style import Style

from portal.analytics import gaps, reports
from portal.analytics.reports import Period, Table

# pygal appends a legacy import hook for its map plugins (pygal.maps.*), unused here; Python
# 3.10+ raises an ImportWarning from it on every later import that reaches it.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#5b6475",
    font_family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif",
    colors=(
        "#1f5fbf",
        "#f79009",
        "#1c7c43",
        "#b42318",
        "#7a5af8",
        "#0e9384",
        "#c11574",
        "#5b6475",
    ),
    title_font_size=18,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=11,
    tooltip_font_size=12,
)
OTHER = "Other"
TOP_CATEGORIES = 6
TOP_BARS = 10


def _chart(kind, title: str, **config):
    """A pygal chart in the portal's style, without the tooltip script."""
    options = {
        "style": STYLE,
        "js": [],
        "width": 800,
        "height": 400,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "print_values": False,
    }
    options.update(config)
    chart = kind(**options)
    chart.title = title
    return chart


def _int_axis(most: float | None) -> dict:
    """A count axis in whole numbers from 0 (pygal would draw 0 to 1 in steps of 0.1 for a
    handful of incidents): at most eight steps of 1, 2 or 5 times a power of ten."""
    most = max(1, math.ceil(most or 0))
    step = _step(most, 8)
    top = math.ceil(most / step) * step
    return {
        "range": (0, top),
        "y_labels": list(range(0, top + 1, step)),
        "value_formatter": lambda v: f"{v:,.0f}",
    }


def _render(chart) -> bytes:
    """The chart's SVG. pygal fails on fixed axis labels with no series at all (it then
    draws "No data"), so an empty chart goes without them."""
    if not chart.raw_series:
        chart.y_labels = None
    return chart.render()


def _step(most: float, steps: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... that covers `most` in `steps` steps."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if most <= steps * power * factor:
                return power * factor
        power *= 10


def _hours_axis(most: float | None) -> dict:
    """A time axis in whole hours, values written in hours and minutes as the table does."""
    most = max(1, math.ceil(most or 0))
    step = _step(most, 8)
    top = math.ceil(most / step) * step
    return {
        "range": (0, top),
        "y_labels": list(range(0, top + 1, step)),
        "value_formatter": reports.hours_minutes,
    }


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _time_axis(period: Period, labels: list[str]) -> dict:
    """Show every label for a few buckets, every seventh for daily ranges of many days."""
    if len(labels) <= 16:
        return {"x_label_rotation": 0 if len(labels) <= 8 else 30}
    every = 7 if period.grain == "day" else 4
    return {
        "x_label_rotation": 30,
        "show_minor_x_labels": False,
        "x_labels_major_every": every,
    }


def _short(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


# -- one drawing per chart, from figures the page already computed ------------------------


def draw_self_service(data: dict, period: Period) -> bytes:
    labels = [row["label"] for row in data["series"]]
    most = max((row["sessions"] for row in data["series"]), default=0)
    chart = _chart(
        pygal.Line,
        "Self-service rate (%, left) and search sessions (right)",
        range=(0, 100),
        secondary_range=(0, _int_axis(most)["range"][1]),
        **_time_axis(period, labels),
    )
    chart.x_labels = labels
    chart.add("Self-service rate %", [_pct(row["rate"]) for row in data["series"]])
    chart.add("Search sessions", [row["sessions"] for row in data["series"]], secondary=True)
    return _render(chart)


def _bars(rows: list[dict], key: str, series: dict[str, str], title: str) -> bytes:
    rows = rows[:TOP_BARS][::-1]  # horizontal bars draw bottom-up: biggest at the top
    most = max((row[column] or 0 for row in rows for column in series), default=0)
    chart = _chart(
        pygal.HorizontalBar, title, height=max(260, 60 + 32 * len(rows)), **_int_axis(most)
    )
    chart.x_labels = [_short(str(row[key])) for row in rows]
    for column, name in series.items():
        chart.add(name, [row[column] for row in rows])
    return _render(chart)


def draw_top_searches(table: Table, period: Period) -> bytes:
    return _bars(
        table.rows,
        "query",
        {"searches": "Searches", "no_result": "Found nothing"},
        "Top searches",
    )


def draw_no_result(table: Table, period: Period) -> bytes:
    return _bars(
        table.rows,
        "query",
        {"searches": "Searches that found nothing"},
        "Top searches that found nothing",
    )


def draw_categories(table: Table, period: Period) -> bytes:
    totals: dict[str, int] = {}
    for row in table.rows:
        totals[row["category"]] = totals.get(row["category"], 0) + row["incidents"]
    top = sorted(totals, key=lambda c: (-totals[c], c))[:TOP_CATEGORIES]
    buckets = period.buckets()
    counts: dict[str, dict[str, int]] = {name: {} for name in [*top, OTHER]}
    for row in table.rows:
        name = row["category"] if row["category"] in top else OTHER
        counts[name][row["bucket"]] = counts[name].get(row["bucket"], 0) + row["incidents"]
    labels = [period.label(b) for b in buckets]
    most = max((sum(counts[n].get(b, 0) for n in counts) for b in buckets), default=0)
    chart = _chart(
        pygal.StackedBar,
        "Incidents raised by category",
        **_time_axis(period, labels),
        **_int_axis(most),
    )
    chart.x_labels = labels
    for name in [*top, OTHER]:
        if counts[name] or name != OTHER:
            chart.add(name, [counts[name].get(b, 0) for b in buckets])
    return _render(chart)


def draw_sla(table: Table, period: Period) -> bytes:
    chart = _chart(pygal.Bar, "SLA compliance per priority (%)", range=(0, 100), print_values=True)
    chart.x_labels = [row["priority"] for row in table.rows]
    chart.add("First response met", [_pct(row["response_rate"]) for row in table.rows])
    chart.add("Resolution met", [_pct(row["resolution_rate"]) for row in table.rows])
    return _render(chart)


def draw_time_to_resolve(table: Table, period: Period) -> bytes:
    most = max(
        (row[k] or 0 for row in table.rows for k in ("mean_hours", "median_hours")), default=0
    )
    chart = _chart(
        pygal.Bar, "Time to resolve per priority", print_values=True, **_hours_axis(most)
    )
    chart.x_labels = [row["priority"] for row in table.rows]
    chart.add("Mean", [row["mean_hours"] for row in table.rows])
    chart.add("Median", [row["median_hours"] for row in table.rows])
    return _render(chart)


def draw_backlog(table: Table, period: Period) -> bytes:
    rows = [row for row in table.rows if row["status"] != "All open"]
    most = max((row["total"] for row in rows), default=0)
    chart = _chart(pygal.StackedBar, "Open incidents by status and age", **_int_axis(most))
    chart.x_labels = [row["status"] for row in rows]
    for key, label, _ in reports.AGES:
        chart.add(label, [row[key] for row in rows])
    return _render(chart)


def draw_link_rate(data: dict, period: Period) -> bytes:
    labels = [row["label"] for row in data["series"]]
    chart = _chart(
        pygal.Line,
        "Link rate (%): resolved incidents with an article",
        range=(0, 100),
        **_time_axis(period, labels),
    )
    chart.x_labels = labels
    chart.add("Link rate %", [_pct(row["link_rate"]) for row in data["series"]])
    return _render(chart)


def draw_new_known(data: dict, period: Period) -> bytes:
    labels = [row["label"] for row in data["series"]]
    most = max((row["resolved"] for row in data["series"]), default=0)
    chart = _chart(
        pygal.StackedBar,
        "Resolved incidents: new, known or no article",
        **_time_axis(period, labels),
        **_int_axis(most),
    )
    chart.x_labels = labels
    for key, name in (("new", "New article"), ("known", "Known article"), ("none", "No article")):
        chart.add(name, [row[key] for row in data["series"]])
    return _render(chart)


def draw_gaps(found: list[gaps.Gap], period: Period) -> bytes:
    rows = [
        {
            "need": gap.title,
            "no_result": gap.no_result,
            "not_helped": gap.not_helped,
            "incidents": len(gap.incident_ids),
        }
        for gap in found
    ]
    return _bars(
        rows,
        "need",
        {"no_result": "Found nothing", "not_helped": "Did not help", "incidents": "Incidents"},
        "Top knowledge gaps",
    )


# -- the registry: what each chart needs, and how it is drawn ---------------------------


@dataclass(frozen=True)
class Chart:
    compute: Callable[[Period, datetime], Any]  # the figures, when the chart stands alone
    draw: Callable[[Any, Period], bytes]


CHARTS: dict[str, Chart] = {
    "self-service": Chart(lambda p, now: reports.self_service(p), draw_self_service),
    "top-searches": Chart(lambda p, now: reports.top_searches(p, TOP_BARS), draw_top_searches),
    "no-result": Chart(lambda p, now: reports.top_no_result(p, TOP_BARS), draw_no_result),
    "categories": Chart(lambda p, now: reports.categories_over_time(p), draw_categories),
    "sla": Chart(lambda p, now: reports.sla_compliance(p, now), draw_sla),
    "time-to-resolve": Chart(lambda p, now: reports.time_to_resolve(p), draw_time_to_resolve),
    "backlog": Chart(lambda p, now: reports.backlog(now), draw_backlog),
    "link-rate": Chart(lambda p, now: reports.resolution_links(p), draw_link_rate),
    "new-known": Chart(lambda p, now: reports.resolution_links(p), draw_new_known),
    "gaps": Chart(lambda p, now: gaps.knowledge_gaps(p, TOP_BARS), draw_gaps),
}


def render(name: str, period: Period, now: datetime) -> bytes:
    """One chart as SVG, computing its figures; KeyError for an unknown name."""
    chart = CHARTS[name]
    return chart.draw(chart.compute(period, now), period)


def data_uri(name: str, data: Any, period: Period) -> str:
    """A chart drawn from figures already computed, as an <img> source (no second query)."""
    svg = CHARTS[name].draw(data, period)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
