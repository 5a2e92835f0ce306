"""Forms of the managers' routing pages: a routing rule, and the bulk reassignment."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row, Submit
from django import forms

from accounts.models import Team
from leadhandoff.api import ApplicationError
from leadhandoff.forms import form_errors_add
from leads.models import AssignmentRule
from leads.routing.services import LIST_CONDITIONS, REASON_MAX_LENGTH, conditions_clean


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), help_text="Where matching leads go.")
    strategy = forms.ChoiceField(
        choices=AssignmentRule.Strategy.choices,
        initial=AssignmentRule.Strategy.ROUND_ROBIN,
        help_text="How the team's reps share the leads (weights are set on each rep's profile).",
    )
    enabled = forms.BooleanField(required=False, initial=True)
    skip_outside_working_hours = forms.BooleanField(
        required=False, label="Skip reps outside their working hours", help_text="In each rep's own time zone."
    )
    country = forms.CharField(
        required=False,
        label="Countries",
        help_text="Comma-separated, e.g. US, CA. A lead matches by country or region.",
    )
    region = forms.CharField(required=False, label="Regions", help_text="Comma-separated, e.g. EMEA, Nordics.")
    industry = forms.CharField(required=False, label="Industries", help_text="Comma-separated.")
    source = forms.CharField(required=False, label="Sources", help_text="Comma-separated, e.g. webinar, paid_search.")
    company_size_min = forms.IntegerField(required=False, min_value=0, label="Company size from")
    company_size_max = forms.IntegerField(required=False, min_value=0, label="Company size up to")
    score_min = forms.IntegerField(required=False, label="Score from")
    score_max = forms.IntegerField(required=False, label="Score up to")

    def __init__(self, *args, teams, rule: AssignmentRule | None = None, **kwargs):
        if rule is not None and "initial" not in kwargs:
            initial = {
                "name": rule.name,
                "team": rule.team_id,
                "strategy": rule.strategy,
                "enabled": rule.enabled,
                "skip_outside_working_hours": rule.skip_outside_working_hours,
            }
            for key, value in (rule.conditions or {}).items():
                initial[key] = ", ".join(value) if key in LIST_CONDITIONS else value
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        if rule is None and not self.is_bound and len(teams) == 1:
            self.initial.setdefault("team", teams[0].id)  # a manager of one team need not pick it
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-6"), Column("team", css_class="col-md-6")),
            Row(Column("strategy", css_class="col-md-6"), Column("enabled", "skip_outside_working_hours")),
            Fieldset(
                "Conditions",
                HTML(
                    '<p class="text-muted small">Leave a condition empty to ignore it. '
                    "A rule without conditions catches every lead that reaches it.</p>"
                ),
                Row(Column("country"), Column("region")),
                Row(Column("industry"), Column("source")),
                Row(Column("company_size_min"), Column("company_size_max")),
                Row(Column("score_min"), Column("score_max")),
            ),
        )
        self.helper.add_input(Submit("submit", "Save rule"))

    def clean(self):
        data = super().clean()
        raw = {
            key: data.get(key)
            for key in (*LIST_CONDITIONS, "company_size_min", "company_size_max", "score_min", "score_max")
        }
        try:
            data["conditions"] = conditions_clean(raw)
        except ApplicationError as error:
            form_errors_add(self, error)
        return data

    def rule_values(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "team": d["team"],
            "strategy": d["strategy"],
            "enabled": d["enabled"],
            "skip_outside_working_hours": d["skip_outside_working_hours"],
            "conditions": d["conditions"],
        }


class LeadIdsField(forms.Field):
    """The lead checkboxes of the dashboard (name="leads", one per row)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Tick at least one lead to reassign.",
        "invalid": "That lead selection is not valid; reload the page.",
    }

    def to_python(self, value):
        if not value:
            return []
        try:
            return list(dict.fromkeys(int(v) for v in value))
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class ReassignForm(forms.Form):
    """Leads ticked on the dashboard, each with the owner the manager saw (hidden owner_<id>)."""

    leads = LeadIdsField()
    to_rep = forms.TypedChoiceField(coerce=int, label="Reassign to", empty_value=None)
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "e.g. rep on leave, territory change"}),
        help_text="Goes into each lead's history.",
    )

    def __init__(self, *args, rep_choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_rep"].choices = [("", "Choose a rep…"), *rep_choices]

    def expected_owners(self) -> dict[int, int | None]:
        """The owner the manager saw for each ticked lead; missing ones are left out (the service says so)."""
        seen: dict[int, int | None] = {}
        for lead_id in self.cleaned_data.get("leads", []):
            raw = self.data.get(f"owner_{lead_id}")
            if raw is None:
                continue
            try:
                seen[lead_id] = int(raw) if raw not in ("", "None") else None
            except ValueError:
                continue
        return seen
