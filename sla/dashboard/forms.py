"""The dashboard's filters (period, team, rep; a figure and a week for the drill-down).

One form for the page, the drill-down, the CSV and the API, so a period means the same everywhere.
"""

from __future__ import annotations

import datetime

from django import forms

from sla.dashboard.selectors import (
    DEFAULT_DAYS,
    FIGURES,
    MAX_PERIOD_DAYS,
    PERIOD_DAYS,
    Period,
    period_between,
    period_last,
)

PERIOD_CHOICES = [(str(d), f"Last {d} days") for d in PERIOD_DAYS] + [("custom", "Custom dates")]


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, initial=str(DEFAULT_DAYS))
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    rep = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        period = data.get("period") or str(DEFAULT_DAYS)
        data["period"] = period
        start, end = data.get("start"), data.get("end")
        if period == "custom":
            if not start or not end:
                raise forms.ValidationError("Give both dates of a custom period.")
            if start > end:
                self.add_error("end", "The last day comes on or after the first.")
            elif (end - start).days + 1 > MAX_PERIOD_DAYS:
                self.add_error("end", f"A period spans at most {MAX_PERIOD_DAYS} days.")
        return data

    def chosen_period(self, *, now: datetime.datetime, tz: datetime.tzinfo) -> Period:
        """The period asked for (call after is_valid); the default, last 30 days, otherwise."""
        data = self.cleaned_data if self.is_valid() else {}
        key = data.get("period") or str(DEFAULT_DAYS)
        if key == "custom":
            return period_between(first=data["start"], last=data["end"], tz=tz)
        return period_last(days=int(key), now=now, tz=tz)


class DrillDownForm(DashboardFilterForm):
    figure = forms.ChoiceField(choices=list(FIGURES.items()), required=False)
    week = forms.DateField(required=False, help_text="The Monday of one week of the period.")

    def clean_figure(self) -> str:
        return self.cleaned_data.get("figure") or "came_due"
