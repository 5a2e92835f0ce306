"""What every HTML form shares."""

from django import forms

from leadhandoff.api import ApplicationError


def form_errors_add(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on the form that asked for it.

    A field message goes on its field when the form shows that field, else at
    the top; the refusal's own message goes at the top too, unless a field already
    says it, so the user reads every message once and where it applies.
    """
    said: set[str] = set()
    for name, messages in error.fields.items():
        for message in messages:
            field = form.fields.get(name)
            on_field = field is not None and not field.widget.is_hidden  # a hidden field shows no errors
            form.add_error(name if on_field else None, message)
            if on_field:
                said.add(message)
    if error.message not in said:
        form.add_error(None, error.message)
