"""An analysis's parameters as a form (the cherry-pick and credit pages); the API takes the same fields."""

from __future__ import annotations

from django import forms

from accounts.models import User
from reports.selectors import teams_for_user


class AnalysisForm(forms.Form):
    since = forms.DateField(help_text="First day (UTC), inclusive", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(help_text="Last day (UTC), inclusive", widget=forms.DateInput({"type": "date"}))
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All teams")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for_user(user=user)
        if user.is_sales:
            self.fields["team"].required = True
            self.fields["team"].empty_label = None

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The period ends before it starts.")
        return data
