"""Business-time arithmetic: pure functions, so the tests pass datetimes rather than freeze the clock."""

import datetime
import time
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from accounts.business_time import (
    DEFAULT_WORKING_HOURS,
    calendar_around_the_clock,
    calendar_for,
    deadline_after,
    point_of_window,
    working_hours_clean,
    working_intervals,
    working_time_between,
)

UTC = datetime.UTC
H = datetime.timedelta(hours=1)
MIN = datetime.timedelta(minutes=1)
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
LUNCH_BREAK = [
    {"day": day, "start": start, "end": end}
    for day in range(5)
    for start, end in (("09:00", "12:00"), ("13:00", "17:00"))
]
EVERY_HOUR = [{"day": day, "start": "00:00", "end": "24:00"} for day in range(7)]


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def local(tz, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=tz)


def business(tz="Europe/Berlin", hours=DEFAULT_WORKING_HOURS, **kwargs):
    return calendar_for(timezone=tz, working_hours=hours, **kwargs)


# Around the clock: the 23:59 / 24:00 / 24:01 edges


def test_around_the_clock_a_24_hour_window_ends_24_hours_later_to_the_microsecond():
    cal = calendar_around_the_clock()
    assigned = utc(2026, 11, 27, 16, 30)
    due = deadline_after(assigned, 24 * H, cal)
    assert due == utc(2026, 11, 28, 16, 30)
    assert due.tzinfo is UTC
    assert working_time_between(assigned, assigned + 24 * H - MIN, cal) == 24 * H - MIN  # 23:59: not yet due
    assert working_time_between(assigned, assigned + 24 * H, cal) == 24 * H  # 24:00: exactly due
    assert working_time_between(assigned, assigned + 24 * H + MIN, cal) == 24 * H + MIN  # 24:01: past due


def test_around_the_clock_counts_real_hours_across_a_dst_change_whatever_the_input_zone():
    # 24 h after 12:00 CET on the Saturday before the spring change is 13:00 CEST (wall-clock
    # arithmetic on the Berlin datetime would say 12:00, an hour short).
    start = local(BERLIN, 2026, 3, 28, 12, 0)
    assert deadline_after(start, 24 * H, calendar_around_the_clock()) == utc(2026, 3, 29, 11, 0)


def test_every_hour_of_every_day_as_business_time_matches_around_the_clock_across_dst():
    cal = business("Europe/Berlin", EVERY_HOUR)
    for start in (local(BERLIN, 2026, 3, 28, 12), local(BERLIN, 2026, 10, 24, 12), utc(2026, 11, 27, 23, 59)):
        for duration in (24 * H - MIN, 24 * H, 24 * H + MIN, 100 * H):
            assert deadline_after(start, duration, cal) == deadline_after(start, duration, calendar_around_the_clock())


# Business hours: weekends, starts outside hours, window ends


def test_an_8_hour_window_from_friday_15_00_skips_the_weekend_to_monday_15_00():
    cal = business("Europe/Berlin")
    start = local(BERLIN, 2026, 11, 27, 15, 0)  # Friday
    assert deadline_after(start, 8 * H, cal) == local(BERLIN, 2026, 11, 30, 15, 0)  # Monday
    assert deadline_after(start, 8 * H, cal) == utc(2026, 11, 30, 14, 0)


def test_counting_starts_at_the_next_window_when_assigned_outside_hours():
    cal = business("Europe/Berlin")
    saturday_night = local(BERLIN, 2026, 11, 28, 23, 0)
    assert deadline_after(saturday_night, 2 * H, cal) == local(BERLIN, 2026, 11, 30, 11, 0)
    early_monday = local(BERLIN, 2026, 11, 30, 6, 0)
    assert deadline_after(early_monday, 2 * H, cal) == local(BERLIN, 2026, 11, 30, 11, 0)
    assert working_time_between(saturday_night, local(BERLIN, 2026, 11, 30, 9, 0), cal) == datetime.timedelta(0)


def test_a_deadline_ending_exactly_at_a_window_end_is_that_end_not_the_next_morning():
    cal = business("Europe/Berlin")
    monday_9 = local(BERLIN, 2026, 11, 30, 9, 0)
    assert deadline_after(monday_9, 8 * H, cal) == local(BERLIN, 2026, 11, 30, 17, 0)
    friday_13 = local(BERLIN, 2026, 11, 27, 13, 0)
    assert deadline_after(friday_13, 4 * H, cal) == local(BERLIN, 2026, 11, 27, 17, 0)  # not Monday 09:00


def test_a_lunch_break_does_not_count():
    cal = business("Europe/Berlin", LUNCH_BREAK)
    monday_11 = local(BERLIN, 2026, 11, 30, 11, 0)
    assert deadline_after(monday_11, 2 * H, cal) == local(BERLIN, 2026, 11, 30, 14, 0)
    assert deadline_after(monday_11, 1 * H, cal) == local(BERLIN, 2026, 11, 30, 12, 0)  # ends at the break
    at_lunch = local(BERLIN, 2026, 11, 30, 12, 30)
    assert deadline_after(at_lunch, 30 * MIN, cal) == local(BERLIN, 2026, 11, 30, 13, 30)
    assert working_time_between(monday_11, local(BERLIN, 2026, 11, 30, 18, 0), cal) == 5 * H
    assert list(working_intervals(monday_11, local(BERLIN, 2026, 11, 30, 14, 0), cal)) == [
        (utc(2026, 11, 30, 10, 0), utc(2026, 11, 30, 11, 0)),
        (utc(2026, 11, 30, 12, 0), utc(2026, 11, 30, 13, 0)),
    ]


def test_a_rep_in_tokyo_is_on_tokyo_hours_whatever_zone_the_start_is_given_in():
    cal = business("Asia/Tokyo")
    # Monday 2026-11-30 08:00 UTC is 17:00 in Tokyo: the rep's day is over, though Berlin's is not.
    start = utc(2026, 11, 30, 8, 0)
    assert deadline_after(start, 1 * H, cal) == local(TOKYO, 2026, 12, 1, 10, 0)
    assert deadline_after(start, 1 * H, cal) == utc(2026, 12, 1, 1, 0)
    assert deadline_after(start.astimezone(BERLIN), 1 * H, cal) == utc(2026, 12, 1, 1, 0)


# Holidays and closed dates


def test_a_us_public_holiday_is_skipped_including_its_observed_day():
    cal = business("America/New_York", country="US")
    thursday = local(NEW_YORK, 2026, 7, 2, 16, 0)  # Friday 3 July is Independence Day (observed)
    assert deadline_after(thursday, 2 * H, cal) == local(NEW_YORK, 2026, 7, 6, 10, 0)
    assert deadline_after(thursday, 2 * H, business("America/New_York")) == local(NEW_YORK, 2026, 7, 3, 10, 0)


def test_german_unity_day_is_skipped():
    cal = business("Europe/Berlin", country="DE")
    thursday = local(BERLIN, 2025, 10, 2, 16, 0)  # Friday 3 October 2025
    assert deadline_after(thursday, 2 * H, cal) == utc(2025, 10, 6, 8, 0)


def test_a_walk_across_new_year_sees_next_years_holidays():
    cal = business("Europe/Berlin", country="DE")
    deadline_after(local(BERLIN, 2026, 6, 1, 9, 0), H, cal)  # the 2026 holidays are loaded first
    new_years_eve = local(BERLIN, 2026, 12, 31, 16, 0)  # Thursday; Friday 1 January 2027 is closed
    assert deadline_after(new_years_eve, 2 * H, cal) == local(BERLIN, 2027, 1, 4, 10, 0)


def test_the_subdivision_picks_its_own_holidays():
    tuesday_epiphany = local(BERLIN, 2026, 1, 6, 9, 0)  # a holiday in Bavaria, not in Berlin
    bavaria = business("Europe/Berlin", country="DE", subdivision="BY")
    berlin = business("Europe/Berlin", country="DE", subdivision="BE")
    assert deadline_after(tuesday_epiphany, H, bavaria) == local(BERLIN, 2026, 1, 7, 10, 0)
    assert deadline_after(tuesday_epiphany, H, berlin) == local(BERLIN, 2026, 1, 6, 10, 0)


def test_a_team_closed_date_is_skipped():
    cal = business("Europe/Berlin", closed_dates=[datetime.date(2026, 12, 1)])
    monday = local(BERLIN, 2026, 11, 30, 16, 0)
    assert deadline_after(monday, 2 * H, cal) == local(BERLIN, 2026, 12, 2, 10, 0)
    assert working_time_between(monday, local(BERLIN, 2026, 12, 2, 9, 0), cal) == H


def test_an_unknown_time_zone_or_holiday_country_is_refused():
    with pytest.raises(ValueError, match="Unknown time zone"):
        business("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="No public holiday calendar for 'XX'"):
        business(country="XX")
    with pytest.raises(ValueError, match="'DE-ZZ'"):
        business(country="DE", subdivision="ZZ")


# DST: both changes in New York and Berlin


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # Berlin springs forward on Sunday 2026-03-29: Friday 16:00 CET + 2 h -> Monday 10:00 CEST.
        (local(BERLIN, 2026, 3, 27, 16, 0), 2 * H, utc(2026, 3, 30, 8, 0)),
        # Berlin falls back on Sunday 2026-10-25: Friday 16:00 CEST + 2 h -> Monday 10:00 CET.
        (local(BERLIN, 2026, 10, 23, 16, 0), 2 * H, utc(2026, 10, 26, 9, 0)),
        # New York springs forward on Sunday 2026-03-08: Friday 16:00 EST + 2 h -> Monday 10:00 EDT.
        (local(NEW_YORK, 2026, 3, 6, 16, 0), 2 * H, utc(2026, 3, 9, 14, 0)),
        # New York falls back on Sunday 2026-11-01: Friday 16:00 EDT + 2 h -> Monday 10:00 EST.
        (local(NEW_YORK, 2026, 10, 30, 16, 0), 2 * H, utc(2026, 11, 2, 15, 0)),
    ],
)
def test_a_business_window_across_a_dst_change_lands_on_local_office_hours(start, duration, due):
    cal = business(str(start.tzinfo))
    assert deadline_after(start, duration, cal) == due


@pytest.mark.parametrize(
    ("tz", "sunday", "hours_that_day"),
    [
        (BERLIN, datetime.date(2026, 3, 29), 23),
        (BERLIN, datetime.date(2026, 10, 25), 25),
        (NEW_YORK, datetime.date(2026, 3, 8), 23),
        (NEW_YORK, datetime.date(2026, 11, 1), 25),
    ],
)
def test_a_window_spanning_the_change_itself_counts_the_hours_that_really_passed(tz, sunday, hours_that_day):
    cal = business(str(tz), [{"day": 6, "start": "00:00", "end": "24:00"}])
    midnight = datetime.datetime.combine(sunday, datetime.time(0), tzinfo=tz)
    next_midnight = datetime.datetime.combine(sunday + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)
    assert working_time_between(midnight, next_midnight, cal) == hours_that_day * H
    assert deadline_after(midnight, hours_that_day * H, cal) == next_midnight
    # 10:00 local is 10 real hours after midnight on a normal day, 9 or 11 on the change day.
    assert deadline_after(midnight, (hours_that_day - 14) * H, cal) == local(
        tz, sunday.year, sunday.month, sunday.day, 10
    )


def test_a_window_starting_or_ending_in_the_spring_gap_neither_crashes_nor_goes_negative():
    # New York skips 02:00-03:00 on 2026-03-08. A nonexistent 02:30 is read with the
    # winter offset, i.e. as 03:30 EDT, whether a window starts or ends there.
    starts_in_gap = business("America/New_York", [{"day": 6, "start": "02:30", "end": "04:00"}])
    day_start = local(NEW_YORK, 2026, 3, 8, 0, 0)
    assert list(working_intervals(day_start, day_start + 24 * H, starts_in_gap)) == [
        (local(NEW_YORK, 2026, 3, 8, 3, 30), local(NEW_YORK, 2026, 3, 8, 4, 0))
    ]
    ends_in_gap = business("America/New_York", [{"day": 6, "start": "01:00", "end": "02:30"}])
    assert list(working_intervals(day_start, day_start + 24 * H, ends_in_gap)) == [
        (local(NEW_YORK, 2026, 3, 8, 1, 0), local(NEW_YORK, 2026, 3, 8, 3, 30))
    ]
    # 01:30-02:30 then 03:00-04:00: read naively the first ends at 03:30 EDT, after the
    # second starts; counted once, the day holds 1.5 h (01:30 EST to 04:00 EDT).
    across_gap = business(
        "America/New_York",
        [{"day": 6, "start": "01:30", "end": "02:30"}, {"day": 6, "start": "03:00", "end": "04:00"}],
    )
    assert list(working_intervals(day_start, day_start + 24 * H, across_gap)) == [
        (local(NEW_YORK, 2026, 3, 8, 1, 30), local(NEW_YORK, 2026, 3, 8, 3, 30)),
        (local(NEW_YORK, 2026, 3, 8, 3, 30), local(NEW_YORK, 2026, 3, 8, 4, 0)),
    ]
    assert deadline_after(day_start, 90 * MIN, across_gap) == local(NEW_YORK, 2026, 3, 8, 4, 0)
    inside_gap = business(
        "America/New_York",
        [{"day": 6, "start": "02:10", "end": "02:50"}, {"day": 6, "start": "02:50", "end": "03:20"}],
    )
    intervals = list(working_intervals(day_start, day_start + 24 * H, inside_gap))
    assert all(begin < end for begin, end in intervals)
    assert all(prev_end <= begin for (_, prev_end), (begin, _) in zip(intervals, intervals[1:], strict=False))


# No working time, bad input


def test_a_calendar_without_working_time_raises_instead_of_looping():
    with pytest.raises(ValueError, match="no working time within ten years"):
        deadline_after(utc(2026, 11, 27), H, business(hours=[]))
    every_day_closed = business(
        hours=[{"day": 0, "start": "09:00", "end": "10:00"}],
        closed_dates=[datetime.date(2026, 11, 30) + datetime.timedelta(weeks=w) for w in range(600)],
    )
    with pytest.raises(ValueError, match="no working time within ten years"):
        deadline_after(utc(2026, 11, 27), H, every_day_closed)


def test_naive_datetimes_and_negative_durations_are_refused():
    cal = business()
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_after(datetime.datetime(2026, 11, 27, 9), H, cal)
    with pytest.raises(ValueError, match="negative"):
        deadline_after(utc(2026, 11, 27), -H, cal)
    with pytest.raises(ValueError, match="fraction"):
        point_of_window(utc(2026, 11, 27), H, 0, cal)


def test_working_time_between_is_zero_when_end_is_not_after_start():
    cal = calendar_around_the_clock()
    assert working_time_between(utc(2026, 11, 27, 10), utc(2026, 11, 27, 9), cal) == datetime.timedelta(0)
    assert working_time_between(utc(2026, 11, 27, 10), utc(2026, 11, 27, 10), business()) == datetime.timedelta(0)


def test_warning_points_fall_at_their_fraction_of_business_time():
    cal = business("Europe/Berlin")
    friday_15 = local(BERLIN, 2026, 11, 27, 15, 0)
    assert point_of_window(friday_15, 8 * H, 0.5, cal) == local(BERLIN, 2026, 11, 30, 11, 0)
    assert point_of_window(friday_15, 8 * H, 0.9, cal) == local(BERLIN, 2026, 11, 30, 14, 12)
    assert point_of_window(friday_15, 8 * H, 1, cal) == deadline_after(friday_15, 8 * H, cal)


def test_a_long_business_walk_is_fast():
    cal = business("America/New_York", LUNCH_BREAK, country="US")
    start = utc(2026, 11, 27, 12)
    deadline_after(start, 24 * H, cal)  # load the holidays once
    began = time.perf_counter()
    for _ in range(100):
        deadline_after(start, 24 * H, cal)
    assert (time.perf_counter() - began) / 100 < 0.005  # measured ~25 µs a walk; 5 ms leaves room for a loaded machine


# working_hours_clean


def test_working_hours_are_normalised_and_sorted():
    raw = [
        {"day": 1, "start": "13:00", "end": "24:00"},
        {"day": 1, "start": "9:00", "end": "12:00"},
        {"day": 0, "start": datetime.time(8, 30), "end": "12:00"},
        {"day": 0, "start": "12:00", "end": "13:00"},  # touching windows are fine
    ]
    assert working_hours_clean(raw) == [
        {"day": 0, "start": "08:30", "end": "12:00"},
        {"day": 0, "start": "12:00", "end": "13:00"},
        {"day": 1, "start": "09:00", "end": "12:00"},
        {"day": 1, "start": "13:00", "end": "24:00"},
    ]
    assert working_hours_clean(DEFAULT_WORKING_HOURS) == DEFAULT_WORKING_HOURS


def messages(raw, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        working_hours_clean(raw, **kwargs)
    return caught.value.messages


def test_overlapping_windows_are_refused_naming_both():
    raw = [{"day": 1, "start": "09:00", "end": "13:00"}, {"day": 1, "start": "12:00", "end": "14:00"}]
    assert messages(raw) == ["Tuesday 12:00–14:00 overlaps 09:00–13:00."]


def test_an_end_not_after_its_start_is_refused():
    assert messages([{"day": 2, "start": "17:00", "end": "09:00"}]) == [
        "Wednesday (window 1): end 09:00 must be after start 17:00."
    ]
    assert messages([{"day": 2, "start": "09:00", "end": "09:00"}]) == [
        "Wednesday (window 1): end 09:00 must be after start 09:00."
    ]


def test_a_bad_day_or_time_is_refused():
    assert messages([{"day": 7, "start": "09:00", "end": "17:00"}]) == [
        "Window 1: day must be 0 (Monday) to 6 (Sunday), not 7."
    ]
    assert messages([{"day": "Monday", "start": "09:00", "end": "17:00"}])[0].startswith("Window 1: day must be")
    assert messages([{"day": True, "start": "09:00", "end": "17:00"}])[0].startswith("Window 1: day must be")
    assert messages([{"day": 0, "start": "24:00", "end": "24:00"}]) == [
        "Monday (window 1): start '24:00' is not a time like 09:00."
    ]
    assert messages([{"day": 0, "start": "09:60", "end": "25:00"}]) == [
        "Monday (window 1): start '09:60' is not a time like 09:00.",
        "Monday (window 1): end '25:00' is not a time like 17:00 (or 24:00).",
    ]
    assert messages(["09:00-17:00"]) == ["Window 1: expected day, start and end."]
    assert messages("Mon-Fri 9-5") == ["Working hours must be a list of windows."]


def test_empty_working_hours_only_when_the_caller_allows_them():
    assert messages([]) == ["Give at least one working window."]
    assert working_hours_clean([], allow_empty=True) == []


def test_more_than_six_windows_a_day_on_average_is_refused():
    raw = [{"day": d, "start": f"{h:02d}:00", "end": f"{h:02d}:30"} for d in range(7) for h in range(7)]
    assert messages(raw) == ["At most 42 working windows (six a day); got 49."]
    assert len(working_hours_clean(raw[:42])) == 42


# Properties


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "America/Santiago"]
HOURS = [
    DEFAULT_WORKING_HOURS,
    LUNCH_BREAK,
    EVERY_HOUR,
    # windows ending inside the usual change hours (02:00-03:00, and midnight in Santiago)
    [
        {"day": d, "start": s, "end": e}
        for d in (0, 5, 6)
        for s, e in (("00:00", "00:30"), ("01:30", "02:30"), ("03:00", "24:00"))
    ],
]
starts = st.datetimes(
    min_value=datetime.datetime(2025, 1, 1), max_value=datetime.datetime(2028, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(hours=300))


@given(start=starts, duration=durations, tz=st.sampled_from(ZONES), hours=st.sampled_from(HOURS), us=st.booleans())
def test_the_working_time_up_to_a_deadline_is_the_duration(start, duration, tz, hours, us):
    cal = business(tz, hours, country="US" if us else "")
    due = deadline_after(start, duration, cal)
    assert due >= start
    assert working_time_between(start, due, cal) == duration
    # Nothing is left to count at the deadline itself: a moment earlier is short of the duration.
    if duration:
        assert working_time_between(start, due - datetime.timedelta(microseconds=1), cal) < duration


@given(start=starts, span=durations, tz=st.sampled_from(ZONES), hours=st.sampled_from(HOURS))
def test_working_intervals_are_ordered_disjoint_and_inside_the_range(start, span, tz, hours):
    cal = business(tz, hours)
    intervals = list(working_intervals(start, start + span, cal))
    assert all(start <= begin < end <= start + span for begin, end in intervals)
    assert all(prev_end <= begin for (_, prev_end), (begin, _) in zip(intervals, intervals[1:], strict=False))
