"""SLA policies, the priority matrix, business hours, the time zone and holidays: each
round-trips through its page, is audited, and bad input changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest

from portal import settings
from portal.admin import services
from portal.admin.services import AdminError
from portal.extensions import db
from portal.incidents import services as incidents
from portal.timeutil import as_utc
from tests.admin.conftest import submit
from tests.conftest import PASSWORD


def matrix_data(matrix: dict[str, dict[str, str]], **cells: str) -> dict[str, str]:
    data = {f"{i}_{u}": p for i, row in matrix.items() for u, p in row.items()}
    return {**data, **cells}


def sla_data(policies: dict[str, dict], **changes: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for name, spec in policies.items():
        for kind in ("response", "resolution"):
            days = spec[f"{kind}_days"]
            data[f"{name}-{kind}"] = str(days or spec[f"{kind}_minutes"])
            data[f"{name}-{kind}_unit"] = "days" if days else "minutes"
        if spec["around_the_clock"]:
            data[f"{name}-around_the_clock"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# -- the priority matrix ------------------------------------------------------------------


def test_priority_matrix_round_trips_and_is_audited(admin_client, audit_log):
    page = admin_client.get("/admin/sla")
    assert page.status_code == 200
    assert b'name="high_low"' in page.data
    before = settings.get("priority_matrix")
    response = admin_client.post(
        "/admin/sla/matrix", data=matrix_data(before, high_low="P2", low_low="P4")
    )
    assert response.status_code == 302
    db.session.rollback()
    assert settings.matrix()[("high", "low")] == "P2"
    assert settings.matrix()[("low", "low")] == "P4"
    assert audit_log() == [
        (
            "setting.priority_matrix",
            "priority_matrix",
            "high/low: P3 -> P2; low/low: P5 -> P4",
        )
    ]
    page = admin_client.get("/admin/sla")
    assert b'<option selected value="P2">P2</option>' in page.data.split(b'name="high_low"')[1]


def test_a_new_matrix_ranks_new_incidents(admin_client, admin, make_user):
    before = settings.get("priority_matrix")
    admin_client.post("/admin/sla/matrix", data=matrix_data(before, low_low="P1"))
    db.session.rollback()
    incident = incidents.raise_incident(
        make_user(), "Mouse squeaks", "It squeaks.", impact="low", urgency="low"
    )
    assert incident.priority == "P1"


def test_an_unknown_priority_in_the_matrix_is_refused(admin_client, audit_log):
    before = settings.get("priority_matrix")
    response = admin_client.post("/admin/sla/matrix", data=matrix_data(before, high_high="P9"))
    assert response.status_code == 400
    assert b"&#39;P9&#39; is not one of P1, P2, P3, P4, P5" in response.data
    db.session.rollback()
    assert settings.get("priority_matrix") == before
    assert audit_log() == []


def test_a_matrix_with_a_missing_cell_is_refused(admin, audit_log):
    matrix = settings.get("priority_matrix")
    del matrix["medium"]["low"]
    with pytest.raises(AdminError, match="missing cell impact 'medium', urgency 'low'"):
        services.set_priority_matrix(admin, matrix)
    assert audit_log() == []


# -- SLA policies -------------------------------------------------------------------------


def test_sla_policies_round_trip_and_are_audited(admin_client, audit_log):
    before = settings.get("sla_policies")
    data = sla_data(
        before,
        **{"P2-resolution": "2", "P2-resolution_unit": "days", "P5-response": "90"},
        **{"P5-response_unit": "minutes"},
    )
    response = admin_client.post("/admin/sla/policies", data=data)
    assert response.status_code == 302
    db.session.rollback()
    policies = settings.get("sla_policies")
    assert policies["P2"]["resolution_days"] == 2
    assert policies["P2"]["resolution_minutes"] == 0
    assert policies["P5"]["response_minutes"] == 90
    assert policies["P5"]["response_days"] == 0
    assert policies["P1"] == before["P1"]
    assert audit_log() == [
        (
            "setting.sla_policies",
            "sla_policies",
            "P2: respond 60 min, resolve 480 min -> respond 60 min, resolve 2 business days; "
            "P5: respond 2 business days, resolve 10 business days -> "
            "respond 90 min, resolve 10 business days",
        )
    ]
    page = admin_client.get("/admin/sla")
    assert b'id="P2-resolution"' in page.data
    assert b"resolve 2 business days" in page.data


def test_the_around_the_clock_flag_round_trips(admin_client):
    before = settings.get("sla_policies")
    data = sla_data(before, **{"P2-around_the_clock": "y"})
    assert admin_client.post("/admin/sla/policies", data=data).status_code == 302
    data = sla_data(settings.get("sla_policies"), **{"P1-around_the_clock": None})
    assert admin_client.post("/admin/sla/policies", data=data).status_code == 302
    db.session.rollback()
    policies = settings.get("sla_policies")
    assert policies["P2"]["around_the_clock"] is True
    assert policies["P1"]["around_the_clock"] is False


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"P1-resolution": "-5"}, b"P1 resolution time (minutes): give a number of zero or more."),
        ({"P3-response": "0"}, b"P3: the response time must be more than zero."),
        (
            {"P1-resolution": "1", "P1-resolution_unit": "days"},
            b"around-the-clock SLA has no business days",
        ),
        ({"P4-response": "6", "P4-response_unit": "days"}, b"P4: the response time cannot be"),
        ({"P2-response": "soon"}, b"Not a valid float value."),
        ({"P2-response": "nan"}, b"P2 response time (minutes): give a number of zero or more."),
    ],
)
def test_bad_sla_policies_are_refused(admin_client, audit_log, changes, message):
    before = settings.get("sla_policies")
    response = admin_client.post("/admin/sla/policies", data=sla_data(before, **changes))
    assert response.status_code == 400
    assert message in response.data
    db.session.rollback()
    assert settings.get("sla_policies") == before
    assert audit_log() == []


def test_saving_the_same_policies_records_nothing(admin_client, audit_log):
    before = settings.get("sla_policies")
    response = admin_client.post("/admin/sla/policies", data=sla_data(before))
    assert response.status_code == 302
    assert audit_log() == []


# -- business hours -----------------------------------------------------------------------


def test_business_hours_round_trip_and_are_audited(admin_client, audit_log):
    response = admin_client.post(
        "/admin/calendar/hours",
        data={"days": ["0", "1", "2", "3", "4", "5"], "start": "07:30", "end": "19:00"},
    )
    assert response.status_code == 302
    db.session.rollback()
    calendar = settings.calendar()
    assert calendar.days == frozenset(range(6))
    assert (calendar.start, calendar.end) == (time(7, 30), time(19, 0))
    assert audit_log() == [
        (
            "setting.business_hours",
            "business_hours",
            "Mon, Tue, Wed, Thu, Fri 08:00-18:00 -> Mon, Tue, Wed, Thu, Fri, Sat 07:30-19:00",
        )
    ]
    page = admin_client.get("/admin/calendar").data
    assert b'value="07:30"' in page
    assert b'checked id="days-5"' in page or b'id="days-5" checked' in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"days": ["0"], "start": "18:00", "end": "08:00"}, b"must come before the closing time"),
        ({"days": ["0"], "start": "09:00", "end": "09:00"}, b"must come before the closing time"),
        ({"start": "08:00", "end": "18:00"}, b"Pick at least one business day."),
        ({"days": ["0"], "start": "8 o&#39;clock", "end": "18:00"}, b"Not a valid time value."),
        ({"days": ["9"], "start": "08:00", "end": "18:00"}, b"not a valid choice"),
    ],
)
def test_bad_business_hours_are_refused(admin_client, audit_log, data, message):
    response = admin_client.post("/admin/calendar/hours", data=data)
    assert response.status_code == 400
    assert message in response.data
    db.session.rollback()
    calendar = settings.calendar()
    assert (calendar.start, calendar.end) == (time(8), time(18))
    assert audit_log() == []


def test_the_service_refuses_opening_after_closing(admin):
    with pytest.raises(
        AdminError, match=r"opening time \(18:00\) must come before the closing time \(08:00\)"
    ):
        services.set_business_hours(admin, [0, 1], "18:00", "08:00")
    with pytest.raises(AdminError, match="must look like 08:00"):
        services.set_business_hours(admin, [0, 1], "eight", "18:00")


def test_business_hours_change_a_new_incidents_due_time(admin_client, make_user):
    """A P2 allows 8 business hours to resolve: Monday 10:00 gives Monday 18:00 with the
    default hours, and Wednesday 10:00 once the desk is only open 08:00-12:00."""
    requester = make_user()
    monday_ten = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    def due() -> datetime:
        incident = incidents.raise_incident(
            requester, "Printer on fire", "Smoke.", impact="high", urgency="medium", now=monday_ten
        )
        assert incident.priority == "P2"
        db.session.commit()
        return as_utc(incident.resolution_due_at)

    assert due() == datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    response = admin_client.post(
        "/admin/calendar/hours",
        data={"days": ["0", "1", "2", "3", "4"], "start": "08:00", "end": "12:00"},
    )
    assert response.status_code == 302
    assert due() == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


# -- the time zone ------------------------------------------------------------------------


def test_the_time_zone_round_trips_and_is_audited(admin_client, audit_log):
    page = admin_client.get("/admin/calendar").data
    assert b'<option value="Europe/Berlin">' in page
    response = admin_client.post("/admin/calendar/timezone", data={"timezone": "Europe/Berlin"})
    assert response.status_code == 302
    db.session.rollback()
    assert settings.get("timezone") == "Europe/Berlin"
    assert settings.calendar().tz == "Europe/Berlin"
    assert audit_log() == [("setting.timezone", "timezone", "UTC -> Europe/Berlin")]
    assert b'<option selected value="Europe/Berlin">' in admin_client.get("/admin/calendar").data


def test_the_time_zone_moves_due_times(admin_client, make_user):
    admin_client.post("/admin/calendar/timezone", data={"timezone": "Europe/Berlin"})
    db.session.rollback()
    incident = incidents.raise_incident(
        make_user(),
        "Printer on fire",
        "Smoke.",
        impact="high",
        urgency="medium",
        now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
    )
    # 11:00 in Berlin (UTC+1 in March) plus 8 business hours: 7 on Monday, 1 on Tuesday.
    assert as_utc(incident.resolution_due_at) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "utc "])
def test_an_unknown_time_zone_is_refused(admin_client, audit_log, zone):
    response = admin_client.post("/admin/calendar/timezone", data={"timezone": zone})
    assert response.status_code == 400
    assert b"Unknown time zone" in response.data or b"This field is required." in response.data
    db.session.rollback()
    assert settings.get("timezone") == "UTC"
    assert audit_log() == []


# -- holidays -----------------------------------------------------------------------------


def test_holidays_are_added_and_removed(admin_client, audit_log):
    response = admin_client.post("/admin/calendar/holidays", data={"day": "2026-12-24"})
    assert response.status_code == 302
    admin_client.post("/admin/calendar/holidays", data={"day": "2026-12-31"})
    db.session.rollback()
    assert services.holiday_list() == [date(2026, 12, 24), date(2026, 12, 31)]
    assert b"2026-12-24" in admin_client.get("/admin/calendar").data
    response = admin_client.post("/admin/calendar/holidays/remove", data={"day": "2026-12-24"})
    assert response.status_code == 302
    db.session.rollback()
    assert settings.get("holidays") == ["2026-12-31"]
    assert audit_log() == [
        ("holiday.add", "holidays", "none -> 2026-12-24"),
        ("holiday.add", "holidays", "none -> 2026-12-31"),
        ("holiday.remove", "holidays", "2026-12-24 -> none"),
    ]


def test_adding_a_holiday_twice_records_it_once(admin, audit_log):
    assert services.add_holiday(admin, "2026-05-01") is True
    assert services.add_holiday(admin, date(2026, 5, 1)) is False
    db.session.commit()
    assert settings.get("holidays") == ["2026-05-01"]
    assert len(audit_log()) == 1


@pytest.mark.parametrize("day", ["2026-02-30", "tomorrow", ""])
def test_a_bad_holiday_is_refused(admin_client, audit_log, day):
    response = admin_client.post("/admin/calendar/holidays", data={"day": day})
    assert response.status_code == 400
    db.session.rollback()
    assert settings.get("holidays") == []
    assert audit_log() == []


def test_removing_a_malformed_date_is_refused(admin_client):
    response = admin_client.post("/admin/calendar/holidays/remove", data={"day": "soon"})
    assert response.status_code == 400
    assert b"A holiday must be a date like 2026-12-24" in response.data


def test_public_holidays_are_imported_and_merged(admin_client, admin, audit_log):
    services.add_holiday(admin, "2026-01-01")
    services.add_holiday(admin, "2026-07-01")
    db.session.commit()
    response = admin_client.post(
        "/admin/calendar/holidays/import", data={"country": "de", "year": "2026"}
    )
    assert response.status_code == 302
    db.session.rollback()
    days = services.holiday_list()
    for expected in ("2026-01-01", "2026-04-03", "2026-04-06", "2026-10-03", "2026-12-25"):
        assert date.fromisoformat(expected) in days
    assert date(2026, 7, 1) in days
    assert days.count(date(2026, 1, 1)) == 1
    action, target, detail = audit_log()[-1]
    assert (action, target) == ("holiday.import", "holidays")
    assert detail.startswith("DE 2026: none -> 2026-04-03, ")
    assert "2026-01-01" not in detail
    page = admin_client.get("/admin/calendar")
    assert b"2026-12-26" in page.data


def test_a_region_adds_its_own_holidays(admin):
    added = services.import_public_holidays(admin, "DE", 2026, "BY")
    assert date(2026, 1, 6) in added  # Epiphany: Bavaria, not all of Germany


def test_importing_again_adds_nothing(admin):
    assert services.import_public_holidays(admin, "FR", 2026)
    assert services.import_public_holidays(admin, "FR", 2026) == []


@pytest.mark.parametrize(
    "data, message",
    [
        ({"country": "XX", "year": "2026"}, b"No public holidays are known for"),
        ({"country": "DE", "subdivision": "ZZ", "year": "2026"}, b"DE-ZZ"),
        ({"country": "D1", "year": "2026"}, b"Give the country as its ISO code"),
        ({"country": "DE", "year": "1066"}, b"Pick a year from 2000 to 2100."),
        ({"country": "DE", "year": "next"}, b"Not a valid integer value."),
    ],
)
def test_a_bad_holiday_import_is_refused(admin_client, audit_log, data, message):
    response = admin_client.post("/admin/calendar/holidays/import", data=data)
    assert response.status_code == 400
    assert message in response.data
    db.session.rollback()
    assert settings.get("holidays") == []
    assert audit_log() == []


def test_a_holiday_stops_the_clock(admin, make_user):
    requester = make_user()
    monday_ten = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    services.add_holiday(admin, "2026-03-02")
    db.session.commit()
    incident = incidents.raise_incident(
        requester, "Printer on fire", "Smoke.", impact="high", urgency="medium", now=monday_ten
    )
    assert as_utc(incident.resolution_due_at) == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


def test_a_setting_and_its_audit_entry_share_one_transaction(admin, audit_log):
    services.set_timezone(admin, "Asia/Tokyo")
    db.session.rollback()
    assert settings.get("timezone") == "UTC"
    assert audit_log() == []


def test_the_pages_own_remove_button_removes_a_holiday(admin_client, admin):
    from tests.admin.conftest import submit

    services.add_holiday(admin, "2026-12-24")
    services.add_holiday(admin, "2026-12-31")
    db.session.commit()
    response = submit(admin_client, "/admin/calendar", "/admin/calendar/holidays/remove", 1)
    assert response.status_code == 302
    db.session.rollback()
    assert settings.get("holidays") == ["2026-12-24"]


def test_the_pages_own_forms_save_unchanged_settings(admin_client, audit_log):
    from tests.admin.conftest import submit

    for page, action in (
        ("/admin/calendar", "/admin/calendar/hours"),
        ("/admin/calendar", "/admin/calendar/timezone"),
        ("/admin/sla", "/admin/sla/matrix"),
        ("/admin/sla", "/admin/sla/policies"),
        ("/admin/sla", "/admin/sla/visibility"),
    ):
        assert submit(admin_client, page, action).status_code == 302, action
    assert audit_log() == []


# -- holidays with names, this year, current zones (issue 13 item 9) ------------------------


def test_imported_holidays_carry_their_names(admin_client, audit_log):
    admin_client.post("/admin/calendar/holidays/import", data={"country": "DE", "year": "2026"})
    db.session.rollback()
    names = dict(services.holiday_rows())
    assert names[date(2026, 12, 25)] == "Christmas Day"
    assert names[date(2026, 10, 3)] == "German Unity Day"
    page = admin_client.get("/admin/calendar").data.decode()
    assert "<td>Christmas Day</td>" in page
    assert 'aria-label="Remove 2026-12-25 Christmas Day"' in page


def test_a_holiday_added_by_hand_keeps_its_name_until_removed(admin_client, audit_log):
    admin_client.post(
        "/admin/calendar/holidays", data={"day": "2026-08-14", "name": "  Company   day out "}
    )
    db.session.rollback()
    assert services.holiday_rows() == [(date(2026, 8, 14), "Company day out")]
    assert audit_log()[-1] == ("holiday.add", "holidays", "none -> 2026-08-14 Company day out")
    admin_client.post("/admin/calendar/holidays/remove", data={"day": "2026-08-14"})
    db.session.rollback()
    assert settings.get("holiday_names") == {}
    admin_client.post("/admin/calendar/holidays", data={"day": "2026-08-14"})
    db.session.rollback()
    assert services.holiday_rows() == [(date(2026, 8, 14), "")]


def test_the_import_offers_the_current_year(admin_client, monkeypatch):
    from portal.admin import views

    monkeypatch.setattr(views, "utcnow", lambda: datetime(2027, 12, 31, 23, 30, tzinfo=UTC))
    page = admin_client.get("/admin/calendar").data.decode()
    assert 'name="year" type="number" value="2027"' in page or 'value="2027"' in page
    settings.put("timezone", "Europe/Berlin")  # already 2028 there
    db.session.commit()
    page = admin_client.get("/admin/calendar").data.decode()
    assert re.search(r'id="year"[^>]*value="2028"|value="2028"[^>]*id="year"', page)


def test_the_zone_list_offers_current_zones_not_old_aliases(admin_client):
    page = admin_client.get("/admin/calendar").data.decode()
    offered = re.findall(r'<option[^>]*value="([^"]+)"', page)
    for zone in ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/Kyiv", "UTC"):
        assert zone in offered
    for alias in ("US/Eastern", "Asia/Calcutta", "GB", "Europe/Kiev", "Etc/GMT+5", "EST5EDT"):
        assert alias not in offered
    assert ">America/New York</option>" in page  # read as words


def test_an_alias_chosen_earlier_stays_selected(admin_client, admin):
    settings.put("timezone", "Asia/Calcutta")
    db.session.commit()
    page = admin_client.get("/admin/calendar").data.decode()
    assert re.search(
        r'<option selected value="Asia/Calcutta"|<option value="Asia/Calcutta" selected', page
    )


# -- who sees the priority ----------------------------------------------------------------


def _signed_in(app, user):
    other = app.test_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return other


def _ticked(page: str) -> bool:
    box = re.search(r'<input[^>]*name="requesters_see_priority"[^>]*>', page).group(0)
    return "checked" in box


def test_admins_let_requesters_see_the_priority(app, admin_client, admin, make_user, audit_log):
    requester = make_user("employee", email="rita@example.com")
    incident = incidents.raise_incident(
        requester, "Mouse squeaks", "It squeaks.", impact="high", urgency="high"
    )
    db.session.commit()
    rita = _signed_in(app, requester)
    badge = f'<span class="prio prio-{incident.priority}">{incident.priority}</span>'
    assert badge not in rita.get(f"/incidents/{incident.ref}").text

    page = admin_client.get("/admin/sla").text
    assert "Requesters see the priority of their incidents" in page and not _ticked(page)
    response = admin_client.post(
        "/admin/sla/visibility", data={"requesters_see_priority": "y"}, follow_redirects=True
    )
    assert "Priority visibility saved." in response.text and _ticked(response.text)
    db.session.rollback()
    assert settings.get("requesters_see_priority") is True
    assert audit_log() == [
        ("setting.requesters_see_priority", "requesters_see_priority", "hidden -> shown")
    ]
    assert "Changed whether requesters see the priority" in admin_client.get("/admin/audit").text
    assert badge in rita.get(f"/incidents/{incident.ref}").text

    # Unticked (a browser sends no field) it is hidden again.
    assert admin_client.post("/admin/sla/visibility", data={}).status_code == 302
    db.session.rollback()
    assert settings.get("requesters_see_priority") is False
    assert badge not in rita.get(f"/incidents/{incident.ref}").text
    assert audit_log()[-1][2] == "shown -> hidden"
    # Ticked, the page's own form sends it ticked: nothing changes, nothing is recorded.
    services.set_requesters_see_priority(admin, True)
    db.session.commit()
    assert submit(admin_client, "/admin/sla", "/admin/sla/visibility").status_code == 302
    db.session.rollback()
    assert settings.get("requesters_see_priority") is True
    assert len(audit_log()) == 3


@pytest.mark.parametrize("role", ["employee", "agent", "editor"])
def test_only_admins_change_who_sees_the_priority(app, make_user, audit_log, role):
    someone = _signed_in(app, make_user(role))
    response = someone.post("/admin/sla/visibility", data={"requesters_see_priority": "y"})
    assert response.status_code == 403
    anonymous = app.test_client().post(
        "/admin/sla/visibility", data={"requesters_see_priority": "y"}
    )
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")
    db.session.rollback()
    assert settings.get("requesters_see_priority") is False
    assert audit_log() == []
