"""The events import form: the file and how its rows become events."""

from django import forms


class EventImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, comma or semicolon separated, UTF-8.")
    events = forms.ChoiceField(
        label="The file has",
        choices=[("rows", "One row per event"), ("columns", "Counts in columns (e.g. TotalVisits)")],
        initial="rows",
    )
    key = forms.ChoiceField(label="Leads are named by", choices=[("email", "Email"), ("external_id", "External id")])
    key_column = forms.CharField(label="Lead column", max_length=200, help_text="The header of the email or id column.")
    kind_column = forms.CharField(label="Kind column", max_length=200, required=False, help_text="One row per event.")
    time_column = forms.CharField(
        label="Time column", max_length=200, required=False, help_text="ISO date/time, e.g. 2025-05-31 14:00."
    )
    id_column = forms.CharField(
        label="Event id column", max_length=200, required=False, help_text="Optional: else (lead, kind, time)."
    )
    columns = forms.CharField(
        label="Derived columns",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "TotalVisits = page_view"}),
        help_text="One per line: column = event kind.",
    )
    derived_as = forms.ChoiceField(
        label="Each count makes",
        choices=[("events", "that many events"), ("count", "one event carrying the count")],
        initial="events",
        required=False,
    )
    time = forms.CharField(
        label="Time of derived events",
        max_length=40,
        required=False,
        help_text="When no time column: 2025-06-01T00:00Z.",
    )

    def mapping(self) -> dict:
        data = self.cleaned_data
        mapping = {"key": data["key"], "key_column": data["key_column"].strip(), "events": data["events"]}
        if data["events"] == "rows":
            mapping.update(
                kind_column=data["kind_column"].strip(),
                time_column=data["time_column"].strip(),
                id_column=data["id_column"].strip(),
            )
            return mapping
        derived = {}
        for line in data["columns"].splitlines():
            column, _, kind = line.partition("=")
            if column.strip():
                derived[column.strip()] = {"kind": kind.strip(), "as": data["derived_as"] or "events"}
        mapping["columns"] = derived
        if data["time_column"].strip():
            mapping["time_column"] = data["time_column"].strip()
        else:
            mapping["time"] = data["time"].strip().replace("Z", "+00:00")
        return mapping
