"""The SLA clock as the service desk notices it: due times, closed hours, pauses, clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.incidents.sla import (
    DEFAULT_POLICIES,
    BusinessCalendar,
    Policy,
    PolicySpec,
    add_business_time,
    business_time_between,
    due_at,
    due_with_pauses,
    elapsed,
    policy_for,
    remaining,
    state,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def at(tz: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in a zone, as the requester would read it."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def local(value: datetime, tz: str) -> datetime:
    """An instant as the desk in `tz` reads it."""
    return value.astimezone(ZoneInfo(tz))


def due(priority: str, raised: datetime, calendar: BusinessCalendar) -> tuple[datetime, datetime]:
    """The response and resolution due times a new incident shows."""
    policy = policy_for(priority, calendar)
    return (
        due_at(raised, policy.response, calendar, policy.around_the_clock),
        due_at(raised, policy.resolution, calendar, policy.around_the_clock),
    )


# --- the scenarios from the product description -------------------------------------------------


@pytest.mark.parametrize("tz", [BERLIN, "UTC"])
def test_p1_raised_friday_evening_is_due_the_same_evening(tz: str) -> None:
    calendar = BusinessCalendar(tz)
    raised = at(tz, 2026, 11, 27, 17, 55)  # Friday, five minutes before closing

    response, resolution = due("P1", raised, calendar)

    assert local(response, tz) == at(tz, 2026, 11, 27, 18, 10)
    assert local(resolution, tz) == at(tz, 2026, 11, 27, 21, 55)
    assert resolution.tzinfo is UTC


@pytest.mark.parametrize("tz", [BERLIN, "UTC"])
def test_p3_raised_friday_evening_is_answered_monday_and_resolved_wednesday(tz: str) -> None:
    calendar = BusinessCalendar(tz)
    raised = at(tz, 2026, 11, 27, 17, 55)

    response, resolution = due("P3", raised, calendar)

    assert policy_for("P3", calendar).resolution == 30 * H
    assert local(response, tz) == at(tz, 2026, 11, 30, 11, 55)  # Monday
    assert local(resolution, tz) == at(tz, 2026, 12, 2, 17, 55)  # Wednesday
    assert resolution.tzinfo is UTC


@pytest.mark.parametrize("tz", [BERLIN, "UTC"])
def test_a_monday_holiday_moves_the_p3_to_thursday(tz: str) -> None:
    calendar = BusinessCalendar(tz, holidays=frozenset({date(2026, 11, 30)}))
    raised = at(tz, 2026, 11, 27, 17, 55)

    response, resolution = due("P3", raised, calendar)

    assert local(response, tz) == at(tz, 2026, 12, 1, 11, 55)  # Tuesday
    assert local(resolution, tz) == at(tz, 2026, 12, 3, 17, 55)  # Thursday


def test_p2_p4_and_p5_due_times() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 27, 17, 55)

    assert [local(d, BERLIN) for d in due("P2", raised, calendar)] == [
        at(BERLIN, 2026, 11, 30, 8, 55),
        at(BERLIN, 2026, 11, 30, 15, 55),
    ]
    assert [local(d, BERLIN) for d in due("P4", raised, calendar)] == [
        at(BERLIN, 2026, 11, 30, 17, 55),  # one business day: Monday at the same time
        at(BERLIN, 2026, 12, 4, 17, 55),  # five: the next Friday
    ]
    assert [local(d, BERLIN) for d in due("P5", raised, calendar)] == [
        at(BERLIN, 2026, 12, 1, 17, 55),
        at(BERLIN, 2026, 12, 11, 17, 55),
    ]


def test_a_start_in_another_zone_is_the_same_instant() -> None:
    calendar = BusinessCalendar(BERLIN)
    in_berlin = at(BERLIN, 2026, 11, 27, 17, 55)
    in_utc = datetime(2026, 11, 27, 16, 55, tzinfo=UTC)
    in_tokyo = in_berlin.astimezone(ZoneInfo("Asia/Tokyo"))

    expected = due("P3", in_berlin, calendar)
    assert due("P3", in_utc, calendar) == expected
    assert due("P3", in_tokyo, calendar) == expected


# --- closed hours, weekends and holidays -------------------------------------------------------


def test_a_start_on_saturday_counts_from_monday_opening() -> None:
    calendar = BusinessCalendar(BERLIN)

    assert add_business_time(at(BERLIN, 2026, 11, 28, 10), H, calendar) == at(
        BERLIN, 2026, 11, 30, 9
    )
    assert add_business_time(at(BERLIN, 2026, 11, 29, 23, 59), 30 * MIN, calendar) == at(
        BERLIN, 2026, 11, 30, 8, 30
    )


def test_a_start_before_opening_counts_from_opening() -> None:
    calendar = BusinessCalendar(BERLIN)

    assert add_business_time(at(BERLIN, 2026, 12, 1, 6), 30 * MIN, calendar) == at(
        BERLIN, 2026, 12, 1, 8, 30
    )


def test_a_start_after_closing_counts_from_next_morning() -> None:
    calendar = BusinessCalendar(BERLIN)

    assert add_business_time(at(BERLIN, 2026, 12, 1, 19), 30 * MIN, calendar) == at(
        BERLIN, 2026, 12, 2, 8, 30
    )


def test_time_left_at_closing_carries_over_to_next_morning() -> None:
    calendar = BusinessCalendar(BERLIN)

    assert add_business_time(at(BERLIN, 2026, 12, 1, 17), 2 * H, calendar) == at(
        BERLIN, 2026, 12, 2, 9
    )


def test_work_due_exactly_at_closing_is_due_that_evening_not_next_morning() -> None:
    calendar = BusinessCalendar(BERLIN)

    assert add_business_time(at(BERLIN, 2026, 12, 1, 17), H, calendar) == at(
        BERLIN, 2026, 12, 1, 18
    )
    monday = at(BERLIN, 2026, 11, 30, 8)
    assert add_business_time(monday, 100 * H, calendar) == at(BERLIN, 2026, 12, 11, 18)


def test_zero_time_from_a_closed_hour_is_the_next_opening() -> None:
    calendar = BusinessCalendar(BERLIN)

    assert add_business_time(at(BERLIN, 2026, 11, 28, 12), timedelta(0), calendar) == at(
        BERLIN, 2026, 11, 30, 8
    )
    assert add_business_time(at(BERLIN, 2026, 12, 1, 12), timedelta(0), calendar) == at(
        BERLIN, 2026, 12, 1, 12
    )


def test_the_weekend_is_skipped() -> None:
    calendar = BusinessCalendar(BERLIN)
    friday = at(BERLIN, 2026, 11, 27, 16)

    assert add_business_time(friday, 4 * H, calendar) == at(BERLIN, 2026, 11, 30, 10)
    assert add_business_time(friday, 52 * H, calendar) == at(BERLIN, 2026, 12, 4, 18)
    assert add_business_time(friday, 53 * H, calendar) == at(BERLIN, 2026, 12, 7, 9)


def test_christmas_holidays_are_skipped() -> None:
    calendar = BusinessCalendar(
        BERLIN, holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)})
    )

    assert add_business_time(at(BERLIN, 2026, 12, 23, 17), 2 * H, calendar) == at(
        BERLIN, 2026, 12, 28, 9
    )


def test_a_desk_that_works_saturdays_counts_them() -> None:
    calendar = BusinessCalendar(BERLIN, days=frozenset(range(6)))

    assert add_business_time(at(BERLIN, 2026, 11, 27, 17), 2 * H, calendar) == at(
        BERLIN, 2026, 11, 28, 9
    )


def test_other_opening_hours_change_how_long_a_business_day_is() -> None:
    calendar = BusinessCalendar(BERLIN, start=time(9), end=time(17))
    raised = at(BERLIN, 2026, 11, 27, 16, 55)

    assert policy_for("P3", calendar).resolution == 24 * H
    assert local(due("P3", raised, calendar)[1], BERLIN) == at(BERLIN, 2026, 12, 2, 16, 55)


def test_a_year_of_holidays_is_skipped() -> None:
    every_weekday_in_2026 = frozenset(
        date(2026, 1, 1) + timedelta(days=n)
        for n in range(365)
        if (date(2026, 1, 1) + timedelta(days=n)).weekday() < 5
    )
    calendar = BusinessCalendar("UTC", holidays=every_weekday_in_2026)

    # Ten business days from New Year 2027, a Friday: Friday, five days, then Monday to Thursday.
    assert add_business_time(at("UTC", 2026, 1, 1, 9), 100 * H, calendar) == at(
        "UTC", 2027, 1, 14, 18
    )


# --- business time between two instants --------------------------------------------------------


def test_business_time_between_counts_only_open_hours() -> None:
    calendar = BusinessCalendar(BERLIN)
    friday = at(BERLIN, 2026, 11, 27, 17, 55)

    assert business_time_between(friday, at(BERLIN, 2026, 12, 2, 17, 55), calendar) == 30 * H
    assert business_time_between(friday, at(BERLIN, 2026, 11, 30, 9), calendar) == 65 * MIN
    saturday, sunday = at(BERLIN, 2026, 11, 28, 9), at(BERLIN, 2026, 11, 29, 17)
    assert business_time_between(saturday, sunday, calendar) == timedelta(0)
    assert business_time_between(friday, friday, calendar) == timedelta(0)


def test_business_time_between_is_negative_when_the_end_comes_first() -> None:
    calendar = BusinessCalendar(BERLIN)
    a, b = at(BERLIN, 2026, 11, 27, 17), at(BERLIN, 2026, 11, 30, 9)

    assert business_time_between(b, a, calendar) == -2 * H


def test_a_year_of_business_time_for_reports() -> None:
    calendar = BusinessCalendar("UTC")
    # 2026 starts on a Thursday: 52 weeks and one weekday, 261 business days.
    assert (
        business_time_between(at("UTC", 2026, 1, 1, 0), at("UTC", 2027, 1, 1, 0), calendar)
        == 261 * 10 * H
    )


def _starts(tz: str) -> list[datetime]:
    """Every 97 minutes for three weeks around the spring clock change, at odd minutes."""
    first = datetime(2026, 3, 2, 0, 13, tzinfo=UTC)
    return [(first + n * 97 * MIN).astimezone(ZoneInfo(tz)) for n in range(3 * 7 * 24 * 60 // 97)]


CALENDARS = [
    BusinessCalendar(BERLIN),
    BusinessCalendar(NEW_YORK, start=time(7, 30), end=time(16, 45)),
    BusinessCalendar("UTC", days=frozenset({0, 2, 4, 5}), holidays=frozenset({date(2026, 3, 13)})),
]
DURATIONS = [timedelta(0), MIN, 2 * H, 9 * H + 59 * MIN, 10 * H, 10 * H + MIN, 30 * H, 100 * H]


@pytest.mark.parametrize("calendar", CALENDARS, ids=lambda c: c.tz)
def test_business_time_between_undoes_add_business_time(calendar: BusinessCalendar) -> None:
    for start in _starts(calendar.tz):
        previous = None
        for duration in DURATIONS:
            end = add_business_time(start, duration, calendar)
            assert business_time_between(start, end, calendar) == duration, (start, duration)
            opened = local(end, calendar.tz)
            assert calendar.is_business_day(opened.date())
            assert calendar.start <= opened.time() <= calendar.end
            assert previous is None or end >= previous
            previous = end


@pytest.mark.parametrize("calendar", CALENDARS, ids=lambda c: c.tz)
def test_add_business_time_reaches_any_open_instant(calendar: BusinessCalendar) -> None:
    starts = _starts(calendar.tz)
    for start, end in zip(starts, starts[17:], strict=False):
        spent = business_time_between(start, end, calendar)
        reached = add_business_time(start, spent, calendar)
        assert reached <= end or spent == timedelta(0)
        assert business_time_between(start, reached, calendar) == spent
        opened = local(end, calendar.tz)
        is_open = calendar.is_business_day(opened.date()) and (
            calendar.start < opened.time() <= calendar.end
        )
        if is_open and spent:
            assert reached == end, (start, end)


@pytest.mark.parametrize("calendar", CALENDARS, ids=lambda c: c.tz)
def test_adding_in_two_steps_is_adding_once(calendar: BusinessCalendar) -> None:
    for start in _starts(calendar.tz)[::5]:
        halfway = add_business_time(start, 7 * H, calendar)
        assert add_business_time(halfway, 23 * H, calendar) == add_business_time(
            start, 30 * H, calendar
        )


# --- daylight saving -------------------------------------------------------------------------


def test_berlin_opens_at_eight_local_on_both_sides_of_the_spring_change() -> None:
    calendar = BusinessCalendar(BERLIN)
    friday = at(BERLIN, 2026, 3, 27, 17)  # CET, UTC+1; clocks go forward on Sunday 29 March

    monday = add_business_time(friday, 2 * H, calendar)

    assert monday == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert local(monday, BERLIN).time() == time(9)
    assert local(monday, BERLIN).utcoffset() == 2 * H
    assert add_business_time(at(BERLIN, 2026, 3, 27, 5), timedelta(0), calendar) == datetime(
        2026, 3, 27, 7, tzinfo=UTC
    )
    assert add_business_time(at(BERLIN, 2026, 3, 29, 12), timedelta(0), calendar) == datetime(
        2026, 3, 30, 6, tzinfo=UTC
    )


def test_berlin_opens_at_eight_local_on_both_sides_of_the_autumn_change() -> None:
    calendar = BusinessCalendar(BERLIN)
    friday = at(BERLIN, 2026, 10, 23, 17)  # CEST, UTC+2; clocks go back on Sunday 25 October

    monday = add_business_time(friday, 2 * H, calendar)

    assert monday == datetime(2026, 10, 26, 8, tzinfo=UTC)
    assert local(monday, BERLIN).time() == time(9)
    assert local(monday, BERLIN).utcoffset() == H


def test_a_business_week_is_fifty_hours_across_a_clock_change() -> None:
    calendar = BusinessCalendar(BERLIN)

    for monday, friday in [((2026, 3, 23), (2026, 4, 3)), ((2026, 10, 19), (2026, 10, 30))]:
        start, end = at(BERLIN, *monday, 8), at(BERLIN, *friday, 18)
        assert business_time_between(start, end, calendar) == 100 * H


def test_p3_over_the_spring_change_keeps_its_local_due_time() -> None:
    calendar = BusinessCalendar(BERLIN)

    response, resolution = due("P3", at(BERLIN, 2026, 3, 27, 17, 55), calendar)

    assert local(response, BERLIN) == at(BERLIN, 2026, 3, 30, 11, 55)
    assert local(resolution, BERLIN) == at(BERLIN, 2026, 4, 1, 17, 55)
    assert resolution == datetime(2026, 4, 1, 15, 55, tzinfo=UTC)


def test_p1_across_the_spring_night_counts_real_hours() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 3, 28, 23, 30)  # Saturday night, CET

    resolution = due("P1", raised, calendar)[1]

    assert resolution - raised == 4 * H
    assert resolution == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert local(resolution, BERLIN).time() == time(4, 30)  # the wall clock skipped an hour


def test_p1_across_the_autumn_night_counts_real_hours() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 10, 25, 0, 30)  # CEST, the clocks go back at 03:00

    resolution = due("P1", raised, calendar)[1]

    assert resolution - raised == 4 * H
    assert resolution == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    assert local(resolution, BERLIN).time() == time(3, 30)  # the wall clock repeated an hour
    assert local(resolution, BERLIN).utcoffset() == H


def test_opening_hours_that_span_the_clock_change_are_as_long_as_they_really_are() -> None:
    night_desk = BusinessCalendar(BERLIN, days=frozenset(range(7)), start=time(0), end=time(6))

    spring = at(BERLIN, 2026, 3, 29, 0), at(BERLIN, 2026, 3, 29, 6)
    autumn = at(BERLIN, 2026, 10, 25, 0), at(BERLIN, 2026, 10, 25, 6)
    assert business_time_between(*spring, night_desk) == 5 * H
    assert business_time_between(*autumn, night_desk) == 7 * H
    assert add_business_time(spring[0], 5 * H, night_desk) == spring[1]


def test_new_york_opens_at_eight_local_across_both_changes() -> None:
    calendar = BusinessCalendar(NEW_YORK)

    spring = add_business_time(at(NEW_YORK, 2026, 3, 6, 17), 2 * H, calendar)  # EST -> EDT
    autumn = add_business_time(at(NEW_YORK, 2026, 10, 30, 17), 2 * H, calendar)  # EDT -> EST

    assert spring == datetime(2026, 3, 9, 13, tzinfo=UTC)
    assert local(spring, NEW_YORK).time() == time(9)
    assert local(spring, NEW_YORK).utcoffset() == -4 * H
    assert autumn == datetime(2026, 11, 2, 14, tzinfo=UTC)
    assert local(autumn, NEW_YORK).time() == time(9)
    assert local(autumn, NEW_YORK).utcoffset() == -5 * H


def test_new_york_p3_and_p1_across_the_spring_change() -> None:
    calendar = BusinessCalendar(NEW_YORK)

    resolution = due("P3", at(NEW_YORK, 2026, 3, 6, 17, 55), calendar)[1]
    assert local(resolution, NEW_YORK) == at(NEW_YORK, 2026, 3, 11, 17, 55)

    raised = at(NEW_YORK, 2026, 3, 7, 23, 30)  # Saturday night, EST
    p1 = due("P1", raised, calendar)[1]
    assert p1 - raised == 4 * H
    assert local(p1, NEW_YORK).time() == time(4, 30)


# --- pauses ------------------------------------------------------------------------------------


def test_a_pause_over_the_weekend_moves_the_due_time() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 27, 15)  # Friday, P2: 8 business hours
    waiting = [(at(BERLIN, 2026, 11, 27, 17), at(BERLIN, 2026, 11, 30, 10))]

    unpaused = due_with_pauses(raised, 8 * H, calendar, False, [])
    paused = due_with_pauses(raised, 8 * H, calendar, False, waiting)

    assert unpaused == at(BERLIN, 2026, 11, 30, 13)
    assert paused == at(BERLIN, 2026, 11, 30, 16)  # one hour on Friday, two on Monday
    assert paused.tzinfo is UTC


def test_an_open_pause_means_no_due_time() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 27, 15)
    waiting = [(at(BERLIN, 2026, 11, 27, 17), None)]

    assert due_with_pauses(raised, 8 * H, calendar, False, waiting) is None
    assert due_with_pauses(raised, 4 * H, calendar, True, waiting) is None


def test_pausing_after_the_time_ran_out_does_not_hide_the_breach() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 30, 8)
    waiting = [(at(BERLIN, 2026, 11, 30, 12), None)]

    assert due_with_pauses(raised, H, calendar, False, waiting) == at(BERLIN, 2026, 11, 30, 9)


def test_a_closed_then_reopened_pause() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 30, 8)
    waiting = [
        (at(BERLIN, 2026, 11, 30, 9), at(BERLIN, 2026, 11, 30, 10)),
        (at(BERLIN, 2026, 11, 30, 11), None),
    ]

    assert due_with_pauses(raised, 3 * H, calendar, False, waiting) is None
    assert due_with_pauses(raised, 2 * H, calendar, False, waiting) == at(BERLIN, 2026, 11, 30, 11)


def test_an_open_pause_swallows_any_later_pause() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 30, 8)
    waiting = [
        (at(BERLIN, 2026, 11, 30, 9), None),
        (at(BERLIN, 2026, 12, 1, 9), at(BERLIN, 2026, 12, 1, 10)),
    ]

    assert due_with_pauses(raised, 2 * H, calendar, False, waiting) is None
    assert elapsed(raised, at(BERLIN, 2026, 12, 7, 9), calendar, False, waiting) == H


def test_a_pause_outside_business_hours_changes_nothing() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 27, 15)
    weekend = [(at(BERLIN, 2026, 11, 28, 9), at(BERLIN, 2026, 11, 29, 20))]

    assert due_with_pauses(raised, 8 * H, calendar, False, weekend) == at(BERLIN, 2026, 11, 30, 13)


def test_a_pause_that_began_before_the_incident_only_counts_from_the_start() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 30, 10)
    waiting = [(at(BERLIN, 2026, 11, 30, 8), at(BERLIN, 2026, 11, 30, 11))]

    assert due_with_pauses(raised, H, calendar, False, waiting) == at(BERLIN, 2026, 11, 30, 12)


def test_overlapping_and_unsorted_pauses_are_not_counted_twice() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 30, 8)
    overlapping = [
        (at(BERLIN, 2026, 11, 30, 10), at(BERLIN, 2026, 11, 30, 12)),
        (at(BERLIN, 2026, 11, 30, 9), at(BERLIN, 2026, 11, 30, 11)),
        (at(BERLIN, 2026, 11, 30, 11, 30), at(BERLIN, 2026, 11, 30, 11, 45)),
    ]
    single = [(at(BERLIN, 2026, 11, 30, 9), at(BERLIN, 2026, 11, 30, 12))]

    expected = at(BERLIN, 2026, 11, 30, 15)
    assert due_with_pauses(raised, 4 * H, calendar, False, overlapping) == expected
    assert due_with_pauses(raised, 4 * H, calendar, False, single) == expected


def test_a_pause_stops_the_around_the_clock_timer_too() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 27, 17, 55)
    waiting = [(at(BERLIN, 2026, 11, 27, 18), at(BERLIN, 2026, 11, 27, 19))]

    assert due_with_pauses(raised, 4 * H, calendar, True, waiting) == at(
        BERLIN, 2026, 11, 27, 22, 55
    )


def test_without_pauses_the_due_time_is_due_at() -> None:
    calendar = BusinessCalendar(NEW_YORK)
    for start in _starts(NEW_YORK)[::11]:
        for duration in DURATIONS:
            for around_the_clock in (False, True):
                assert due_with_pauses(start, duration, calendar, around_the_clock, []) == due_at(
                    start, duration, calendar, around_the_clock
                )


def test_a_pause_in_another_zone_is_the_same_pause() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 27, 15)
    waiting = [(at(BERLIN, 2026, 11, 27, 17), at(BERLIN, 2026, 11, 30, 10))]
    in_new_york = [(local(a, NEW_YORK), local(b, NEW_YORK)) for a, b in waiting]

    assert due_with_pauses(raised, 8 * H, calendar, False, in_new_york) == due_with_pauses(
        raised, 8 * H, calendar, False, waiting
    )


def test_a_pause_that_ends_before_it_starts_is_refused() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 30, 8)
    backwards = [(at(BERLIN, 2026, 11, 30, 10), at(BERLIN, 2026, 11, 30, 9))]

    with pytest.raises(ValueError, match="pause ends"):
        due_with_pauses(raised, H, calendar, False, backwards)


# --- elapsed, remaining and state --------------------------------------------------------------


P2_RAISED = at(BERLIN, 2026, 11, 30, 8)  # Monday at opening; 8 business hours to resolve


@pytest.mark.parametrize(
    ("now", "used", "left", "expected"),
    [
        (at(BERLIN, 2026, 11, 30, 7), timedelta(0), 8 * H, "ok"),  # before it was raised
        (at(BERLIN, 2026, 11, 30, 9), H, 7 * H, "ok"),
        (at(BERLIN, 2026, 11, 30, 14, 24), 6 * H + 24 * MIN, 96 * MIN, "ok"),  # exactly 20% left
        (at(BERLIN, 2026, 11, 30, 14, 25), 6 * H + 25 * MIN, 95 * MIN, "at_risk"),
        (at(BERLIN, 2026, 11, 30, 16) - timedelta(microseconds=1), None, None, "at_risk"),
        (at(BERLIN, 2026, 11, 30, 16), 8 * H, timedelta(0), "breached"),
        (at(BERLIN, 2026, 11, 30, 17), 9 * H, -H, "breached"),
    ],
)
def test_the_state_agents_see_through_the_day(
    now: datetime, used: timedelta | None, left: timedelta | None, expected: str
) -> None:
    calendar = BusinessCalendar(BERLIN)

    if used is not None:
        assert elapsed(P2_RAISED, now, calendar, False, []) == used
        assert remaining(P2_RAISED, 8 * H, now, calendar, False, []) == left
    assert state(P2_RAISED, 8 * H, now, calendar, False, []) == expected


def test_the_night_does_not_use_up_the_sla() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 30, 12)

    overnight = at(BERLIN, 2026, 12, 1, 7)
    assert elapsed(raised, overnight, calendar, False, []) == 6 * H
    assert state(raised, 8 * H, overnight, calendar, False, []) == "ok"
    assert state(raised, 8 * H, at(BERLIN, 2026, 12, 1, 8, 25), calendar, False, []) == "at_risk"


def test_an_around_the_clock_sla_counts_the_night() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 27, 22)  # Friday night P1

    assert state(raised, 4 * H, raised + 3 * H + 12 * MIN, calendar, True, []) == "ok"
    assert state(raised, 4 * H, raised + 3 * H + 13 * MIN, calendar, True, []) == "at_risk"
    assert state(raised, 4 * H, raised + 4 * H, calendar, True, []) == "breached"
    assert elapsed(raised, raised + 90 * MIN, calendar, True, []) == 90 * MIN


def test_paused_time_is_not_elapsed() -> None:
    calendar = BusinessCalendar(BERLIN)
    waiting = [(at(BERLIN, 2026, 11, 30, 9), at(BERLIN, 2026, 11, 30, 11))]

    now = at(BERLIN, 2026, 11, 30, 12)
    assert elapsed(P2_RAISED, now, calendar, False, waiting) == 2 * H
    assert remaining(P2_RAISED, 8 * H, now, calendar, False, waiting) == 6 * H


def test_an_incident_waiting_on_the_requester_does_not_breach() -> None:
    calendar = BusinessCalendar(BERLIN)
    waiting = [(at(BERLIN, 2026, 11, 30, 10), None)]
    a_week_later = at(BERLIN, 2026, 12, 7, 12)

    assert elapsed(P2_RAISED, a_week_later, calendar, False, waiting) == 2 * H
    assert state(P2_RAISED, 8 * H, a_week_later, calendar, False, waiting) == "ok"


def test_the_state_turns_to_breached_exactly_at_the_due_time() -> None:
    calendar = BusinessCalendar(BERLIN)
    waiting = [(at(BERLIN, 2026, 11, 27, 17), at(BERLIN, 2026, 11, 30, 10))]
    for raised in _starts(BERLIN)[::7]:
        for around_the_clock in (False, True):
            due_time = due_with_pauses(raised, 8 * H, calendar, around_the_clock, waiting)
            assert due_time is not None
            before = due_time - timedelta(microseconds=1)
            args = (calendar, around_the_clock, waiting)
            assert state(raised, 8 * H, due_time, *args) == "breached"
            assert state(raised, 8 * H, before, *args) != "breached"
            assert remaining(raised, 8 * H, due_time, *args) == timedelta(0)


# --- policies ----------------------------------------------------------------------------------


def test_default_policies_follow_the_product_table() -> None:
    calendar = BusinessCalendar(BERLIN)

    assert {p: policy_for(p, calendar) for p in DEFAULT_POLICIES} == {
        "P1": Policy(15 * MIN, 4 * H, around_the_clock=True),
        "P2": Policy(H, 8 * H),
        "P3": Policy(4 * H, 30 * H),
        "P4": Policy(10 * H, 50 * H),
        "P5": Policy(20 * H, 100 * H),
    }


def test_an_admin_policy_table_replaces_the_default() -> None:
    calendar = BusinessCalendar(BERLIN, start=time(9), end=time(17, 30))
    policies = {"P1": PolicySpec(response_minutes=30, resolution_days=0.5)}

    assert calendar.day_length == 8.5 * H
    assert policy_for("P1", calendar, policies) == Policy(30 * MIN, 4 * H + 15 * MIN)


def test_an_unknown_priority_has_no_policy() -> None:
    with pytest.raises(ValueError, match="no SLA policy for priority 'P9'; known: P1, P2"):
        policy_for("P9", BusinessCalendar(BERLIN))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"response_minutes": -1}, "cannot be negative"),
        ({"resolution_days": -1}, "cannot be negative"),
        ({"resolution_days": 1, "around_the_clock": True}, "no business days"),
    ],
)
def test_a_policy_that_cannot_be_counted_is_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PolicySpec(**fields)


# --- calendars and input checks ----------------------------------------------------------------


def test_the_default_calendar_is_weekdays_eight_to_six() -> None:
    calendar = BusinessCalendar(BERLIN)

    assert calendar.days == frozenset(range(5))
    assert (calendar.start, calendar.end) == (time(8), time(18))
    assert calendar.day_length == 10 * H
    assert calendar.is_business_day(date(2026, 11, 27))  # Friday
    assert not calendar.is_business_day(date(2026, 11, 28))  # Saturday


def test_a_holiday_is_not_a_business_day() -> None:
    calendar = BusinessCalendar(BERLIN, holidays=frozenset({date(2026, 12, 25)}))

    assert not calendar.is_business_day(date(2026, 12, 25))
    assert calendar.is_business_day(date(2026, 12, 24))


def test_a_calendar_read_from_config_lists_is_still_hashable() -> None:
    config = {"days": [0, 1, 2], "holidays": [date(2026, 12, 25)]}  # as read from JSON or YAML
    calendar = BusinessCalendar(BERLIN, **config)

    assert calendar.days == frozenset({0, 1, 2})
    assert calendar.holidays == frozenset({date(2026, 12, 25)})
    assert hash(calendar) == hash(
        BusinessCalendar(BERLIN, frozenset({0, 1, 2}), holidays=frozenset({date(2026, 12, 25)}))
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tz": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        ({"tz": ""}, "unknown time zone"),
        ({"tz": BERLIN, "days": frozenset()}, "weekday numbers 0-6"),
        ({"tz": BERLIN, "days": frozenset({5, 7})}, "weekday numbers 0-6"),
        ({"tz": BERLIN, "start": time(18), "end": time(8)}, "must come before closing"),
        ({"tz": BERLIN, "start": time(8), "end": time(8)}, "must come before closing"),
        ({"tz": BERLIN, "start": time(8, tzinfo=UTC)}, "without a zone"),
    ],
)
def test_a_calendar_the_clock_could_not_run_on_is_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**fields)


def test_naive_times_are_refused_rather_than_guessed() -> None:
    calendar = BusinessCalendar(BERLIN)
    naive = datetime(2026, 11, 27, 17, 55)
    aware = at(BERLIN, 2026, 11, 27, 17, 55)

    with pytest.raises(ValueError, match="start must be timezone-aware"):
        add_business_time(naive, H, calendar)
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        due_at(naive, H, calendar, True)
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        business_time_between(aware, naive, calendar)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        elapsed(aware, naive, calendar, False, [])
    with pytest.raises(ValueError, match="pause start must be timezone-aware"):
        due_with_pauses(aware, H, calendar, False, [(naive, None)])


def test_a_negative_duration_is_refused() -> None:
    calendar = BusinessCalendar(BERLIN)
    raised = at(BERLIN, 2026, 11, 27, 17, 55)

    with pytest.raises(ValueError, match="duration cannot be negative"):
        add_business_time(raised, -H, calendar)
    with pytest.raises(ValueError, match="duration cannot be negative"):
        due_at(raised, -H, calendar, True)
