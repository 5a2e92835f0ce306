from django import template

register = template.Library()

RATE_KEYS = {
    "win_rate",
    "win_rate_low",
    "win_rate_high",
    "conversion",
    "conversion_low",
    "conversion_high",
    "sla_compliance",
}


@register.filter
def figure(value, key: str) -> str:
    """A report figure as shown: a rate in percent, a number as it is, "unknown" when the data cannot give it."""
    if value is None:
        return "unknown"
    if key in RATE_KEYS:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
