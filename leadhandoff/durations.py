"""Durations in words: the one formatter every page, export and message uses.

"3 h 10 min", "1 day 4 h", "6 days", "5 weeks" — never "3583h". Precision drops
as the duration grows, because nobody acts on the minutes of a week-old breach.
"""

from __future__ import annotations

import datetime

MINUTE, HOUR, DAY = 60, 3600, 86400


def duration_words(value: float | datetime.timedelta | None) -> str:
    """A duration (seconds or timedelta; the sign is ignored) in words."""
    if value is None:
        return ""
    seconds = abs(int(value.total_seconds() if isinstance(value, datetime.timedelta) else value))
    if seconds < MINUTE:
        return "under a minute"
    if seconds < HOUR:
        return f"{seconds // MINUTE} min"
    if seconds < DAY:
        hours, minutes = divmod(seconds // MINUTE, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(seconds // HOUR, 24)
    if days < 2:
        return f"1 day {hours} h" if hours else "1 day"
    if days < 14:
        return f"{days} days"
    if days < 61:
        return f"{days // 7} weeks"
    if days < 730:
        return f"{days // 30} months"
    return f"{days // 365} years"


def moment_words(moment: datetime.datetime, *, now: datetime.datetime, tz: datetime.tzinfo) -> str:
    """When, in the reader's time zone: "today 14:00", "tomorrow 09:30", "Monday 10:00", "3 Dec 10:00"."""
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    clock = local.strftime("%H:%M")
    days = (local.date() - today).days
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if days == -1:
        return f"yesterday {clock}"
    if 1 < days < 7:
        return f"{local:%A} {clock}"
    if local.year == today.year:
        return f"{local.day} {local:%b} {clock}"
    return f"{local.day} {local:%b %Y} {clock}"


def date_words(moment: datetime.datetime, *, tz: datetime.tzinfo, seconds: bool = False) -> str:
    """A moment in the reader's time zone, as people write it: "28 Nov 2026, 14:05"."""
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %Y, %H:%M:%S}" if seconds else f"{local.day} {local:%b %Y, %H:%M}"


def timestamp_full(moment: datetime.datetime, *, tz: datetime.tzinfo) -> str:
    """The full moment for a tooltip: "Saturday 28 November 2026, 14:05:31 Europe/Paris (UTC+01:00)"."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M:%S} {tz} (UTC{offset[:3]}:{offset[3:]})"
