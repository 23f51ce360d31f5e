"""The SLA clock: business hours, policies, due times, pauses and the state agents see.

Every instant is handled in UTC. Business hours are wall-clock times in the calendar's zone, so
each business day's opening and closing are converted to UTC on their own date; that keeps
08:00 at 08:00 across daylight-saving changes, and subtracting UTC instants counts the hours
that really passed. The clock is a series of running intervals (business hours or all of time,
minus pauses); due times walk it until the duration is used, elapsed time sums it up to now.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Pause = tuple[datetime, datetime | None]
Interval = tuple[datetime, datetime]
State = Literal["ok", "at_risk", "breached"]

AT_RISK_SHARE = 0.2  # at risk once less than this share of the duration remains

_FOREVER = datetime.max.replace(tzinfo=UTC)  # the end of an open pause or a 24-hour clock


@dataclass(frozen=True)
class BusinessCalendar:
    """When the service desk is staffed, in local time, so SLAs only count hours agents work."""

    tz: str
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # date.weekday(): 0 is Monday
    start: time = time(8, 0)
    end: time = time(18, 0)
    holidays: frozenset[date] = frozenset()  # local dates

    def __post_init__(self) -> None:
        """Refuse a calendar the clock could never run on, and accept lists read from config."""
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {self.tz!r}") from None
        object.__setattr__(self, "days", frozenset(self.days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not self.days or not self.days <= set(range(7)):
            raise ValueError(f"business days must be weekday numbers 0-6, got {sorted(self.days)}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("opening and closing are local wall-clock times, without a zone")
        if self.start >= self.end:
            raise ValueError(f"opening {self.start} must come before closing {self.end}")

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's zone; zoneinfo caches instances, so this is cheap."""
        return ZoneInfo(self.tz)

    @property
    def day_length(self) -> timedelta:
        """The nominal length of one business day, which is what "1 business day" means."""
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    def is_business_day(self, d: date) -> bool:
        """Whether the desk is open on this local date: a working weekday and not a holiday."""
        return d.weekday() in self.days and d not in self.holidays


@dataclass(frozen=True)
class Policy:
    """The SLA for one priority as durations the clock can count."""

    response: timedelta
    resolution: timedelta
    around_the_clock: bool = False


@dataclass(frozen=True)
class PolicySpec:
    """An SLA as admins state it; business days only become hours against a calendar."""

    response_minutes: float = 0
    response_days: float = 0  # business days
    resolution_minutes: float = 0
    resolution_days: float = 0  # business days
    around_the_clock: bool = False

    def __post_init__(self) -> None:
        """Refuse durations the clock cannot count."""
        amounts = (
            self.response_minutes,
            self.response_days,
            self.resolution_minutes,
            self.resolution_days,
        )
        if any(amount < 0 for amount in amounts):
            raise ValueError("SLA durations cannot be negative")
        if self.around_the_clock and (self.response_days or self.resolution_days):
            raise ValueError("an around-the-clock SLA has no business days; give minutes")


DEFAULT_POLICIES: dict[str, PolicySpec] = {
    "P1": PolicySpec(response_minutes=15, resolution_minutes=4 * 60, around_the_clock=True),
    "P2": PolicySpec(response_minutes=60, resolution_minutes=8 * 60),
    "P3": PolicySpec(response_minutes=4 * 60, resolution_days=3),
    "P4": PolicySpec(response_days=1, resolution_days=5),
    "P5": PolicySpec(response_days=2, resolution_days=10),
}


def policy_for(
    priority: str,
    calendar: BusinessCalendar,
    policies: Mapping[str, PolicySpec] = DEFAULT_POLICIES,
) -> Policy:
    """Turn a priority's SLA into durations, a business day being the calendar's opening hours."""
    try:
        spec = policies[priority]
    except KeyError:
        raise ValueError(
            f"no SLA policy for priority {priority!r}; known: {', '.join(sorted(policies))}"
        ) from None
    day = calendar.day_length
    return Policy(
        response=timedelta(minutes=spec.response_minutes) + day * spec.response_days,
        resolution=timedelta(minutes=spec.resolution_minutes) + day * spec.resolution_days,
        around_the_clock=spec.around_the_clock,
    )


@dataclass(frozen=True)
class Terms:
    """The targets an incident is held to: the calendar and its priority's policy as they
    stood when it was raised or re-prioritised. Stored on the incident (``to_json``), so a
    later edit of a policy, the business hours or the holidays never moves an open
    incident's due times or turns it breached; only incidents raised (or re-prioritised)
    after the edit follow it."""

    calendar: BusinessCalendar
    policy: Policy
    priority: str = ""

    def to_json(self, since: date | None = None) -> dict:
        """A JSON snapshot; with `since`, holidays before that local date are left out (the
        clock never runs before the incident was raised)."""
        cal = self.calendar
        holidays = sorted(d for d in cal.holidays if since is None or d >= since)
        return {
            "priority": self.priority,
            "response_seconds": self.policy.response.total_seconds(),
            "resolution_seconds": self.policy.resolution.total_seconds(),
            "around_the_clock": self.policy.around_the_clock,
            "tz": cal.tz,
            "days": sorted(cal.days),
            "start": cal.start.isoformat(timespec="minutes"),
            "end": cal.end.isoformat(timespec="minutes"),
            "holidays": [d.isoformat() for d in holidays],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> Terms:
        """The terms back from a snapshot written by ``to_json``."""
        return cls(
            calendar=BusinessCalendar(
                tz=data["tz"],
                days=frozenset(int(d) for d in data["days"]),
                start=time.fromisoformat(data["start"]),
                end=time.fromisoformat(data["end"]),
                holidays=frozenset(date.fromisoformat(d) for d in data["holidays"]),
            ),
            policy=Policy(
                response=timedelta(seconds=float(data["response_seconds"])),
                resolution=timedelta(seconds=float(data["resolution_seconds"])),
                around_the_clock=bool(data["around_the_clock"]),
            ),
            priority=str(data.get("priority", "")),
        )


def add_business_time(start: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    """The instant (UTC) when `duration` of business time has passed since `start`."""
    end = _consume(_business_hours(_utc(start, "start"), calendar), _nonnegative(duration))
    assert end is not None  # noqa: S101 - business hours never run out
    return end


def business_time_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
    """Business time from `start` to `end`, negative if `end` is earlier, for pauses and reports."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if end < start:
        return -business_time_between(end, start, calendar)
    return _measure(_business_hours(start, calendar), end)


def due_at(
    start: datetime, duration: timedelta, calendar: BusinessCalendar, around_the_clock: bool
) -> datetime:
    """When an SLA without pauses falls due, in UTC."""
    if around_the_clock:
        return _utc(start, "start") + _nonnegative(duration)
    return add_business_time(start, duration, calendar)


def due_with_pauses(
    start: datetime,
    duration: timedelta,
    calendar: BusinessCalendar,
    around_the_clock: bool,
    pauses: Sequence[Pause] = (),
) -> datetime | None:
    """When the SLA falls due once pauses are skipped; None while an open pause stops the clock."""
    # Pausing after the time ran out does not undo the breach: that earlier due time is returned.
    running = _running(_utc(start, "start"), calendar, around_the_clock, pauses)
    return _consume(running, _nonnegative(duration))


def elapsed(
    start: datetime,
    now: datetime,
    calendar: BusinessCalendar,
    around_the_clock: bool,
    pauses: Sequence[Pause] = (),
) -> timedelta:
    """Clock time used from `start` to `now`, leaving out closed hours and pauses."""
    running = _running(_utc(start, "start"), calendar, around_the_clock, pauses)
    return _measure(running, _utc(now, "now"))


def remaining(
    start: datetime,
    duration: timedelta,
    now: datetime,
    calendar: BusinessCalendar,
    around_the_clock: bool,
    pauses: Sequence[Pause] = (),
) -> timedelta:
    """Clock time left before the SLA is breached; negative by how much it is overdue."""
    return _nonnegative(duration) - elapsed(start, now, calendar, around_the_clock, pauses)


def state(
    start: datetime,
    duration: timedelta,
    now: datetime,
    calendar: BusinessCalendar,
    around_the_clock: bool,
    pauses: Sequence[Pause] = (),
) -> State:
    """ "ok", "at_risk" (under a fifth left) or "breached", so queues can flag work in time."""
    left = remaining(start, duration, now, calendar, around_the_clock, pauses)
    if left <= timedelta(0):
        return "breached"
    if left < duration * AT_RISK_SHARE:
        return "at_risk"
    return "ok"


def _utc(value: datetime, name: str) -> datetime:
    """Normalise an aware instant to UTC; a naive one is refused, its zone would be a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


def _nonnegative(duration: timedelta) -> timedelta:
    """Refuse a negative SLA duration rather than return a due time before the start."""
    if duration < timedelta(0):
        raise ValueError(f"duration cannot be negative, got {duration}")
    return duration


def _business_hours(since: datetime, calendar: BusinessCalendar) -> Iterator[Interval]:
    """Each business day's open hours in UTC from `since` on; endless, callers stop walking."""
    zone = calendar.zone
    day = since.astimezone(zone).date()
    while True:
        if calendar.is_business_day(day):
            opens = datetime.combine(day, calendar.start, zone).astimezone(UTC)
            closes = datetime.combine(day, calendar.end, zone).astimezone(UTC)
            if closes > since:
                yield max(opens, since), closes
        day += timedelta(days=1)


def _merged_pauses(pauses: Iterable[Pause]) -> list[Interval]:
    """Pauses in UTC, sorted and merged so overlapping ones are not subtracted twice."""
    spans = []
    for begin, end in pauses:
        begin = _utc(begin, "pause start")
        end = _FOREVER if end is None else _utc(end, "pause end")
        if end < begin:
            raise ValueError(f"pause ends ({end}) before it starts ({begin})")
        spans.append((begin, end))
    merged: list[Interval] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _running(
    start: datetime, calendar: BusinessCalendar, around_the_clock: bool, pauses: Iterable[Pause]
) -> Iterator[Interval]:
    """The intervals in which the clock runs: its hours from `start`, minus the pauses."""
    # An open pause stops the clock for good, so the walk ends there rather than running forever.
    hours = iter([(start, _FOREVER)]) if around_the_clock else _business_hours(start, calendar)
    merged = _merged_pauses(pauses)
    stopped_from = merged[-1][0] if merged and merged[-1][1] == _FOREVER else None
    for begin, end in hours:
        if stopped_from is not None and begin >= stopped_from:
            return
        for pause_begin, pause_end in merged:
            if pause_end <= begin or pause_begin >= end:
                continue
            if pause_begin > begin:
                yield begin, pause_begin
            begin = pause_end
            if begin >= end:
                break
        if begin < end:
            yield begin, end


def _consume(intervals: Iterable[Interval], duration: timedelta) -> datetime | None:
    """The instant at which `duration` of the intervals is used; None if they run out first."""
    left = duration
    for begin, end in intervals:
        if left <= end - begin:
            return begin + left
        left -= end - begin
    return None


def _measure(intervals: Iterable[Interval], until: datetime) -> timedelta:
    """How much of the intervals lies before `until`."""
    total = timedelta(0)
    for begin, end in intervals:
        if begin >= until:
            break
        total += min(end, until) - begin
    return total
