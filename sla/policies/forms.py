"""Forms of the policy pages: a first-contact policy in users' words, and a closed date.

The form speaks in hours and percents; the service (sla.policies.services) checks
the policy as a whole, and its messages come back onto the fields they are about.
"""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row, Submit
from django import forms

from accounts.models import FirstContactPolicy
from leadhandoff.api import ApplicationError
from leadhandoff.forms import form_errors_add
from sla.policies.services import (
    LABEL_MAX_LENGTH,
    holiday_country_choices,
    policy_values_clean,
    warn_at_percent_parse,
)

# The service's field names, as this form calls them.
FORM_FIELD = {"window_minutes": "window_hours", "escalate_after_minutes": "escalate_after_hours"}


def _hours(minutes: int | None) -> Decimal | None:
    if minutes is None:
        return None
    return (Decimal(minutes) / 60).quantize(Decimal("0.01")).normalize()


def _minutes(hours: Decimal, field: str, form: forms.Form) -> int | None:
    minutes = hours * 60
    if minutes != minutes.to_integral_value():
        form.add_error(field, "Use whole minutes: e.g. 1.5 hours (90 minutes), not 1.01.")
        return None
    return int(minutes)


class PolicyForm(forms.Form):
    window_hours = forms.DecimalField(
        label="First-contact window (hours)",
        decimal_places=4,
        max_digits=10,
        help_text="How long a rep has to contact a newly assigned lead. 1.5 is an hour and a half.",
    )
    calendar = forms.ChoiceField(
        label="Count the window",
        choices=[
            (FirstContactPolicy.Calendar.ALWAYS, "Around the clock"),
            (FirstContactPolicy.Calendar.BUSINESS, "During the rep's working hours, in their time zone"),
        ],
        widget=forms.RadioSelect,
    )
    country = forms.ChoiceField(
        label="Public holidays of",
        required=False,
        help_text="Holidays do not count in business time (with the team's closed dates below).",
    )
    subdivision = forms.CharField(
        label="Region (optional)",
        required=False,
        max_length=8,
        help_text="A state or region code with its own holidays, e.g. CA for California, BY for Bavaria.",
    )
    stop_on = forms.ChoiceField(
        label="The clock stops at",
        choices=FirstContactPolicy.StopOn.choices,
        widget=forms.RadioSelect,
    )
    warnings = forms.CharField(
        label="Warn the rep at (% of the window)",
        required=False,
        help_text="e.g. 50, 90: when half and nine tenths of the window have passed. Leave empty for none.",
    )
    reassign_on_breach = forms.BooleanField(
        label="On breach, reassign to the next eligible rep with a fresh clock",
        required=False,
        help_text="Never back to a rep who already let it lapse. The rep and their manager are always told.",
    )
    max_reassignments = forms.IntegerField(
        label="At most this many times",
        help_text="Then the lead goes to the team's unassigned queue and the manager is told.",
    )
    escalate_after_hours = forms.DecimalField(
        label="Escalate a breached lead still untouched after (hours)",
        required=False,
        decimal_places=4,
        max_digits=10,
        help_text="The manager and the admins are told. Leave empty for no escalation.",
    )
    free_days = forms.IntegerField(
        label="Free to cold-call: look back this many days",
        help_text="A rep with no breached lead open and this compliance over those days may cold-call.",
    )
    free_min_compliance = forms.IntegerField(label="Minimum compliance (%)")

    def __init__(self, *args, policy: FirstContactPolicy | None = None, submit: str = "Save policy", **kwargs):
        if policy is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "window_hours": _hours(policy.window_minutes),
                "calendar": policy.calendar,
                "country": policy.country,
                "subdivision": policy.subdivision,
                "stop_on": policy.stop_on,
                "warnings": ", ".join(str(p) for p in policy.warn_at_percent or []),
                "reassign_on_breach": policy.reassign_on_breach,
                "max_reassignments": policy.max_reassignments,
                "escalate_after_hours": _hours(policy.escalate_after_minutes),
                "free_days": policy.free_days,
                "free_min_compliance": policy.free_min_compliance,
            }
        super().__init__(*args, **kwargs)
        choices = [("", "None: no public holidays"), *holiday_country_choices()]
        current = self.initial.get("country")
        if current and current not in dict(choices):  # an alias saved through the API (UK for GB)
            choices.append((current, current))
        self.fields["country"].choices = choices
        for name in ("window_hours", "escalate_after_hours"):
            self.fields[name].widget.attrs.update({"step": "0.25", "inputmode": "decimal"})
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}  # the server's messages, not the browser's
        self.helper.layout = Layout(
            HTML(
                '<div class="alert alert-info small" data-testid="applies-note">'
                "Changes apply to clocks started after you save. Running clocks keep their deadlines.</div>"
            ),
            Fieldset("The window", Row(Column("window_hours", css_class="col-md-6")), "calendar"),
            Fieldset(
                "Holidays", Row(Column("country", css_class="col-md-8"), Column("subdivision", css_class="col-md-4"))
            ),
            Fieldset("Stopping and warnings", "stop_on", "warnings"),
            Fieldset(
                "On breach",
                "reassign_on_breach",
                Row(
                    Column("max_reassignments", css_class="col-md-6"),
                    Column("escalate_after_hours", css_class="col-md-6"),
                ),
            ),
            Fieldset(
                "Free to cold-call",
                Row(Column("free_days", css_class="col-md-6"), Column("free_min_compliance", css_class="col-md-6")),
            ),
        )
        self.helper.add_input(Submit("submit", submit))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        values = {
            "window_minutes": _minutes(data["window_hours"], "window_hours", self),
            "calendar": data["calendar"],
            "country": data["country"],
            "subdivision": data["subdivision"],
            "stop_on": data["stop_on"],
            "reassign_on_breach": data["reassign_on_breach"],
            "max_reassignments": data["max_reassignments"],
            "escalate_after_minutes": None,
            "free_days": data["free_days"],
            "free_min_compliance": data["free_min_compliance"],
        }
        if data.get("escalate_after_hours") is not None:
            values["escalate_after_minutes"] = _minutes(data["escalate_after_hours"], "escalate_after_hours", self)
        try:
            values["warn_at_percent"] = warn_at_percent_parse(data["warnings"])
        except ApplicationError as error:
            self._add_service_errors(error)
            return data
        if self.errors:
            return data
        try:
            data["values"] = policy_values_clean(values)
        except ApplicationError as error:
            self._add_service_errors(error)
        return data

    def _add_service_errors(self, error: ApplicationError) -> None:
        renamed = {
            FORM_FIELD.get(name, name).replace("warn_at_percent", "warnings"): m for name, m in error.fields.items()
        }
        form_errors_add(self, ApplicationError(error.message, fields=renamed))

    def policy_values(self) -> dict:
        return self.cleaned_data["values"]


class ClosedDateForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="No business time counts on it.")
    label = forms.CharField(
        required=False,
        max_length=LABEL_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Company offsite"}),
    )
