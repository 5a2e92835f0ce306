"""{% load queue_rows %}: the parts of the queue and the brief that repeat, written in Python.

The queue is the page a rep opens fifty times a day. Django's template engine spends
about 0.1 ms of CPU per row on variable lookups and an include, so its 25 rows cost
more than the rest of the page; leadhandoff.html.markup writes the same markup (app.css and the
tests read its classes and data-testid) in a tenth of that. Values are escaped by
markup like a template's.
"""

from django import template
from django.utils.safestring import SafeString, mark_safe

from accounts.templatetags.durations import when
from leadhandoff.html import markup
from leads.models import EventKind, Origin, RepSourceChannel, Status

register = template.Library()

STATUS_BADGE = {Status.ASSIGNED: "warning", Status.WON: "success", Status.LOST: "secondary"}
# get_FOO_display() flattens the field's choices on every call; the labels don't change.
STATUS_LABELS = dict(Status.choices)
CHANNEL_LABELS = dict(RepSourceChannel.choices)
EVENT_LABELS = dict(EventKind.choices)
DASH = "—"
SELECTED = mark_safe(" selected")  # noqa: S308 - a constant


@register.filter
def status_badge(status: str) -> str:
    """{{ lead.status|status_badge }} → the Bootstrap colour of a status's badge."""
    return STATUS_BADGE.get(status, "primary")


@register.simple_tag
def clock_status(clock) -> SafeString:
    """An open first-contact clock in words and colour (leads.clock.selectors.ClockStatus)."""
    return markup(
        '<span class="badge text-bg-{}" data-testid="clock-state" data-state="{}">{}</span>\n'
        '<span class="small" data-testid="clock-left">{}</span>\n'
        '<div class="small text-muted" data-testid="clock-due">{}</div>',
        clock.css,
        clock.state,
        clock.label,
        clock.words,
        clock.due_words,
    )


def _due(lead) -> SafeString:
    clock = getattr(lead, "clock", None)
    if clock:
        return clock_status(clock)
    if lead.first_contact_at:
        return mark_safe('<span class="text-muted small">contacted</span>')  # noqa: S308 - a constant
    return mark_safe('<span class="text-muted small">no clock</span>')  # noqa: S308 - a constant


def queue_row(lead, *, reader, brief_prefix: str) -> SafeString:
    score = lead.score
    if lead.origin == Origin.REP_SOURCED:
        source = markup(
            '<span class="badge text-bg-info">Rep-sourced</span> <span class="small">{}</span>',
            CHANNEL_LABELS.get(lead.rep_source_channel, lead.rep_source_channel),
        )
    else:
        source = lead.source or DASH
    return markup(
        '<tr data-testid="queue-row" data-lead-id="{pk}">'
        '<td class="cell-lead"><a href="{prefix}{pk}/brief/" class="fw-semibold" data-testid="queue-lead">{name}</a>'
        '<div class="small text-muted text-break">{email}</div></td>'
        '<td class="cell-company" data-testid="queue-company">{company}{title}</td>'
        '<td class="cell-status"><span class="badge text-bg-{status_css}">{status}</span></td>'
        '<td class="text-end cell-score" data-testid="queue-score">{score}</td>'
        '<td class="cell-source">{source}</td>'
        '<td class="cell-due" data-testid="queue-due">{due}</td>'
        '<td class="cell-activity">{activity}</td>'
        '<td class="text-end cell-touches">{touches}</td>'
        "</tr>\n",
        pk=lead.pk,
        prefix=brief_prefix,
        name=str(lead),
        email=lead.email or "",
        company=lead.company or DASH,
        title=markup('<div class="small text-muted">{}</div>', lead.title) if lead.title else "",
        status_css=status_badge(lead.status),
        status=STATUS_LABELS.get(lead.status, lead.status),
        score=markup(
            '<span class="badge text-bg-light border score-pill"><span class="visually-hidden">Score </span>{}</span>',
            score,
        )
        if score is not None
        else mark_safe('<span class="text-muted">no score</span>'),  # noqa: S308 - a constant
        source=source,
        due=_due(lead),
        activity=when(lead.last_activity_at, reader) if lead.last_activity_at else DASH,
        touches=mark_safe('<span class="text-muted" title="Imported history without a touch count">unknown</span>')  # noqa: S308
        if lead.touch_count is None
        else lead.touch_count,
    )


@register.simple_tag(takes_context=True)
def queue_rows(context, leads, brief_prefix: str) -> SafeString:
    """Every row of the queue's table, for the signed-in reader."""
    reader = context.get("user")
    return mark_safe("".join(queue_row(lead, reader=reader, brief_prefix=brief_prefix) for lead in leads))  # noqa: S308 - rows of markup()


@register.simple_tag
def select_options(choices, selected) -> SafeString:
    """A <select>'s options, `selected` chosen: what {% for value, label in choices %}<option …>
    writes, compared as the template compares a form's value (text with text)."""
    chosen = None if selected is None else str(selected)
    return mark_safe(  # noqa: S308 - options of markup()
        "".join(
            markup('<option value="{}"{}>{}</option>', value, SELECTED if str(value) == chosen else "", label)
            for value, label in choices
        )
    )


@register.simple_tag(takes_context=True)
def engagement_items(context, events) -> SafeString:
    """The brief's engagement timeline: each event's kind, when, and its title or page."""
    reader = context.get("user")
    items = []
    for event in events:
        properties = event.properties if isinstance(event.properties, dict) else {}
        if properties.get("title"):
            detail = markup('<div class="small">{}</div>', properties["title"])
        elif properties.get("url"):
            detail = markup('<div class="small text-muted">{}</div>', properties["url"])
        else:
            detail = ""
        items.append(
            markup(
                '<li><span class="fw-semibold">{}</span> <span class="small text-muted">{}</span>{}</li>\n',
                EVENT_LABELS.get(event.kind, event.kind),
                when(event.occurred_at, reader),
                detail,
            )
        )
    return mark_safe("".join(items))  # noqa: S308 - items of markup()
