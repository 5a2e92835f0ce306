import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError

from .business_time import DAY_NAMES, working_hours_clean
from .models import timezone_names


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Check both and try again.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Log in", css_class="w-100"))


class StyledPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Change password"))


# --- Time zone and working hours ------------------------------------------------------

_WINDOW = re.compile(r"^(\S+?)\s*(?:-|–|—|to)\s*(\S+)$")


def day_windows_parse(day: int, text: str) -> list[dict]:
    """'09:00-12:30, 13:30-17:00' as windows of `day`; raises ValidationError for a piece that is not one."""
    windows = []
    for piece in filter(None, (p.strip() for p in re.split(r"[,;]", text or ""))):
        match = _WINDOW.match(piece)
        if not match:
            raise ValidationError(f"“{piece}” is not a window like 09:00-17:00.")
        windows.append({"day": day, "start": match[1], "end": match[2]})
    return windows


def day_windows_text(working_hours: list[dict], day: int) -> str:
    return ", ".join(f"{w['start']}-{w['end']}" for w in working_hours if w["day"] == day)


class ScheduleForm(forms.Form):
    """A user's time zone and, for a rep, one line of windows per weekday (a lunch break is two windows).

    A line per day works at phone width with no script; each day's windows are
    checked by accounts.business_time.working_hours_clean, so its messages (an
    overlap, an end before a start) land on the day they are about.
    """

    timezone = forms.ChoiceField(
        label="Time zone", help_text="Your working hours, deadlines and daily digest are read in it."
    )

    def __init__(self, *args, with_hours: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_names()
        self.with_hours = with_hours
        if with_hours:
            for day, name in enumerate(DAY_NAMES):
                self.fields[f"day_{day}"] = forms.CharField(
                    label=name,
                    required=False,
                    max_length=200,
                    widget=forms.TextInput(attrs={"placeholder": "e.g. 09:00-12:30, 13:30-17:00", "inputmode": "text"}),
                )

    @classmethod
    def initial_for(cls, *, user, working_hours: list[dict] | None) -> dict:
        initial = {"timezone": user.timezone}
        for day in range(7):
            initial[f"day_{day}"] = day_windows_text(working_hours or [], day)
        return initial

    def clean(self):
        data = super().clean()
        if not self.with_hours:
            return data
        hours: list[dict] = []
        for day in range(7):
            name = f"day_{day}"
            if name not in data:
                continue  # too long: the field said so
            try:
                windows = day_windows_parse(day, data[name])
                working_hours_clean(windows, allow_empty=True)
            except ValidationError as error:
                for message in error.messages:
                    self.add_error(name, message)
                continue
            hours += windows
        if not self.errors and not hours:
            self.add_error(None, "Give at least one working window, e.g. 09:00-17:00 on Monday.")
        data["working_hours"] = hours
        return data

    def schedule_values(self) -> dict:
        values = {"timezone": self.cleaned_data["timezone"]}
        if self.with_hours:
            values["working_hours"] = self.cleaned_data["working_hours"]
        return values
