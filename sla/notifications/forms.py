from django import forms

from sla.models import Channel, EventKind

HELP = {
    EventKind.WARNING: "First contact is due soon on one of your leads.",
    EventKind.BREACH: "A first-contact deadline passed (yours, or on your team if you manage it).",
    EventKind.ESCALATION: "A lead is still not contacted well after its deadline.",
    EventKind.REASSIGNMENT: "A lead was moved to another rep after a missed deadline.",
}


class PreferencesForm(forms.Form):
    """One choice of channel per kind of notification."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in EventKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=label, choices=Channel.choices, widget=forms.RadioSelect, help_text=HELP[kind]
            )
