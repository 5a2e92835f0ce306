"""Forms of the sales queue pages. They only parse input; the rules live in leads.queue.services."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from leads.models import Origin, RejectReason, RepSourceChannel, Status, TouchKind, TouchOutcome
from leads.queue.selectors import (
    DUE_OVERDUE,
    DUE_TODAY,
    DUE_WITHIN_HOUR,
    QUEUE_STATUS_ALL,
    QUEUE_STATUS_CLOSED,
    QUEUE_STATUS_OPEN,
    QueueFilters,
    RejectionFilters,
)
from leads.queue.services import STAGE_ORDER, STAGE_TARGETS

QUEUE_STATUS_CHOICES = [
    (QUEUE_STATUS_OPEN, "Open"),
    (Status.ASSIGNED, "Assigned (not contacted)"),
    (Status.CONTACTED, "Contacted"),
    (Status.WORKING, "Working"),
    (Status.OPPORTUNITY, "Opportunity"),
    (QUEUE_STATUS_CLOSED, "Closed (won or lost)"),
    (Status.WON, "Won"),
    (Status.LOST, "Lost"),
    (QUEUE_STATUS_ALL, "All"),
]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(choices=QUEUE_STATUS_CHOICES, required=False)
    source = forms.CharField(max_length=100, required=False)
    origin = forms.ChoiceField(choices=[("", "Any origin"), *Origin.choices], required=False)
    overdue = forms.BooleanField(required=False, label="Overdue only")
    q = forms.CharField(max_length=100, required=False, label="Search")
    # Set by the summary strip's links (not a field of the filter card).
    due = forms.ChoiceField(
        choices=[
            ("", "Any deadline"),
            (DUE_OVERDUE, "Overdue"),
            (DUE_WITHIN_HOUR, "Due within an hour"),
            (DUE_TODAY, "Due today"),
        ],
        required=False,
    )

    def filters(self) -> QueueFilters:
        data = self.cleaned_data
        return QueueFilters(
            status=data.get("status") or QUEUE_STATUS_OPEN,
            source=data.get("source", "").strip(),
            origin=data.get("origin", ""),
            overdue=bool(data.get("overdue")),
            q=data.get("q", "").strip(),
            due=data.get("due", ""),
        )


class TouchForm(forms.Form):
    # The page offers one submit button per kind, so logging a call is one click after the outcome.
    kind = forms.ChoiceField(choices=TouchKind.choices)
    outcome = forms.ChoiceField(choices=TouchOutcome.choices, initial=TouchOutcome.CONNECTED, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False)
    # Consent (issue 14): a call to a do-not-call lead or an email to a do-not-email lead needs this.
    consent_override = forms.BooleanField(required=False)
    override_reason = forms.CharField(max_length=500, required=False)


class StageForm(forms.Form):
    status = forms.ChoiceField(choices=[(s, Status(s).label) for s in STAGE_TARGETS], label="Move to")
    value = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, label="Value")
    reason = forms.CharField(max_length=200, required=False, label="Reason (lost)")
    note = forms.CharField(max_length=2000, required=False)
    expected_status = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, lead=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.awaiting_first_contact = False
        if lead is not None:
            # Offer only the moves the rules allow from here (the service checks again).
            rank = STAGE_ORDER.get(lead.status, -1)
            self.awaiting_first_contact = lead.status == Status.ASSIGNED and lead.first_contact_at is None
            self.fields["status"].choices = [
                (s, Status(s).label)
                for s in STAGE_TARGETS
                if s == Status.LOST
                or (not self.awaiting_first_contact and (s == Status.WON or STAGE_ORDER.get(s, 99) > rank))
            ]
            self.fields["expected_status"].initial = lead.status


class RejectForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason"), *RejectReason.choices])
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text="Required when the reason is other.",
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == RejectReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", "A note is required when the reason is other.")
        return data


class RepSourcedForm(forms.Form):
    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    company = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=150, required=False)
    phone = forms.CharField(max_length=50, required=False)
    channel = forms.ChoiceField(choices=[("", "How did you find them?"), *RepSourceChannel.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Add to my queue"))


class RejectionFilterForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Any reason"), *RejectReason.choices], required=False)
    version = forms.IntegerField(min_value=1, required=False, label="Definition version")

    def filters(self) -> RejectionFilters:
        return RejectionFilters(reason=self.cleaned_data.get("reason") or "", version=self.cleaned_data.get("version"))
