"""Forms of the CSV import: the upload and the column / value mapping."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings

from leadhandoff.csv_reader import ImportFileError
from leads.imports.derived import rules_from_text, rules_to_text
from leads.imports.mapping import (
    ATTRIBUTE_PREFIX,
    attribute_name,
    join_column_guess,
    lookup_as,
    target_choices,
    targets_of,
    values_from_text,
    values_to_text,
)
from leads.imports.services import upload_check
from leads.models import ImportMapping

KEY_CHOICES = [
    ("", "Automatic: external id when mapped, else email"),
    ("email", "Email (case-insensitive)"),
    ("external_id", "External id"),
]
KEEP_AS_ATTRIBUTE = "__attribute__"


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _MultipleFileInput(attrs={"accept": ".csv,text/csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 (with or without BOM), separated by commas or semicolons, with a header line.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    lookups = _MultipleFileField(
        label="Lookup files (optional)",
        required=False,
        help_text="Files joined to each row by a column, e.g. a sales-team file (agent, manager, office) "
        "or a closed-deals file matched by id. You choose the joining column on the next page.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_mb = settings.IMPORT_MAX_UPLOAD_BYTES / (1024 * 1024)
        self.fields["file"].help_text += f" Up to {limit_mb:.0f} MB."
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            upload_check(name=upload.name, size=upload.size)
        except ImportFileError as exc:
            raise forms.ValidationError(exc.message) from exc
        return upload

    def clean_lookups(self):
        uploads = self.cleaned_data.get("lookups") or []
        for upload in uploads:
            try:
                upload_check(name=upload.name, size=upload.size)
            except ImportFileError as exc:
                raise forms.ValidationError(exc.message) from exc
        return uploads


class MappingForm(forms.Form):
    """One target per file column, the value maps as text, and the options."""

    values = forms.CharField(
        label="Value mapping",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
        help_text="One per line: “field: raw value -> stored value”. Use * as the field for every column; "
        "leave the stored value empty to treat a placeholder such as Select as empty. "
        "Stages: open, won, lost. Example: “stage: Engaging -> open”.",
    )
    key = forms.ChoiceField(label="Match rows to leads by", choices=KEY_CHOICES, required=False)
    create_missing_owners = forms.BooleanField(label="Create missing owners as inactive reps", required=False)
    team = forms.CharField(
        label="Team for created reps and unowned open deals",
        required=False,
        max_length=100,
        help_text="Created when it does not exist. Empty: the fallback team (“Unassigned” when there is none).",
    )
    date_format = forms.CharField(
        label="Date format",
        required=False,
        max_length=40,
        help_text="Empty for ISO dates (2024-03-31). Otherwise strftime codes, e.g. %d/%m/%Y.",
    )
    decimal_comma = forms.BooleanField(label="Numbers use a decimal comma (1.234,50)", required=False)
    default_source = forms.CharField(label="Source for rows without one", required=False, max_length=100)
    derived = forms.CharField(
        label="Derived values",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        help_text="One per line: “field: rule”. Examples: “stage: won if lookup closed_deals matched else open”, "
        '“stage: won if [won_date] present else open”, “attributes.tier: big if [Employees] matches "^[0-9]{4,}$"”, '
        "“stage: won if [Status] in (Closed Won, Signed) else open”, "
        "“attributes.engagement: [TotalVisits] + [Page Views Per Visit] * 2”.",
    )
    save_as = forms.CharField(
        label="Save this mapping as",
        required=False,
        max_length=100,
        help_text="Optional. A saved mapping can be picked for the next file; the same name overwrites it.",
    )

    def __init__(
        self,
        *args,
        header: list[str],
        samples: dict[str, list[str]],
        initial_mapping: dict[str, Any],
        lookup_files: list[dict[str, Any]] | None = None,
        **kw,
    ):
        super().__init__(*args, **kw)
        self.header = header
        self.base_options = dict(initial_mapping.get("options") or {})
        columns = initial_mapping.get("columns") or {}
        choices = target_choices() + [(KEEP_AS_ATTRIBUTE, "Keep in the lead’s attributes")]
        self.column_fields = []
        # Uploaded lookup files: how each joins (file column = lookup column), then its columns to map.
        self.uploaded = [
            {"name": f["name"], "header": f["header"], "as": lookup_as(f["name"]), "rows": f["rows"]}
            for f in lookup_files or []
        ]
        by_file = {
            lk.get("file"): lk
            for lk in self.base_options.get("lookups") or []
            if isinstance(lk, dict) and lk.get("file")
        }
        self.lookup_fields = []
        all_columns = list(header)
        samples = dict(samples)  # the lookup files' columns are added to a copy of the caller's
        for n, upload in enumerate(self.uploaded):
            chosen = by_file.get(upload["name"]) or {}
            common = join_column_guess(header, upload["header"]) or ""
            join = forms.ChoiceField(
                label=f"Join “{upload['name']}” on the file's column",
                choices=[("", "— not joined —")] + [(c, c) for c in header],
                required=False,
                initial=chosen.get("column", common),
            )
            key = forms.ChoiceField(
                label="… equal to its column",
                choices=[(c, c) for c in upload["header"]],
                initial=chosen.get("key", common or upload["header"][0]),
            )
            self.fields[f"lookup_{n}_column"] = join
            self.fields[f"lookup_{n}_key"] = key
            self.lookup_fields.append((upload, self[f"lookup_{n}_column"], self[f"lookup_{n}_key"]))
            for column in upload["header"]:
                all_columns.append(f"{upload['as']}.{column}")
                samples[f"{upload['as']}.{column}"] = [r.get(column, "") for r in upload["rows"][:200]]
        self.all_columns = all_columns
        for index, column in enumerate(all_columns):
            name = f"col_{index}"
            targets = targets_of(columns.get(column))
            initial = targets[0] if len(targets) == 1 else ""
            if initial.startswith(ATTRIBUTE_PREFIX):
                initial = KEEP_AS_ATTRIBUTE
            self.fields[name] = forms.ChoiceField(label=column, choices=choices, required=False, initial=initial)
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
            if len(targets) > 1:  # several fields from one column: kept as is (shown read-only)
                self.fields[name].disabled = True
                self.fields[name].help_text = "maps to " + ", ".join(targets)
            sample = ", ".join(dict.fromkeys(v for v in samples.get(column, []) if v.strip()))
            self.column_fields.append((column, self[name], sample[:120], index >= len(header)))
        self.multi_targets = {c: columns[c] for c in all_columns if len(targets_of(columns.get(c))) > 1}
        self.lookup_columns = {c: t for c, t in columns.items() if c not in all_columns}
        self.fields["derived"].initial = rules_to_text(self.base_options.get("derived") or {})
        options = self.base_options
        self.fields["values"].initial = values_to_text(initial_mapping.get("values") or {})
        self.fields["key"].initial = options.get("key", "")
        self.fields["create_missing_owners"].initial = bool(options.get("create_missing_owners"))
        self.fields["team"].initial = options.get("team", "")
        self.fields["date_format"].initial = options.get("date_format", "")
        self.fields["decimal_comma"].initial = bool(options.get("decimal_comma"))
        self.fields["default_source"].initial = (options.get("defaults") or {}).get("source", "")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", "Save mapping and preview"))

    def clean(self):
        cleaned = super().clean()
        values, errors = values_from_text(cleaned.get("values") or "")
        for error in errors:
            self.add_error("values", error)
        cleaned["values_map"] = values
        rules, errors = rules_from_text(cleaned.get("derived") or "")
        for error in errors:
            self.add_error("derived", error)
        cleaned["derived_rules"] = rules
        return cleaned

    def to_mapping(self) -> dict[str, Any]:
        data = self.cleaned_data
        columns: dict[str, Any] = {}
        for index, column in enumerate(self.all_columns):
            if column in self.multi_targets:
                columns[column] = self.multi_targets[column]
                continue
            target = data.get(f"col_{index}") or ""
            if target == KEEP_AS_ATTRIBUTE:
                target = ATTRIBUTE_PREFIX + (attribute_name(column.rpartition(".")[2]) or f"column_{index + 1}")
            if target:
                columns[column] = target
        columns.update(self.lookup_columns)
        options = dict(self.base_options)  # keeps options the form does not show (lookups, other defaults)
        uploaded_names = {u["name"] for u in self.uploaded}
        lookups = [
            lk for lk in options.get("lookups") or [] if not (isinstance(lk, dict) and lk.get("file") in uploaded_names)
        ]
        for n, upload in enumerate(self.uploaded):
            join = data.get(f"lookup_{n}_column")
            if join:
                lookups.append(
                    {"column": join, "key": data[f"lookup_{n}_key"], "as": upload["as"], "file": upload["name"]}
                )
            else:  # not joined: its columns cannot be mapped
                for column in upload["header"]:
                    columns.pop(f"{upload['as']}.{column}", None)
        if lookups:
            options["lookups"] = lookups
        else:
            options.pop("lookups", None)
        if data.get("derived_rules"):
            options["derived"] = data["derived_rules"]
        else:
            options.pop("derived", None)
        for name in ("key", "team", "date_format"):
            if data.get(name):
                options[name] = data[name].strip()
            else:
                options.pop(name, None)
        for name in ("create_missing_owners", "decimal_comma"):
            if data.get(name):
                options[name] = True
            else:
                options.pop(name, None)
        defaults = dict(options.get("defaults") or {})
        if data.get("default_source"):
            defaults["source"] = data["default_source"].strip()
        else:
            defaults.pop("source", None)
        if defaults:
            options["defaults"] = defaults
        else:
            options.pop("defaults", None)
        return {"columns": columns, "values": data["values_map"], "options": options}


class SavedMappingForm(forms.Form):
    """Start the mapping from a saved one (GET)."""

    mapping = forms.ModelChoiceField(
        queryset=ImportMapping.objects.order_by("name"), required=False, empty_label="— guess from the header —"
    )
