"""{% load durations %}: leadhandoff.durations in templates."""

from django import template

from leadhandoff.durations import duration_words

register = template.Library()


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
