"""Money in words: the one formatter for deal values and revenue on every page and in history.

"$12,000", "$12,000.50", "€1,250", "12,000 CHF": the currency is settings.CURRENCY
(one per installation), whole amounts drop their cents.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$"}


def money(value: Decimal | float | int | str | None, currency: str | None = None) -> str:
    """`value` with its currency; "" for None or a value that is not a number."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not amount.is_finite():
        return str(value)
    code = (currency or settings.CURRENCY).upper()
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    figure = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {code}"
