"""One helper puts a service's refusal on the form that asked for it."""

from django import forms

from leadhandoff.api import ApplicationError
from leadhandoff.forms import form_errors_add


class _Form(forms.Form):
    name = forms.CharField()
    revision = forms.IntegerField(widget=forms.HiddenInput)


def _refused(error: ApplicationError) -> _Form:
    form = _Form(data={"name": "x", "revision": 1})
    assert form.is_valid()
    form_errors_add(form, error)
    return form


def test_a_field_message_lands_on_its_field_and_the_summary_at_the_top():
    form = _refused(ApplicationError("The rule was not saved.", fields={"name": ["Taken."]}))
    assert form.errors["name"] == ["Taken."]
    assert form.non_field_errors() == ["The rule was not saved."]


def test_a_message_for_a_field_the_form_does_not_show_goes_to_the_top():
    form = _refused(ApplicationError("Refused.", fields={"conditions": ["Unknown country."], "revision": ["Stale."]}))
    assert form.non_field_errors() == ["Unknown country.", "Stale.", "Refused."]
    assert "revision" not in form.errors


def test_a_message_a_field_already_says_is_not_repeated_at_the_top():
    form = _refused(ApplicationError("Taken.", fields={"name": ["Taken."]}))
    assert form.errors["name"] == ["Taken."]
    assert form.non_field_errors() == []


def test_a_refusal_without_fields_is_shown_at_the_top():
    assert _refused(ApplicationError("Not now.")).non_field_errors() == ["Not now."]
