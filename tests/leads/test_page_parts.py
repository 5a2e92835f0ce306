"""The brief's repeated parts written in Python (leads/templatetags/queue_rows.py) write what the
template loops they replaced wrote."""

import datetime
import zoneinfo

import pytest
from django.template import Context, Template

from leads.models import EngagementEvent, EventKind, RejectReason, TouchOutcome

LOOP_OPTIONS = Template(
    '{% for value, label in choices %}<option value="{{ value }}"{% if value == selected %} selected{% endif %}>'
    "{{ label }}</option>{% endfor %}"
)
TAG_OPTIONS = Template("{% load queue_rows %}{% select_options choices selected %}")

LOOP_EVENTS = Template(
    "{% load durations %}{% for event in events %}\n"
    '<li><span class="fw-semibold">{{ event.get_kind_display }}</span> <span class="small text-muted">'
    '{{ event.occurred_at|when:user }}</span>{% if event.properties.title %}<div class="small">'
    '{{ event.properties.title }}</div>{% elif event.properties.url %}<div class="small text-muted">'
    "{{ event.properties.url }}</div>{% endif %}</li>{% endfor %}"
)
TAG_EVENTS = Template("{% load queue_rows %}{% engagement_items events %}")


@pytest.mark.parametrize(
    "choices",
    [TouchOutcome.choices, RejectReason.choices, [("", "—"), ("a<b", 'say "hi"'), ("x&y", "it's")]],
)
@pytest.mark.parametrize("pick", [None, "", 0, 1, "nothing like it"])
def test_select_options_write_what_the_loop_wrote(choices, pick):
    selected = choices[pick][0] if isinstance(pick, int) else pick
    context = {"choices": choices, "selected": selected}
    assert TAG_OPTIONS.render(Context(context)) == LOOP_OPTIONS.render(Context(context))


class Reader:
    tz = zoneinfo.ZoneInfo("Europe/Paris")


def test_engagement_items_write_what_the_loop_wrote():
    at = datetime.datetime(2026, 11, 28, 9, 30, tzinfo=datetime.UTC)
    events = [
        EngagementEvent(kind=EventKind.PAGE_VIEW, occurred_at=at, properties={"url": "/pricing?a=1&b=<2>"}),
        EngagementEvent(kind=EventKind.values[1], occurred_at=at, properties={"title": 'Guide "2026"', "url": "/x"}),
        EngagementEvent(kind="custom_kind", occurred_at=at, properties={}),
        EngagementEvent(kind=EventKind.values[0], occurred_at=at, properties=["not", "a", "dict"]),
        EngagementEvent(kind=EventKind.values[0], occurred_at=at, properties={"title": ""}),
    ]
    context = {"events": events, "user": Reader()}
    expected = "".join(line.strip() for line in LOOP_EVENTS.render(Context(context)).split("\n"))
    written = "".join(line.strip() for line in TAG_EVENTS.render(Context(context)).split("\n"))
    assert written == expected
    assert "&lt;2&gt;" in written and "Guide &quot;2026&quot;" in written
