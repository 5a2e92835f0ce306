"""What a CSV column can become on a lead, how headers are guessed, and how a mapping is checked.

A mapping (leads.ImportMapping, or a mapping.json file for the command) is:

    {
      "columns": {"Header": "lead_field" | ["field", "field"], ...},
      "values":  {"lead_field" | "*": {"raw value": "stored value", ...}, ...},
      "options": {"key": "email" | "external_id", "create_missing_owners": true,
                  "team": "Team name", "date_format": "%d/%m/%Y", "decimal_comma": false,
                  "defaults": {"source": "crm-history"},
                  "lookups": [{"column": "account", "key": "account", "as": "account",
                               "rows": [{...}, ...] | "file": "accounts.csv"}],
                  "derived": {"stage": "won if lookup deal matched else open"}}
    }

A target `attributes.<name>` keeps a column in the lead's attributes. Value maps
apply before conversion (a map to "" means empty, e.g. "Select"); a field's own
map wins over the "*" map. A lookup adds its file's columns as `<as>.<column>`
(`as` defaults to the joining column); `derived` sets fields from rules on the
row (leads.imports.derived). The targets owner_team, owner_manager and
owner_region put each owner on a team (leads.imports.runner: the file's roster).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leadhandoff.api import ApplicationError
from leads.imports.derived import RuleError, rule_compile
from leads.models import Origin, RepSourceChannel, Status

# field -> (label, help). Order is the order of the mapping form.
TARGETS: dict[str, tuple[str, str]] = {
    "email": ("Email", "key; compared case-insensitively"),
    "external_id": ("External id", "key; the id in your source system"),
    "first_name": ("First name", ""),
    "last_name": ("Last name", ""),
    "full_name": ("Full name", "split into first and last name"),
    "title": ("Job title", ""),
    "phone": ("Phone", ""),
    "company": ("Company", ""),
    "industry": ("Industry", ""),
    "company_size": ("Company size", "employees, a whole number"),
    "annual_revenue": ("Annual revenue", "a number"),
    "country": ("Country", ""),
    "region": ("Region", ""),
    "city": ("City", ""),
    "website": ("Website", ""),
    "source": ("Source", ""),
    "campaign": ("Campaign", ""),
    "origin": ("Origin", "marketing or rep_sourced"),
    "rep_source_channel": ("Rep source channel", "cold_call, social, referral, event"),
    "owner": ("Owner", "a rep: username, email or full name"),
    "stage": ("Stage", "open, won or lost (or a lead status)"),
    "created_at": ("Created date", ""),
    "first_contact_at": ("First contact date", ""),
    "closed_at": ("Closed date", ""),
    "deal_value": ("Deal value", "a number"),
    "lost_reason": ("Lost reason", ""),
    "touch_count": ("Number of touches", "a whole number"),
    "owner_team": ("Owner's team", "the rep's team, created when missing"),
    "owner_manager": ("Owner's manager", "the team's manager: their reps form a team"),
    "owner_region": ("Owner's region", "the region (office) of the owner's team"),
    # Consent (leads.fields): yes/no columns; a change is stamped with the import and written to history.
    "do_not_email": ("Do not email", "yes/no (consent)"),
    "do_not_call": ("Do not call", "yes/no (consent)"),
    "unsubscribed": ("Unsubscribed", "yes/no (consent)"),
}
# Targets that describe the owner, not the lead: they build the file's roster (runner).
OWNER_TEAM_FIELDS = {"owner_team": "team", "owner_manager": "manager", "owner_region": "region"}
CONSENT_TARGETS = ("do_not_email", "do_not_call", "unsubscribed")
KEY_FIELDS = ("email", "external_id")
ATTRIBUTE_PREFIX = "attributes."
IGNORE = ""

TEXT_LIMITS = {
    "email": 254,
    "external_id": 100,
    "first_name": 100,
    "last_name": 100,
    "title": 150,
    "phone": 50,
    "company": 200,
    "industry": 100,
    "country": 100,
    "region": 100,
    "city": 100,
    "website": 200,
    "source": 100,
    "campaign": 150,
    "lost_reason": 200,
}
STAGES = {"open": "open", "won": Status.WON.value, "lost": Status.LOST.value}
STAGE_VALUES = sorted({*STAGES, *Status.values})

# Header spellings (normalised: lower case, letters and digits only) -> field.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "email1", "workemail", "businessemail"),
    "external_id": (
        "externalid",
        "id",
        "leadid",
        "prospectid",
        "opportunityid",
        "dealid",
        "recordid",
        "crmid",
        "contactid",
    ),
    "first_name": ("firstname", "givenname", "forename", "first"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "full_name": ("name", "fullname", "contactname", "leadname"),
    "title": ("title", "jobtitle", "position", "role"),
    "phone": ("phone", "phonenumber", "telephone", "mobile", "tel"),
    "company": ("company", "companyname", "account", "accountname", "organisation", "organization", "employer"),
    "industry": ("industry", "sector", "vertical"),
    "company_size": ("companysize", "employees", "numberofemployees", "headcount", "size"),
    "annual_revenue": ("annualrevenue", "revenue"),
    "country": ("country", "countrycode"),
    "region": ("region", "state", "province"),
    "city": ("city", "town"),
    "website": ("website", "url", "web", "domain", "companywebsite"),
    "source": ("source", "leadsource", "channel", "utmsource"),
    "campaign": ("campaign", "campaignname", "utmcampaign"),
    # Only when the values say marketing / rep-sourced (guess_columns): a column called
    # "origin" is more often a traffic channel (Google, Direct Traffic...), a source.
    "origin": ("origin", "leadorigin", "leadorigintype"),
    "rep_source_channel": ("repsourcechannel",),
    "owner": ("owner", "leadowner", "salesagent", "salesrep", "rep", "agent", "assignedto", "accountowner"),
    "stage": (
        "stage",
        "dealstage",
        "status",
        "leadstatus",
        "leadstage",
        "outcome",
        "converted",
        "isconverted",
        "won",
        "iswon",
        "closedwon",
        "dealwon",
    ),
    "created_at": ("createdat", "created", "createddate", "createdon", "datecreated"),
    "first_contact_at": ("firstcontactat", "firstcontact", "firstcontactdate", "engagedate", "contactedat"),
    "closed_at": ("closedat", "closedate", "closeddate", "dateclosed", "wondate", "dealwondate", "lostdate"),
    "deal_value": ("dealvalue", "closevalue", "amount", "value", "dealamount", "opportunityvalue"),
    "lost_reason": ("lostreason", "reasonlost", "lossreason"),
    "touch_count": ("touches", "touchcount", "numberoftouches", "activities", "activitycount"),
    "owner_manager": ("manager", "salesmanager", "ownermanager", "teammanager"),
    "owner_team": ("team", "salesteam", "ownerteam", "teamname"),
    "owner_region": ("regionaloffice", "office", "salesregion", "territory"),
    "do_not_email": ("donotemail", "emailoptout", "donotemailaddress"),
    "do_not_call": ("donotcall", "calloptout"),
    "unsubscribed": ("unsubscribed", "optout", "optedout"),
}
_GUESS = {spelling: field for field, spellings in _SYNONYMS.items() for spelling in spellings}

OPTION_NAMES = {
    "key",
    "create_missing_owners",
    "team",
    "date_format",
    "decimal_comma",
    "defaults",
    "lookups",
    "derived",
}


def normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def attribute_name(header: str) -> str:
    """A column kept in attributes: "Do Not Email" -> "do_not_email"."""
    return re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")[:64]


def target_choices() -> list[tuple[str, str]]:
    return [(IGNORE, "— ignore —")] + [(name, label) for name, (label, _help) in TARGETS.items()]


_ORIGIN_WORDS = (
    {v.lower() for v in Origin.values}
    | {label.lower() for label in Origin.labels}
    | {
        "rep sourced",
        "rep",
        "sales",
    }
)
_FIRST_CONTACT_FIELDS = ("first_contact_at",)


def guess_columns(header: list[str], samples: Mapping[str, list[str]] | None = None) -> dict[str, str]:
    """Header -> field for the columns whose name we recognise; each field is guessed at most once.

    With sample values (read across the file), three guesses look at them: a column
    named like the origin is the origin only when its values are marketing / rep-sourced
    (else it is a traffic channel: the source, or the campaign); a first-contact date is a
    lead's first contact only when an owner column says who made it (else it is when the
    lead came in: the created date, or an attribute); and with no email or external id
    recognised, the first `*_id` column whose values are all different is the key.
    """
    samples = samples or {}
    guessed: dict[str, str] = {}
    taken: set[str] = set()

    def take(column: str, field: str) -> None:
        guessed[column] = field
        taken.add(field)

    channels = []
    for column in header:
        field = _GUESS.get(normalise_header(column))
        if field == "origin":
            values = {v.strip().lower() for v in samples.get(column, []) if v.strip()}
            if not values or not values <= _ORIGIN_WORDS:
                channels.append(column)  # a traffic channel: after the columns named as sources
                continue
        if field and field not in taken:
            take(column, field)
    for column in channels:
        field = next((f for f in ("source", "campaign") if f not in taken), None)
        if field:
            take(column, field)
    if not taken & {"owner"}:
        for column, field in list(guessed.items()):
            if field in _FIRST_CONTACT_FIELDS:
                del guessed[column]
                taken.discard(field)
                if "created_at" not in taken:
                    take(column, "created_at")
                else:
                    guessed[column] = ATTRIBUTE_PREFIX + attribute_name(column)
    if not taken & set(KEY_FIELDS):
        for column in header:
            if column in guessed or not re.search(r"(?:^|[^a-z])id$|[a-z]Id$|_id$", column.strip(), re.IGNORECASE):
                continue
            values = [v for v in samples.get(column, []) if v.strip()]
            if values and len(set(values)) == len(values):
                take(column, "external_id")
                break
    return guessed


def join_column_guess(header: list[str], lookup_header: list[str]) -> str | None:
    """The column a lookup file is joined on until someone says otherwise: its first column
    the file has too."""
    return next((c for c in lookup_header if c in header), None)


def guess_lookups(
    header: list[str], lookup_files: list[dict[str, Any]], guessed: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Lookups for uploaded files joined on the first column they share with the file, and
    guesses for their columns (`<as>.<column>`) among the fields not guessed yet.
    """
    taken = {f for spec in guessed.values() for f in targets_of(spec)}
    lookups: list[dict[str, Any]] = []
    columns: dict[str, str] = {}
    for upload in lookup_files:
        common = join_column_guess(header, upload["header"])
        if common is None:
            continue
        prefix = lookup_as(upload["name"])
        lookups.append({"column": common, "key": common, "as": prefix, "file": upload["name"]})
        for column in upload["header"]:
            field = _GUESS.get(normalise_header(column))
            if column == common or field is None or field in taken or field in KEY_FIELDS:
                continue
            columns[f"{prefix}.{column}"] = field
            taken.add(field)
    return lookups, columns


def targets_of(spec: Any) -> list[str]:
    """A column maps to one field or a list of fields; '' means ignored."""
    if spec in (None, IGNORE):
        return []
    if isinstance(spec, str):
        return [spec]
    return [s for s in spec if s]


def is_known_target(name: str) -> bool:
    return name in TARGETS or (
        name.startswith(ATTRIBUTE_PREFIX)
        and bool(re.fullmatch(r"[A-Za-z0-9_.\- ]{1,64}", name[len(ATTRIBUTE_PREFIX) :]))
    )


def key_field(mapped: set[str], options: Mapping[str, Any]) -> str | None:
    """The key a row is matched by: the option, else the external id when mapped, else the email."""
    key = options.get("key")
    if key in KEY_FIELDS:
        return key if key in mapped else None
    if "external_id" in mapped:
        return "external_id"
    if "email" in mapped:
        return "email"
    return None


def mapping_check(mapping: Mapping[str, Any], *, header: list[str] | None = None) -> dict[str, list[str]]:
    """Every problem with a mapping, by the part it is in ({} when usable). Checks the header too if given."""
    errors: dict[str, list[str]] = {}
    columns = mapping.get("columns") or {}
    values = mapping.get("values") or {}
    options = mapping.get("options") or {}
    if not isinstance(columns, dict) or not isinstance(values, dict) or not isinstance(options, dict):
        return {"mapping": ["columns, values and options must each be a JSON object."]}
    lookup_columns = lookup_columns_of(options)
    seen: dict[str, str] = {}
    for column, spec in columns.items():
        if not isinstance(spec, str | list) or (isinstance(spec, list) and not all(isinstance(s, str) for s in spec)):
            errors.setdefault("columns", []).append(f"“{column}”: give a field name or a list of field names.")
            continue
        for target in targets_of(spec):
            if not is_known_target(target):
                errors.setdefault("columns", []).append(f"“{column}”: unknown lead field “{target}”.")
            elif target in seen:
                errors.setdefault("columns", []).append(
                    f"“{target}” is mapped from two columns: “{seen[target]}” and “{column}”."
                )
            else:
                seen[target] = column
        if header is not None and column not in header and column not in lookup_columns:
            errors.setdefault("columns", []).append(f"The file has no column “{column}”.")
    mapped = set(seen)
    if "full_name" in mapped and mapped & {"first_name", "last_name"}:
        errors.setdefault("columns", []).append("Map either a full name or first and last name, not both.")
    if key_field(mapped, options) is None:
        wanted = options.get("key")
        if wanted in KEY_FIELDS:
            errors.setdefault("columns", []).append(f"The key is {wanted} but no column is mapped to it.")
        else:
            errors.setdefault("columns", []).append(
                "No key column: map a column to Email or External id so rows can be matched to leads."
            )
    for field, table in values.items():
        if field != "*" and not is_known_target(field):
            errors.setdefault("values", []).append(f"Value map for unknown lead field “{field}”.")
        elif not isinstance(table, dict):
            errors.setdefault("values", []).append(f"Value map for “{field}” must be an object of raw → stored.")
    unknown = set(options) - OPTION_NAMES
    if unknown:
        errors.setdefault("options", []).append(f"Unknown options: {', '.join(sorted(unknown))}.")
    if options.get("key") not in (None, "", *KEY_FIELDS):
        errors.setdefault("options", []).append("key must be “email” or “external_id”.")
    defaults = options.get("defaults") or {}
    if not isinstance(defaults, dict) or not all(is_known_target(k) for k in defaults):
        errors.setdefault("options", []).append("defaults must map lead fields to values.")
    for lookup in options.get("lookups") or []:
        if not isinstance(lookup, dict) or not {"column", "key"} <= set(lookup) or not ({"rows", "file"} & set(lookup)):
            errors.setdefault("options", []).append("Each lookup needs column, key and rows (or a file).")
    derived = options.get("derived") or {}
    if not isinstance(derived, dict):
        errors.setdefault("options", []).append("derived must map lead fields to rules.")
        derived = {}
    for target, rule in derived.items():
        if not is_known_target(target):
            errors.setdefault("derived", []).append(f"“{target}”: unknown lead field.")
        elif target in seen:
            errors.setdefault("derived", []).append(
                f"“{target}” is mapped from the column “{seen[target]}” and derived too: keep one."
            )
        try:
            rule_compile(rule, lookups=lookup_names(options))
        except RuleError as exc:
            errors.setdefault("derived", []).append(f"“{target}”: the rule {exc}.")
    if "full_name" in derived and mapped & {"first_name", "last_name"}:
        errors.setdefault("derived", []).append("Map either a full name or first and last name, not both.")
    return errors


def lookup_name(lookup: Mapping[str, Any]) -> str:
    """What a lookup's columns are prefixed with (and what `lookup NAME matched` names)."""
    return str(lookup.get("as") or lookup.get("column") or "")


def lookup_as(file_name: str) -> str:
    """The prefix an uploaded lookup file's columns get: "Closed Deals.csv" -> "closed_deals"."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return attribute_name(stem) or "lookup"


def lookup_names(options: Mapping[str, Any]) -> list[str]:
    return [lookup_name(lookup) for lookup in options.get("lookups") or [] if isinstance(lookup, dict)]


def lookup_columns_of(options: Mapping[str, Any]) -> set[str]:
    """Virtual columns a lookup adds: '<as>.<lookup column>' (only known once its rows are)."""
    names: set[str] = set()
    for lookup in options.get("lookups") or []:
        if isinstance(lookup, dict) and lookup.get("rows"):
            for name in lookup["rows"][0]:
                names.add(f"{lookup_name(lookup)}.{name}")
        elif isinstance(lookup, dict) and lookup.get("header"):
            names.update(f"{lookup_name(lookup)}.{name}" for name in lookup["header"])
    return names


def mapping_from_file(path: str | Path) -> dict[str, Any]:
    """Load mapping.json; lookups naming a `file` are read (relative to the mapping) into `rows`."""
    from leadhandoff.csv_reader import CsvFile, ImportFileError

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ApplicationError(f"{path}: no such mapping file.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApplicationError(f"{path} is not a JSON mapping: {exc}.") from exc
    if not isinstance(data, dict):
        raise ApplicationError(f"{path} must hold a JSON object with columns, values and options.")
    mapping = {
        "columns": data.get("columns") or {},
        "values": data.get("values") or {},
        "options": dict(data.get("options") or {}),
    }
    lookups = []
    for lookup in mapping["options"].get("lookups") or []:
        if isinstance(lookup, dict) and lookup.get("file") and "rows" not in lookup:
            try:
                table = CsvFile.from_path(path.parent / lookup["file"])
            except ImportFileError as exc:
                raise ApplicationError(f"Lookup file of {path}: {exc.message}") from exc
            rows = [dict(zip(table.header, row.cells, strict=False)) for row in table.rows()]
            lookup = {k: v for k, v in lookup.items() if k != "file"} | {"rows": rows}
        lookups.append(lookup)
    if lookups:
        mapping["options"]["lookups"] = lookups
    errors = mapping_check(mapping)
    if errors:
        raise ApplicationError(f"{path} is not a usable mapping.", fields=errors)
    return mapping


# --- Value-map text, as marketers edit it in the browser ---------------------


def values_to_text(values: Mapping[str, Mapping[str, Any]]) -> str:
    """One `field: raw -> stored` per line (the mapping form's textarea)."""
    lines = []
    for field, table in values.items():
        for raw, stored in table.items():
            lines.append(f"{field}: {raw} -> {'' if stored is None else stored}".rstrip())
    return "\n".join(lines)


def values_from_text(text: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Parse the textarea back; returns (values, errors naming the bad lines)."""
    values: dict[str, dict[str, str]] = {}
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"\s*([^:]+?)\s*:\s*(.*?)\s*->\s*(.*?)\s*", line)
        if not match:
            errors.append(f"Line {number}: write it as “field: raw value -> stored value”.")
            continue
        field, raw, stored = match.groups()
        if field != "*" and not is_known_target(field):
            errors.append(f"Line {number}: unknown lead field “{field}”.")
            continue
        values.setdefault(field, {})[raw] = stored
    return values, errors


def suggest_values(columns: Mapping[str, Any], samples: Mapping[str, list[str]]) -> dict[str, dict[str, str]]:
    """Value maps worth proposing from sample values: stages to open/won/lost, 'Select' to empty."""
    suggested: dict[str, dict[str, str]] = {}
    for column, spec in columns.items():
        seen = [v for v in dict.fromkeys(samples.get(column, [])) if v.strip()]
        for target in targets_of(spec):
            if target == "stage":
                table = {}
                for raw in seen:
                    low = raw.strip().lower()
                    if low in STAGE_VALUES:
                        continue
                    # An outcome column such as Converted 1/0 or is_won true/false.
                    if low in ("1", "true", "yes", "y"):
                        table[raw] = "won"
                    elif low in ("0", "false", "no", "n"):
                        table[raw] = "lost"
                    elif re.search(r"\b(?:not|non|un)\b|^not|^un|^non", low):
                        table[raw] = "lost" if re.search(r"converted|won|customer", low) else "open"
                    elif re.search(r"won|closed.?won|success|converted|customer", low):
                        table[raw] = "won"
                    elif re.search(r"lost|closed.?lost|dead|disqualified|rejected", low):
                        table[raw] = "lost"
                    else:
                        table[raw] = "open"
                if table:
                    suggested["stage"] = table
            elif target == "origin":
                table = {}
                for raw in seen:
                    low = raw.strip().lower()
                    if low not in Origin.values:
                        table[raw] = Origin.REP_SOURCED if re.search(r"rep|sales|outbound", low) else Origin.MARKETING
                if table:
                    suggested["origin"] = table
            elif target == "rep_source_channel":
                continue
    if any(v.strip().lower() == "select" for vs in samples.values() for v in vs):
        suggested["*"] = {"Select": ""}
    return suggested


CHOICE_FIELDS = {
    "origin": {**{v: v for v in Origin.values}, **{label.lower(): v for v, label in Origin.choices}},
    "rep_source_channel": {
        **{v: v for v in RepSourceChannel.values},
        **{label.lower(): v for v, label in RepSourceChannel.choices},
    },
}
