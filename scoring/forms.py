"""The definition editor: one form for title/threshold/revision, a formset with one row per rule.

Rows are validated first field by field (Django), then together through
scoring.rules.rules_parse, the schema the engine and the API use; its messages are
put back on the row they name, so each error shows next to its rule.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory

from .rules import ATTRIBUTE_PREFIX, EVENT_KINDS, LEAD_FIELDS, LIST_OPS, NO_VALUE_OPS, OPERATORS, rules_parse
from .selectors import rule_catalogue
from .services import COMMENT_MAX, THRESHOLD_LIMIT, TITLE_MAX, value_display

RULE_TYPES = [("fit", "Fit (lead field)"), ("behaviour", "Behaviour (events)"), ("gate", "Gate (must have)")]
_RULE_MESSAGE = re.compile(r"^Rule (\d+)[ :]*(.*)$", re.DOTALL)
_BETWEEN_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bto\b|–|—)\s*")


def _blank(choices) -> list[tuple[str, str]]:
    return [("", "—")] + list(choices)


class DefinitionForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX, required=False, help_text="What this version changes, in a line.")
    threshold = forms.IntegerField(
        min_value=-THRESHOLD_LIMIT,
        max_value=THRESHOLD_LIMIT,
        help_text="A lead that passes every gate and scores at least this qualifies.",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RuleRowForm(forms.Form):
    id = forms.CharField(widget=forms.HiddenInput, required=False)
    type = forms.ChoiceField(choices=RULE_TYPES, initial="fit", widget=forms.Select(attrs={"data-rule-type": ""}))
    label = forms.CharField(
        max_length=120, required=False, widget=forms.TextInput(attrs={"placeholder": "Shown in explanations"})
    )
    field = forms.ChoiceField(choices=_blank((f, f.replace("_", " ")) for f in LEAD_FIELDS), required=False)
    op = forms.ChoiceField(label="Operator", choices=_blank(OPERATORS.items()), required=False)
    # Room for a list of MAX_LIST_VALUES values; rules_parse counts them.
    value = forms.CharField(max_length=20_000, required=False, help_text="Lists: comma separated. Between: low, high.")
    event_kind = forms.ChoiceField(
        label="Event", choices=_blank((k, k.replace("_", " ")) for k in EVENT_KINDS), required=False
    )
    min_count = forms.IntegerField(label="At least (times)", required=False, min_value=1, initial=1)
    within_days = forms.IntegerField(label="Within (days)", required=False, min_value=1)
    points = forms.IntegerField(required=False)
    cap = forms.IntegerField(required=False, min_value=0)
    half_life_days = forms.FloatField(label="Half-life (days)", required=False, min_value=0.01)

    def __init__(self, *args, catalogue: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        catalogue = catalogue or {}
        custom = catalogue.get("custom_fields") or {}
        if custom:
            self.fields["field"].choices = [
                *self.fields["field"].choices,
                *((f"{ATTRIBUTE_PREFIX}{name}", f"{name.replace('_', ' ')} (custom)") for name in sorted(custom)),
            ]
        kinds = sorted(set(catalogue.get("event_kinds") or ()) - set(EVENT_KINDS))
        if kinds:
            self.fields["event_kind"].choices = [
                *self.fields["event_kind"].choices,
                *((k, k.replace("_", " ")) for k in kinds),
            ]

    def clean(self):
        data = super().clean()
        kind = data.get("type")
        if kind in ("fit", "gate"):
            if not data.get("field"):
                self.add_error("field", "Choose a lead field.")
            if not data.get("op"):
                self.add_error("op", "Choose an operator.")
            elif data["op"] not in NO_VALUE_OPS and not (data.get("value") or "").strip():
                self.add_error("value", "Give a value.")
            if kind == "fit" and data.get("points") is None:
                self.add_error("points", "Give the points (negative to subtract).")
        elif kind == "behaviour":
            if not data.get("event_kind"):
                self.add_error("event_kind", "Choose an event.")
            if data.get("within_days") is None:
                self.add_error("within_days", "Give the window in days.")
            if data.get("points") is None:
                self.add_error("points", "Give the points per occurrence.")
        return data

    def to_rule(self) -> dict:
        """The row as a raw rule for rules_parse."""
        data = self.cleaned_data
        rule: dict = {"type": data["type"], "label": data.get("label") or ""}
        if data.get("id"):
            rule["id"] = data["id"]
        if data["type"] in ("fit", "gate"):
            op = data.get("op")
            raw = (data.get("value") or "").strip()
            if op == "between":
                parts = [p for p in _BETWEEN_SPLIT.split(raw) if p]
                value = parts if len(parts) == 2 else raw
            elif op in NO_VALUE_OPS:
                value = None
            else:
                value = raw  # lists are split by rules_parse
            rule.update(field=data.get("field"), op=op, value=value)
            if data["type"] == "fit":
                rule["points"] = data.get("points")
        else:
            rule.update(
                event_kind=data.get("event_kind"),
                min_count=data.get("min_count") or 1,
                within_days=data.get("within_days"),
                points=data.get("points"),
                cap=data.get("cap"),
                half_life_days=data.get("half_life_days"),
            )
        return rule


def rule_initial(rule: dict) -> dict:
    """A stored rule as the initial data of an editor row."""
    initial = {k: rule.get(k) for k in RuleRowForm.base_fields if k in rule}
    value = rule.get("value")
    if rule.get("op") in LIST_OPS or rule.get("op") == "between":
        initial["value"] = value_display(value) if value is not None else ""
    elif value is not None:
        initial["value"] = value_display(value)
    return initial


class BaseRuleFormSet(BaseFormSet):
    """Checks the rows as one rule list through rules_parse; `rules` holds the result."""

    rules: list[dict]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read once for every row (the field and event choices) and for rules_parse.
        self.catalogue = rule_catalogue()
        self.form_kwargs = {**self.form_kwargs, "catalogue": self.catalogue}

    def kept_forms(self) -> list[RuleRowForm]:
        """Rows that make up the rule list: not marked for removal, not added and left blank."""
        return [
            f
            for f in self.forms
            if not (self.can_delete and self._should_delete_form(f)) and not (f.empty_permitted and not f.has_changed())
        ]

    def clean(self):
        self.rules = []
        kept = self.kept_forms()
        # Rows that passed their own checks are checked together; rows with errors
        # already show them, and the rest still get their schema messages.
        checked = [form for form in kept if not form.errors]
        raw = [form.to_rule() for form in checked]
        try:
            rules_parse(raw, **self.catalogue)
        except ValidationError as exc:
            leftovers = []
            for message in exc.message_dict.get("rules", exc.messages):
                match = _RULE_MESSAGE.match(message)
                if match and 1 <= int(match.group(1)) <= len(checked):
                    text = match.group(2).strip()
                    checked[int(match.group(1)) - 1].add_error(None, text[:1].upper() + text[1:])
                else:
                    leftovers.append(message)
            if leftovers:
                raise ValidationError(leftovers) from exc
            raise ValidationError("Some rules need attention; see the messages next to them.") from exc
        if len(checked) == len(kept):
            self.rules = raw


RuleFormSet = formset_factory(RuleRowForm, formset=BaseRuleFormSet, extra=0, can_delete=True)


def editor_forms(*, data=None, version=None) -> tuple[DefinitionForm, BaseRuleFormSet]:
    """The editor's two forms, bound to POST data or filled from a version."""
    if data is not None:
        return DefinitionForm(data), RuleFormSet(data, prefix="rules")
    if version is None:
        return DefinitionForm(initial={"threshold": 50}), RuleFormSet(prefix="rules", initial=[])
    form = DefinitionForm(
        initial={"title": version.title, "threshold": version.threshold, "revision": version.revision}
    )
    return form, RuleFormSet(prefix="rules", initial=[rule_initial(r) for r in version.rules])


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Ask a question or explain a change…"}),
    )


class ApproveForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
