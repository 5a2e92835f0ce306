"""{% load money %}: leadhandoff.money in templates."""

from django import template

from leadhandoff.money import money as money_words

register = template.Library()


@register.filter(name="money")
def money(value) -> str:
    """{{ lead.deal_value|money }} → "$12,000" (settings.CURRENCY)."""
    return money_words(value)
