"""The comparison's parameters as a form (the reports page) — the API takes the same fields."""

from __future__ import annotations

from django import forms

from accounts.models import Role, User
from leads.figures import CYCLE_STARTS

from .selectors import GROUP_BYS, ComparisonParams, teams_for_user

CYCLE_CHOICES = [("", "Default: assigned (MQLs), created (rep-sourced)")] + [
    (key, key.replace("_", " ").capitalize()) for key in CYCLE_STARTS
]


class ComparisonForm(forms.Form):
    since = forms.DateField(
        required=False, help_text="First day (UTC), inclusive", widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        required=False, help_text="Last day (UTC), inclusive", widget=forms.DateInput({"type": "date"})
    )
    cohort = forms.BooleanField(
        required=False, label="Cohort mode", help_text="Leads that entered the queue in the period (else: closed in it)"
    )
    group_by = forms.ChoiceField(choices=[(g, g.capitalize()) for g in GROUP_BYS], initial="origin")
    cycle_from = forms.ChoiceField(choices=CYCLE_CHOICES, required=False, label="Cycle starts at")
    team = forms.ModelChoiceField(queryset=None, required=False)
    region = forms.CharField(required=False, max_length=100)
    rep = forms.ModelChoiceField(queryset=User.objects.filter(role=Role.REP).order_by("username"), required=False)
    version = forms.IntegerField(required=False, min_value=1, label="Definition version")
    source = forms.CharField(required=False, max_length=100)
    campaign = forms.CharField(required=False, max_length=150)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for_user(user=user)
        if user.is_sales:
            self.fields["team"].required = True
            self.fields["team"].empty_label = None

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The period ends before it starts.")
        return data

    def params(self) -> ComparisonParams:
        d = self.cleaned_data
        return ComparisonParams(
            since=d.get("since"),
            until=d.get("until"),
            cohort=bool(d.get("cohort")),
            group_by=d.get("group_by") or "origin",
            cycle_from=d.get("cycle_from") or None,
            team_id=d["team"].pk if d.get("team") else None,
            region=d.get("region") or None,
            rep_id=d["rep"].pk if d.get("rep") else None,
            version=d.get("version"),
            source=d.get("source") or None,
            campaign=d.get("campaign") or None,
        )
