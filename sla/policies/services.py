"""Writes for first-contact policies and a team's closed dates.

Managers change their own teams' policies and closed dates, admins every team's
and the default (the views and APIs check who may, through sla.policies.selectors).
A clock copies its policy's terms when it starts (leads.clock.services), so a
change here applies to clocks started after it and never moves a running deadline.
"""

import datetime
import re
from functools import lru_cache

import holidays
from django.db import IntegrityError, transaction

from accounts.models import ClosedDate, FirstContactPolicy, Team, User
from accounts.selectors import policy_default
from leadhandoff.api import ApplicationError, ConflictError

# Every field a policy's owner edits (team and updated_by are set here).
POLICY_FIELDS = (
    "window_minutes",
    "calendar",
    "country",
    "subdivision",
    "stop_on",
    "warn_at_percent",
    "reassign_on_breach",
    "max_reassignments",
    "escalate_after_minutes",
    "free_days",
    "free_min_compliance",
)
# A window longer than a year of working time is a typo, not a policy.
MAX_WINDOW_MINUTES = 366 * 24 * 60
MAX_WARNINGS = 5
MAX_REASSIGNMENTS = 20  # the model's PositiveSmallIntegerField allows more; nobody means more
MAX_FREE_DAYS = 365
LABEL_MAX_LENGTH = ClosedDate._meta.get_field("label").max_length


@lru_cache(maxsize=1)
def holiday_countries() -> dict[str, tuple[str, ...]]:
    """Two-letter codes of the `holidays` package's countries, with their subdivisions."""
    return {
        code: tuple(subdivisions)
        for code, subdivisions in holidays.list_supported_countries().items()
        if len(code) == 2
    }


@lru_cache(maxsize=1)
def holiday_country_choices() -> list[tuple[str, str]]:
    """(code, "Name (code)") sorted by name, for a select; names from the package's registry."""
    from holidays.registry import COUNTRIES  # the only place the package names its countries

    names = {}
    for module, (_class_name, *codes) in COUNTRIES.items():
        # The first two-letter code of each country; aliases (UK for GB) are accepted, not listed.
        code = next((c for c in codes if len(c) == 2), None)
        if code in holiday_countries():
            names.setdefault(code, module.replace("_", " ").title())
    return sorted(
        ((code, f"{name} ({code})") for code, name in names.items()),
        key=lambda choice: choice[1],
    )


def warn_at_percent_parse(raw) -> list[int]:
    """'50, 90' (or [50, 90]) as a list of numbers; refuses anything that is not one."""
    if raw is None or raw == "":
        return []
    parts = [p for p in re.split(r"[,\s;%]+", raw) if p] if isinstance(raw, str) else list(raw)
    values = []
    for part in parts:
        if isinstance(part, bool):
            raise ApplicationError(_INVALID, fields={"warn_at_percent": [f"{part!r} is not a percent."]})
        try:
            values.append(int(part) if isinstance(part, str) else part)
        except ValueError:
            raise ApplicationError(
                _INVALID, fields={"warn_at_percent": [f"“{part}” is not a percent: write whole numbers like 50, 90."]}
            ) from None
    return values


_INVALID = "The policy was not saved: some fields are not valid."


def policy_values_clean(values: dict) -> dict:
    """Check a policy's fields together; every problem is reported on its field, in users' words.

    `values` holds every field of POLICY_FIELDS (a partial update merges the
    current policy in first). Returns the values normalised.
    """
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    v = {name: values.get(name) for name in POLICY_FIELDS}

    window = v["window_minutes"]
    if not _is_int(window) or window <= 0:
        refuse("window_minutes", "The first-contact window must be longer than zero.")
    elif window > MAX_WINDOW_MINUTES:
        refuse("window_minutes", "The first-contact window can be at most a year.")

    if v["calendar"] not in FirstContactPolicy.Calendar.values:
        refuse("calendar", "Choose around the clock or the rep's working hours.")
    if v["stop_on"] not in FirstContactPolicy.StopOn.values:
        refuse("stop_on", "Choose which touches stop the clock: any contact attempt, or only a conversation.")

    country = (v["country"] or "").strip().upper()
    subdivision = (v["subdivision"] or "").strip().upper()
    countries = holiday_countries()
    if country and country not in countries:
        refuse("country", f"“{country}” is not a country with a holiday calendar; pick one from the list.")
    elif subdivision and not country:
        refuse("subdivision", "Choose a country before a subdivision.")
    elif subdivision and subdivision not in countries[country]:
        known = ", ".join(countries[country][:30]) + ("…" if len(countries[country]) > 30 else "")
        hint = f"one of {known}" if known else "none: this country's calendar has no subdivisions"
        refuse("subdivision", f"“{subdivision}” is not a subdivision of {country}; use {hint}.")
    v["country"], v["subdivision"] = country, subdivision

    warnings = v["warn_at_percent"] if v["warn_at_percent"] is not None else []
    if not isinstance(warnings, list) or not all(_is_int(w) for w in warnings):
        refuse("warn_at_percent", "Warnings are whole percents of the window, like 50, 90.")
    else:
        if any(w <= 0 for w in warnings):
            refuse("warn_at_percent", "A warning must come after the clock starts: above 0%.")
        if any(w >= 100 for w in warnings):
            refuse(
                "warn_at_percent",
                "A warning must come before the deadline: below 100% (at 100% the lead is breached).",
            )
        if any(b <= a for a, b in zip(warnings, warnings[1:], strict=False)):
            refuse("warn_at_percent", "List the warnings in ascending order, each once, e.g. 50, 90.")
        if len(warnings) > MAX_WARNINGS:
            refuse("warn_at_percent", f"At most {MAX_WARNINGS} warnings.")

    v["reassign_on_breach"] = bool(v["reassign_on_breach"])
    reassignments = v["max_reassignments"]
    if not _is_int(reassignments) or reassignments < 0:
        refuse("max_reassignments", "The number of reassignments cannot be negative.")
    elif reassignments > MAX_REASSIGNMENTS:
        refuse("max_reassignments", f"At most {MAX_REASSIGNMENTS} reassignments.")
    elif v["reassign_on_breach"] and reassignments == 0:
        refuse("max_reassignments", "To reassign on breach, allow at least one reassignment.")

    escalate = v["escalate_after_minutes"]
    if escalate is not None and (not _is_int(escalate) or escalate <= 0):
        refuse("escalate_after_minutes", "Escalation needs a delay above zero; leave it blank for no escalation.")

    if not _is_int(v["free_days"]) or v["free_days"] < 1:
        refuse("free_days", "Look back at least one day.")
    elif v["free_days"] > MAX_FREE_DAYS:
        refuse("free_days", f"Look back at most {MAX_FREE_DAYS} days.")
    if not _is_int(v["free_min_compliance"]) or not 0 <= v["free_min_compliance"] <= 100:
        refuse("free_min_compliance", "The minimum compliance is a percent from 0 to 100.")

    if errors:
        raise ApplicationError(_INVALID, fields=errors)
    return v


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def policy_values_of(policy: FirstContactPolicy) -> dict:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


@transaction.atomic
def policy_save(*, actor: User, team: Team | None, values: dict) -> FirstContactPolicy:
    """Create or change the policy of `team` (None: the default) with `values` (every field).

    The row is locked while it changes, so two saves never interleave; the
    unsaved default from settings becomes a row on its first save.
    """
    clean = policy_values_clean(values)
    policy = FirstContactPolicy.objects.select_for_update().filter(team=team).first()
    if policy is None:
        policy = FirstContactPolicy(team=team)
    for name, value in clean.items():
        setattr(policy, name, value)
    policy.updated_by = actor
    try:
        with transaction.atomic():  # a concurrent first save of the same policy: one row wins
            policy.save()
    except IntegrityError:
        raise ConflictError("Someone saved this policy at the same moment; reload and try again.") from None
    return policy


@transaction.atomic
def team_policy_create(*, actor: User, team: Team) -> FirstContactPolicy:
    """Give a team its own policy, a copy of the default; a team that has one keeps it."""
    existing = FirstContactPolicy.objects.select_for_update().filter(team=team).first()
    if existing is not None:
        return existing
    return policy_save(actor=actor, team=team, values=policy_values_of(policy_default()))


@transaction.atomic
def team_policy_remove(*, actor: User, team: Team) -> bool:
    """The team goes back to the default policy; its running clocks keep their terms."""
    deleted, _ = FirstContactPolicy.objects.filter(team=team).delete()
    return bool(deleted)


def closed_date_add(*, actor: User, team: Team, date: datetime.date, label: str = "") -> ClosedDate:
    """A day the team does not work: business-time clocks started after this skip it."""
    label = (label or "").strip()
    if len(label) > LABEL_MAX_LENGTH:
        raise ApplicationError(
            "The closed date was not added.", fields={"label": [f"At most {LABEL_MAX_LENGTH} characters."]}
        )
    try:
        with transaction.atomic():
            return ClosedDate.objects.create(team=team, date=date, label=label)
    except IntegrityError:
        raise ApplicationError(
            "The closed date was not added.",
            fields={"date": [f"{date:%d %B %Y} is already a closed date of {team.name}."]},
        ) from None


@transaction.atomic
def closed_date_remove(*, actor: User, team: Team, closed_date_id: int) -> bool:
    deleted, _ = ClosedDate.objects.filter(team=team, pk=closed_date_id).delete()
    return bool(deleted)
