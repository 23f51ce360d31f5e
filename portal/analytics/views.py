"""Reports under /reports/: staff only, a date range, every table as CSV, charts as SVG."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user

from portal import access
from portal.analytics import gaps, reports
from portal.analytics.reports import Period, PeriodError, Table
from portal.timeutil import utcnow

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

# The report menu, in reading order: (endpoint, title).
PAGES = (
    ("reports.overview", "Overview"),
    ("reports.self_service", "Self-service"),
    ("reports.searches", "Searches"),
    ("reports.knowledge_gaps", "Knowledge gaps"),
    ("reports.categories", "Sources of incidents"),
    ("reports.sla", "SLA compliance"),
    ("reports.resolution", "Time to resolve"),
    ("reports.backlog", "Backlog"),
    ("reports.articles", "Articles and links"),
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.before_request
def _staff_only():
    """Sign in first (back here afterwards), then staff only: employees get 403."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    access.require_staff()
    return None


@bp.context_processor
def _nav() -> dict:
    """The report menu for the reports' own templates."""
    return {"report_pages": PAGES}


# The one way report templates write a time (a filter, so imported macros see it too).
bp.add_app_template_filter(reports.hours_minutes, "hours_minutes")


# -- the shared page machinery ---------------------------------------------------------


def _period() -> Period:
    return reports.parse_period(request.args.get("from"), request.args.get("to"), utcnow().date())


def _page(template: str, build: Callable[[Period, datetime], dict[str, Any]]):
    """Parse the range, build the figures, and answer HTML, or CSV for ?format=csv."""
    wants_csv = request.args.get("format") == "csv"
    try:
        period = _period()
    except PeriodError as exc:
        if wants_csv:
            return Response(str(exc), 400, mimetype="text/plain")
        return render_template(template, period=None, error=str(exc)), 400
    context = build(period, utcnow())
    tables: list[Table] = context["tables"]
    if wants_csv:
        name = request.args.get("table") or tables[0].name
        table = next((t for t in tables if t.name == name), None)
        if table is None:
            abort(404)
        return _csv(table, period)
    return render_template(template, period=period, error=None, **context)


def _charts():
    """The chart module: pygal (6 MB) is loaded with the first chart, not by every worker."""
    from portal.analytics import charts

    return charts


class _Charts:
    """A page's charts, drawn from its figures when the template shows them (so a CSV
    download does not draw them)."""

    def __init__(self, period: Period, data: dict[str, Any]):
        self.period, self.data = period, data

    def __getitem__(self, name: str) -> str:
        return _charts().data_uri(name, self.data[name], self.period)


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "pct":
        return round(value, 4)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # a query typed as "=cmd()" stays text in a spreadsheet
    return value


def _csv(table: Table, period: Period) -> Response:
    """One table as a CSV download (shares as fractions 0..1, hours as decimals)."""
    out = io.StringIO()
    writer = csv.writer(out)
    # A time is written in decimal hours, which a spreadsheet can add up; the heading says so.
    writer.writerow([c.heading + (" (hours)" if c.kind == "hours" else "") for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row.get(c.key), c.kind) for c in table.columns])
    filename = f"firstfix-{table.name}-{period.start}-to-{period.end}.csv"
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- pages -----------------------------------------------------------------------------


@bp.get("/")
def overview():
    """The loop at a glance: one figure per report, each with its definition."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        service_data = reports.self_service(period)
        service = service_data["total"]
        searches = reports.search_totals(period)
        raised = reports.incidents_raised(period)
        sla_all = reports.sla_compliance(period, now).rows[-1]
        resolve_all = reports.time_to_resolve(period).rows[-1]
        open_all = reports.backlog(now).rows[-1]
        links = reports.resolution_links(period)["total"]
        figures = [
            _figure(
                "self_service_rate",
                "Self-service rate",
                service["rate"],
                "pct",
                f"{service['self_served']} of {service['sessions']} search sessions",
                "Search sessions (one browser session's page searches on one UTC day, staff "
                "left out) self-served on a positive signal (an article voted helped, or read "
                "after the last search, and no incident), over all search sessions.",
                "reports.self_service",
            ),
            _figure(
                "searches",
                "Searches",
                searches["searches"],
                "int",
                f"{_pct(searches['no_result_rate'])} found nothing",
                "Every search on the pages and the API in the range.",
                "reports.searches",
            ),
            _figure(
                "incidents_raised",
                "Incidents raised",
                raised,
                "int",
                "",
                "Incidents created in the range, whatever their status now.",
                "reports.categories",
            ),
            _figure(
                "response_compliance",
                "First response within SLA",
                sla_all["response_rate"],
                "pct",
                f"{sla_all['response_met']} met, {sla_all['response_missed']} missed",
                "Incidents raised in the range whose first answer from the service desk came by "
                "its due time, over those met or missed.",
                "reports.sla",
            ),
            _figure(
                "resolution_compliance",
                "Resolution within SLA",
                sla_all["resolution_rate"],
                "pct",
                f"{sla_all['resolution_met']} met, {sla_all['resolution_missed']} missed",
                "Incidents raised in the range that were resolved by their due time, over those "
                "met or missed.",
                "reports.sla",
            ),
            _figure(
                "median_hours_to_resolve",
                "Median time to resolve",
                resolve_all["median_hours"],
                "hours",
                f"mean {_hours(resolve_all['mean_hours'])} over {resolve_all['resolved']}",
                "Time on the clock from raised to resolved, for incidents resolved in the range.",
                "reports.resolution",
            ),
            _figure(
                "backlog",
                "Open now",
                open_all["total"],
                "int",
                f"{open_all['d7_30'] + open_all['over_30d']} older than 7 days",
                "Incidents New, In progress, Waiting or Reopened at this moment.",
                "reports.backlog",
            ),
            _figure(
                "link_rate",
                "Link rate",
                links["link_rate"],
                "pct",
                f"{links['new']} new, {links['known']} known article",
                "Incidents resolved in the range with at least one linked article, over all "
                "resolved in the range.",
                "reports.articles",
            ),
        ]
        table = Table(
            "summary",
            "Summary",
            [
                reports.Column("figure", "Figure"),
                reports.Column("value", "Value"),
                reports.Column("definition", "Definition"),
            ],
            [
                {
                    "figure": f["label"],
                    "value": round(f["raw"], 4) if isinstance(f["raw"], float) else f["raw"],
                    "definition": f["definition"],
                }
                for f in figures
            ],
        )
        return {
            "figures": figures,
            "tables": [table],
            "charts": _Charts(period, {"self-service": service_data}),
        }

    return _page("reports/overview.html", build)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _hours(value: float | None) -> str:
    return reports.hours_minutes(value)


def _figure(
    key: str, label: str, raw, kind: str, detail: str, definition: str, endpoint: str
) -> dict[str, Any]:
    shown = {"pct": _pct, "hours": _hours}.get(kind, lambda v: f"{v:,}")(raw)
    return {
        "key": key,
        "label": label,
        "raw": raw,
        "value": shown,
        "detail": detail,
        "definition": definition,
        "url": endpoint,
    }


@bp.get("/self-service")
def self_service():
    """Self-service rate over time."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        data = reports.self_service(period)
        return {
            "total": data["total"],
            "tables": [reports.self_service_table(data)],
            "definition": reports.SELF_SERVICE_DEFINITION,
            "charts": _Charts(period, {"self-service": data}),
        }

    return _page("reports/self_service.html", build)


@bp.get("/searches")
def searches():
    """Top searches and top searches that found nothing."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        top, nothing = reports.top_searches(period), reports.top_no_result(period)
        return {
            "totals": reports.search_totals(period),
            "tables": [top, nothing],
            "charts": _Charts(period, {"top-searches": top, "no-result": nothing}),
        }

    return _page("reports/searches.html", build)


@bp.get("/gaps")
def knowledge_gaps():
    """Knowledge gaps: failed searches grouped by need, with a draft article for each."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        found = gaps.knowledge_gaps(period)
        drafts = [
            url_for(
                "articles.new_article",
                title=gap.title[:200],
                q=gap.queries[: gaps.DRAFT_QUERIES],
            )
            for gap in found
        ]
        return {
            "gaps": list(zip(found, drafts, strict=True)),
            "tables": [gaps.gaps_table(found)],
            "definition": gaps.DEFINITION,
            "charts": _Charts(period, {"gaps": found[: _charts().TOP_BARS]}),
        }

    return _page("reports/gaps.html", build)


@bp.get("/categories")
def categories():
    """Incidents by category and subcategory (the sources of errors), over time."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        over_time = reports.categories_over_time(period)
        return {
            "raised": sum(row["incidents"] for row in over_time.rows),
            "tables": [reports.incidents_by_category(period), over_time],
            "charts": _Charts(period, {"categories": over_time}),
        }

    return _page("reports/categories.html", build)


@bp.get("/sla")
def sla():
    """SLA compliance per priority: first response and resolution."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        table = reports.sla_compliance(period, now)
        return {
            "tables": [table],
            "definition": reports.SLA_DEFINITION,
            "charts": _Charts(period, {"sla": table}),
        }

    return _page("reports/sla.html", build)


@bp.get("/time-to-resolve")
def resolution():
    """Mean and median time to resolve per priority."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        table = reports.time_to_resolve(period)
        return {
            "tables": [table],
            "definition": reports.RESOLVE_DEFINITION,
            "charts": _Charts(period, {"time-to-resolve": table}),
        }

    return _page("reports/resolution.html", build)


@bp.get("/backlog")
def backlog():
    """Open incidents by status and age."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        table = reports.backlog(now)
        return {
            "tables": [table],
            "definition": reports.BACKLOG_DEFINITION,
            "charts": _Charts(period, {"backlog": table}),
        }

    return _page("reports/backlog.html", build)


@bp.get("/articles")
def articles():
    """Link rate, new versus known, and the articles most reused."""

    def build(period: Period, now: datetime) -> dict[str, Any]:
        links = reports.resolution_links(period)
        reused = reports.most_reused(period)
        for row in reused.rows:
            row["article_url"] = url_for("articles.article_page", slug=row["slug"])
        return {
            "total": links["total"],
            "tables": [reports.resolution_links_table(links), reused],
            "definition": reports.LINK_DEFINITION,
            "charts": _Charts(period, {"link-rate": links, "new-known": links}),
        }

    return _page("reports/articles.html", build)


@bp.get("/chart/<name>.svg")
def chart(name: str):
    """One chart on its own as an SVG image (pygal), for the range in the query string."""
    charts = _charts()
    if name not in charts.CHARTS:
        abort(404)
    try:
        period = _period()
    except PeriodError as exc:
        return Response(str(exc), 400, mimetype="text/plain")
    response = Response(charts.render(name, period, utcnow()), mimetype="image/svg+xml")
    # The SVG's own <style> must apply when it is opened on its own; nothing may run.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
