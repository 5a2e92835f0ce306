"""Business-time arithmetic for the first-contact clock: pure functions, no ORM, no clock.

A calendar is a time zone, working windows per weekday and closed days (public holidays
from the `holidays` package plus a team's own closed dates). Working time is real elapsed
time (UTC), so a window spanning a DST change counts the hours that actually passed.
The walk goes one local day at a time and never minute by minute.
"""

import datetime
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.core.exceptions import ValidationError

UTC = datetime.UTC
ONE_DAY = datetime.timedelta(days=1)
# A walk gives up after about ten years of local days: a calendar with no working time
# at all (or every day closed) must fail loudly rather than loop for ever.
MAX_DAYS = 3_700
MAX_WINDOWS = 7 * 6
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

WorkingHours = list[dict]  # [{"day": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}, ...]; end may be "24:00"
Window = tuple[datetime.time, datetime.time | None]  # None end = midnight at the end of the day (24:00)

DEFAULT_WORKING_HOURS: WorkingHours = [{"day": day, "start": "09:00", "end": "17:00"} for day in range(5)]

_HH_MM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _minutes(value, *, allow_24: bool) -> int | None:
    """Minutes since midnight of an 'HH:MM' string (or a time), or None when it is not one."""
    if isinstance(value, datetime.time):
        return None if value.second or value.microsecond else value.hour * 60 + value.minute
    match = _HH_MM.match(value) if isinstance(value, str) else None
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        return None
    return hours * 60 + minutes


def _hh_mm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def working_hours_clean(raw, *, allow_empty: bool = False) -> WorkingHours:
    """Validate and normalise working hours: sorted by (day, start), times as 'HH:MM'.

    Raises ValidationError listing every problem found, in words a manager can act on.
    """
    if not isinstance(raw, list | tuple):
        raise ValidationError("Working hours must be a list of windows.")
    if not raw and not allow_empty:
        raise ValidationError("Give at least one working window.")
    if len(raw) > MAX_WINDOWS:
        raise ValidationError(f"At most {MAX_WINDOWS} working windows (six a day); got {len(raw)}.")
    errors: list[str] = []
    spans: list[tuple[int, int, int]] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors.append(f"Window {number}: expected day, start and end.")
            continue
        day = item.get("day")
        start = _minutes(item.get("start"), allow_24=False)
        end = _minutes(item.get("end"), allow_24=True)
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            errors.append(f"Window {number}: day must be 0 (Monday) to 6 (Sunday), not {day!r}.")
            continue
        where = f"{DAY_NAMES[day]} (window {number})"
        if start is None:
            errors.append(f"{where}: start {item.get('start')!r} is not a time like 09:00.")
        if end is None:
            errors.append(f"{where}: end {item.get('end')!r} is not a time like 17:00 (or 24:00).")
        if start is None or end is None:
            continue
        if end <= start:
            errors.append(f"{where}: end {_hh_mm(end)} must be after start {_hh_mm(start)}.")
            continue
        spans.append((day, start, end))
    spans.sort()
    for (day, start, end), (next_day, next_start, next_end) in zip(spans, spans[1:], strict=False):
        if day == next_day and next_start < end:  # touching windows (12:00–13:00, 13:00–17:00) are fine
            errors.append(
                f"{DAY_NAMES[day]} {_hh_mm(next_start)}–{_hh_mm(next_end)} overlaps {_hh_mm(start)}–{_hh_mm(end)}."
            )
    if errors:
        raise ValidationError(errors)
    return [{"day": day, "start": _hh_mm(start), "end": _hh_mm(end)} for day, start, end in spans]


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str) -> holidays.HolidayBase:
    # expand=True (the default) populates a year the first time one of its dates is looked
    # up, so a walk crossing New Year sees next year's holidays. Observed days count as closed.
    return holidays.country_holidays(country, subdiv=subdivision or None)


@dataclass(frozen=True)
class WorkingCalendar:
    tz: zoneinfo.ZoneInfo
    windows: tuple[tuple[Window, ...], ...]  # index = weekday (Monday = 0), each sorted and disjoint
    closed: frozenset[datetime.date] = frozenset()  # the team's own closed dates
    country: str = ""  # public holidays of this country (and subdivision) are closed too
    subdivision: str = ""
    always: bool = False  # around the clock: every instant counts

    def is_closed(self, day: datetime.date) -> bool:
        return day in self.closed or (bool(self.country) and day in _public_holidays(self.country, self.subdivision))


_FULL_DAY: tuple[Window, ...] = ((datetime.time(0), None),)


def calendar_around_the_clock() -> WorkingCalendar:
    return WorkingCalendar(tz=zoneinfo.ZoneInfo("UTC"), windows=(_FULL_DAY,) * 7, always=True)


def calendar_for(
    *,
    timezone: str,
    working_hours: WorkingHours,
    country: str = "",
    subdivision: str = "",
    closed_dates: Iterable[datetime.date] = (),
) -> WorkingCalendar:
    try:
        tz = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {timezone!r}.") from exc
    if country:
        try:
            _public_holidays(country, subdivision)
        except NotImplementedError as exc:
            where = f"{country}-{subdivision}" if subdivision else country
            raise ValueError(f"No public holiday calendar for {where!r}.") from exc
    per_day: list[list[Window]] = [[] for _ in range(7)]
    for window in working_hours_clean(working_hours, allow_empty=True):
        start = datetime.time.fromisoformat(window["start"])
        end = None if window["end"] == "24:00" else datetime.time.fromisoformat(window["end"])
        per_day[window["day"]].append((start, end))
    closed = frozenset(d.date() if isinstance(d, datetime.datetime) else d for d in closed_dates)
    return WorkingCalendar(
        tz=tz,
        windows=tuple(tuple(day) for day in per_day),
        closed=closed,
        country=country,
        subdivision=subdivision,
    )


def _aware_utc(moment: datetime.datetime, name: str) -> datetime.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware.")
    # Arithmetic on a datetime in a ZoneInfo zone is wall-clock arithmetic; in UTC it is real time.
    return moment.astimezone(UTC)


def _walk(start: datetime.datetime, calendar: WorkingCalendar, last_day: datetime.date) -> Iterator[tuple]:
    """Working intervals in UTC from `start` on, in order, disjoint and non-empty, up to local `last_day`.

    Local times are read with datetime.combine(day, t, tzinfo=tz) (PEP 495 fold=0): a time
    skipped by a spring-forward gap (02:30 in New York on 2026-03-08) is read with the
    offset in force before the change, so it lands after the change (03:30 EDT); an
    ambiguous fall-back time is its first occurrence. The gap reading is not monotonic, so
    each interval is clamped to start no earlier than the previous one ended and to end no
    earlier than it starts: never a negative or overlapping interval, at worst a window
    shortened by the part of it that did not exist.
    """
    if not any(calendar.windows):
        return
    floor = start
    tz = calendar.tz
    day = start.astimezone(tz).date()
    while day <= last_day:
        windows = calendar.windows[day.weekday()]
        if windows and not calendar.is_closed(day):
            for opens, closes in windows:
                begin = datetime.datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
                if closes is None:
                    end = datetime.datetime.combine(day + ONE_DAY, datetime.time(0), tzinfo=tz).astimezone(UTC)
                else:
                    end = datetime.datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
                begin = max(begin, floor)
                if end > begin:
                    yield begin, end
                    floor = end
        day += ONE_DAY


def working_intervals(
    start: datetime.datetime, end: datetime.datetime, calendar: WorkingCalendar
) -> Iterator[tuple[datetime.datetime, datetime.datetime]]:
    """UTC intervals of working time within [start, end), in order and disjoint."""
    start, end = _aware_utc(start, "start"), _aware_utc(end, "end")
    if end <= start:
        return
    if calendar.always:
        yield start, end
        return
    for begin, finish in _walk(start, calendar, end.astimezone(calendar.tz).date()):
        if begin >= end:
            return
        yield begin, min(finish, end)


def deadline_after(
    start: datetime.datetime, duration: datetime.timedelta, calendar: WorkingCalendar
) -> datetime.datetime:
    """The instant (UTC) when `duration` of working time has elapsed since `start`.

    Counting starts at `start` inside a window, else at the next window's start. A deadline
    that falls exactly on a window's end is that end, not the next window's start.
    """
    start = _aware_utc(start, "start")
    if duration < datetime.timedelta(0):
        raise ValueError("duration must not be negative.")
    if calendar.always:
        return start + duration
    remaining = duration
    last_day = start.astimezone(calendar.tz).date() + datetime.timedelta(days=MAX_DAYS)
    for begin, end in _walk(start, calendar, last_day):
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    raise ValueError("no working time within ten years")


def working_time_between(
    start: datetime.datetime, end: datetime.datetime, calendar: WorkingCalendar
) -> datetime.timedelta:
    """Working time elapsed in [start, end); zero when end <= start."""
    return sum((finish - begin for begin, finish in working_intervals(start, end, calendar)), datetime.timedelta(0))


def point_of_window(
    start: datetime.datetime, duration: datetime.timedelta, fraction: float, calendar: WorkingCalendar
) -> datetime.datetime:
    """The instant when `fraction` (0 < f <= 1) of the working `duration` has elapsed, e.g. a 90% warning."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be above 0 and at most 1, not {fraction!r}.")
    return deadline_after(start, duration * fraction, calendar)
