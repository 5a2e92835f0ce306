"""The roster page's forms: the upload, and the checked file carried from the preview to the import."""

from django import forms

from accounts.roster.services import ROSTER_MAX_BYTES
from leadhandoff.csv_reader import ImportFileError, decode


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="Roster CSV file",
        help_text="One row per rep: rep name or email, manager, team, region. UTF-8, comma or semicolon separated.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ROSTER_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is over {ROSTER_MAX_BYTES // (1024 * 1024)} MB; a roster is smaller."
            )
        try:
            self.cleaned_data["text"] = decode(upload.read(), name=upload.name)
        except ImportFileError as exc:
            raise forms.ValidationError(exc.message) from exc
        return upload


class RosterConfirmForm(forms.Form):
    """The previewed file's text, posted back so the import runs on exactly what was previewed."""

    name = forms.CharField(max_length=255, widget=forms.HiddenInput)
    text = forms.CharField(widget=forms.HiddenInput, max_length=ROSTER_MAX_BYTES, strip=False)
