"""Marketing's forms for custom fields and event kinds."""

from django import forms

from leads.models import CustomFieldKind


class CustomFieldForm(forms.Form):
    name = forms.SlugField(
        max_length=50, help_text="As files and rules name it: lower case, e.g. total_visits (attributes.total_visits)."
    )
    label = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=CustomFieldKind.choices, initial=CustomFieldKind.TEXT)
    choices = forms.CharField(
        required=False, max_length=5000, help_text="Choice fields: the values, comma separated.", label="Values"
    )
    personal = forms.BooleanField(
        required=False,
        label="Personal data",
        help_text="Removed by an erasure; sales cannot filter on it and rules may only ask whether it is empty.",
    )


class EventKindForm(forms.Form):
    name = forms.SlugField(max_length=32, help_text="As files and rules name it, e.g. trade_show_visit.")
    label = forms.CharField(max_length=100)
