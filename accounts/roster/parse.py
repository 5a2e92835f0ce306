"""Reading a roster file: which column is what, and each row's values, checked within the file.

No database here: what the rows say about each other (a rep twice, a team with
two managers or two regions, a manager listed as a rep) is found before any
user or team is looked up (accounts.roster.services does that part).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.names import name_clean
from leadhandoff.csv_reader import CsvRow

# Header spellings (lower case, letters and digits only) -> what the column holds.
COLUMN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "name": (
        "salesagent",
        "agent",
        "agentname",
        "rep",
        "repname",
        "salesrep",
        "salesrepname",
        "salesperson",
        "name",
        "fullname",
        "member",
        "employee",
    ),
    "first_name": ("firstname", "givenname", "forename"),
    "last_name": ("lastname", "surname", "familyname"),
    "email": ("email", "emailaddress", "repemail", "agentemail", "salesagentemail", "salesrepemail", "workemail"),
    "manager": ("manager", "managername", "manageremail", "salesmanager", "teammanager", "teamlead", "teamleader"),
    "team": ("team", "teamname", "salesteam"),
    "region": ("region", "regionaloffice", "office", "territory", "regionname", "salesregion"),
}
_COLUMN_OF = {spelling: what for what, spellings in COLUMN_SPELLINGS.items() for spelling in spellings}
NAME_LIMIT = 150  # User.first_name / last_name
TEAM_LIMIT = 100  # Team.name
REGION_LIMIT = 100  # Team.region


def team_name_for_manager(manager: str) -> str:
    """The team a manager's reps form when the file has no team column: "Dustin Brinkmann's team"."""
    return f"{manager}'s team"[:TEAM_LIMIT]


def _normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


@dataclass
class RosterColumns:
    index: dict[str, int]  # what -> column index
    ignored: list[str]  # headers we do not read

    @classmethod
    def from_header(cls, header: list[str]) -> tuple[RosterColumns, list[str]]:
        """The columns, and what is wrong with the header ([] when usable)."""
        index: dict[str, int] = {}
        ignored: list[str] = []
        for position, column in enumerate(header):
            what = _COLUMN_OF.get(_normalise(column))
            if what is None or what in index:
                ignored.append(column)
            else:
                index[what] = position
        errors = []
        if not {"name", "email", "first_name", "last_name"} & set(index):
            errors.append(
                "No column names the rep: call it sales_agent, rep, name or email (or first_name and last_name)."
            )
        if not {"team", "manager"} & set(index):
            errors.append("No team or manager column: a rep's team comes from one of them.")
        return cls(index=index, ignored=ignored), errors


@dataclass
class RosterRow:
    line: int
    name: str = ""
    email: str = ""
    manager: str = ""  # a name or an email
    team: str = ""  # as given; empty: the manager's team
    region: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def rep_label(self) -> str:
        return self.name or self.email

    @property
    def rep_key(self) -> str:
        return (self.email or self.name).lower()


def _cell(cells: list[str], columns: RosterColumns, what: str) -> str:
    position = columns.index.get(what)
    return name_clean(cells[position]) if position is not None and position < len(cells) else ""


def _email_error(value: str, what: str) -> str | None:
    try:
        validate_email(value)
    except ValidationError:
        return f"{what} “{value[:80]}” is not an email address"
    return None


def parse_rows(rows: Iterable[CsvRow], columns: RosterColumns, width: int) -> list[RosterRow]:
    """Every row with its values and its own errors, then the checks across rows."""
    parsed: list[RosterRow] = []
    for row in rows:
        cells = row.cells
        out = RosterRow(line=row.line)
        parsed.append(out)
        if len(cells) != width:
            out.errors.append(f"has {len(cells)} fields, the header has {width}")
            continue
        name = _cell(cells, columns, "name")
        if not name:
            name = name_clean(f"{_cell(cells, columns, 'first_name')} {_cell(cells, columns, 'last_name')}")
        email = _cell(cells, columns, "email")
        if "@" in name and not email:  # a name column holding addresses
            name, email = "", name
        out.name, out.email = name, email
        out.manager = _cell(cells, columns, "manager")
        out.team = _cell(cells, columns, "team")
        out.region = _cell(cells, columns, "region")
        if not name and not email:
            out.errors.append("has no rep name or email")
        if email and (problem := _email_error(email, "the email")):
            out.errors.append(problem)
        if "@" in out.manager and (problem := _email_error(out.manager, "the manager")):
            out.errors.append(problem)
        if any(len(part) > NAME_LIMIT for part in (*name.split(" "), *out.manager.split(" "))):
            out.errors.append(f"a name is over {NAME_LIMIT} characters")
        if not out.team and not out.manager:
            out.errors.append("has no team or manager: the rep's team cannot be told")
        if len(out.team) > TEAM_LIMIT:
            out.errors.append(f"the team name is over {TEAM_LIMIT} characters")
        if len(out.region) > REGION_LIMIT:
            out.errors.append(f"the region is over {REGION_LIMIT} characters")
    _check_across_rows(parsed)
    return parsed


def _check_across_rows(rows: list[RosterRow]) -> None:
    """A rep once; one manager and one region per team; a manager is not also a rep."""
    first_line: dict[str, int] = {}
    team_manager: dict[str, tuple[str, int]] = {}
    team_region: dict[str, tuple[str, int]] = {}
    managers: dict[str, int] = {}  # manager -> first line naming them
    for row in rows:
        if row.manager and not row.errors:
            managers.setdefault(row.manager.lower(), row.line)
    for row in rows:
        if row.errors:
            continue
        for key in {row.email.lower(), row.name.lower()} - {""}:
            if key in first_line:
                row.errors.append(f"duplicate: the same rep as line {first_line[key]}")
                break
        else:
            for key in {row.email.lower(), row.name.lower()} - {""}:
                first_line[key] = row.line
        for key in {row.email.lower(), row.name.lower()} - {""}:
            if key in managers:
                row.errors.append(f"“{row.rep_label}” is the manager on line {managers[key]}; a manager is not a rep")
                break
        team = (row.team or team_name_for_manager(row.manager)).lower()
        if row.manager:
            seen = team_manager.setdefault(team, (row.manager, row.line))
            if seen[0].lower() != row.manager.lower():
                row.errors.append(
                    f"team “{row.team}” has the manager “{seen[0]}” on line {seen[1]}; a team has one manager"
                )
        if row.region:
            seen = team_region.setdefault(team, (row.region, row.line))
            if seen[0].lower() != row.region.lower():
                shown = row.team or team_name_for_manager(row.manager)
                row.errors.append(f"team “{shown}” is in the region “{seen[0]}” on line {seen[1]}; a team has one")
