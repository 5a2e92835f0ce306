"""Small presentation helpers for the definition pages."""

from django import template

from scoring.services import rule_describe, value_display

register = template.Library()

STATE_BADGES = {
    "draft": "text-bg-secondary",
    "proposed": "text-bg-warning",
    "active": "text-bg-success",
    "retired": "text-bg-light border",
}
CHANGE_BADGES = {"added": "text-bg-success", "removed": "text-bg-danger", "changed": "text-bg-warning"}


@register.filter
def rule_text(rule: dict) -> str:
    return rule_describe(rule)


@register.filter
def show_value(value) -> str:
    return value_display(value)


@register.filter
def state_badge(state: str) -> str:
    return STATE_BADGES.get(state, "text-bg-secondary")


@register.filter
def change_badge(change: str) -> str:
    return CHANGE_BADGES.get(change, "text-bg-secondary")


@register.filter
def signed(value) -> str:
    try:
        return f"{int(value):+d}"
    except (TypeError, ValueError):
        return "–"


@register.filter
def percent(value) -> str:
    if value is None:
        return "–"
    return f"{float(value) * 100:.0f}%"


@register.filter
def pool_figure(value, rounding) -> str:
    """A count of pool leads: exact for marketing; for sales (rounding given, see
    scoring.selectors.figure_for_sales) "20+" or "fewer than 10"."""
    try:
        number = None if value is None else int(value)
    except (TypeError, ValueError):
        return "–"  # a figure stored by an older preview in another shape
    if not rounding:
        return "–" if number is None else f"{number:,}"
    if number is None:
        return f"fewer than {rounding['min_group']}"
    return f"{number:,}+"
