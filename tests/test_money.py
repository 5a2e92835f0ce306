"""leadhandoff.money: every deal value and revenue figure in settings.CURRENCY."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from leadhandoff.money import money


def test_amounts_read_with_the_currency_and_thousands(settings):
    settings.CURRENCY = "USD"
    assert money(Decimal("12000.00")) == "$12,000"
    assert money("1250.5") == "$1,250.50"
    assert money(-40) == "-$40"
    assert money(None) == ""
    assert money("n/a") == "n/a"
    assert money(10, currency="chf") == "10 CHF"


def test_the_template_filter_follows_the_setting(settings):
    settings.CURRENCY = "GBP"
    assert Template("{% load money %}{{ v|money }}").render(Context({"v": Decimal("99.90")})) == "£99.90"


@pytest.mark.parametrize("bad", ["dollars", "U1D", ""])
def test_a_bad_currency_setting_fails_at_start_up(bad, monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import leadhandoff.settings.base as base

    monkeypatch.setenv("CURRENCY", bad)
    with pytest.raises(ImproperlyConfigured, match="CURRENCY"):
        importlib.reload(base)
    monkeypatch.delenv("CURRENCY")
    importlib.reload(base)
