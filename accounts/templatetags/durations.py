"""{% load durations %}: leadhandoff.durations in templates."""

import datetime
import zoneinfo

from django import template

from leadhandoff.durations import date_words, duration_words, timestamp_full
from leadhandoff.html import markup

register = template.Library()
UTC = zoneinfo.ZoneInfo("UTC")


@register.filter(name="duration")
def duration(value) -> str:
    """{{ seconds_or_timedelta|duration }} → "3 h 10 min"."""
    return duration_words(value)


@register.filter(name="due_in")
def due_in(due, now) -> str:
    """{{ lead.sla_due_at|due_in:now }} → "3 h 10 min left" or "6 days overdue" (wall clock)."""
    if not due or not now:
        return ""
    seconds = (due - now).total_seconds()
    return f"{duration_words(seconds)} {'left' if seconds > 0 else 'overdue'}"


def _tz(reader) -> datetime.tzinfo:
    tz = getattr(reader, "tz", None) if reader is not None else None
    if isinstance(tz, datetime.tzinfo):
        return tz
    try:
        return zoneinfo.ZoneInfo(str(getattr(reader, "timezone", "") or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


@register.filter(name="when")
def when(moment, reader=None) -> str:
    """{{ lead.created_at|when:user }} → <time title="the full moment">28 Nov 2026, 14:05</time>,
    in the reader's time zone (User.timezone; UTC without one)."""
    if not isinstance(moment, datetime.datetime):
        return "" if moment is None else str(moment)
    tz = _tz(reader)
    return markup(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        timestamp_full(moment, tz=tz),
        date_words(moment, tz=tz),
    )
