"""Writing a roster: managers, teams and reps, all in one transaction or not at all.

A person in the file is matched to a user by email, else by the username the
name gives (accounts.names, the rule the lead import uses for owners it
creates), else by full name (any case), as the lead import matches owners. So
the reps a roster creates are the owners an imported pipeline finds.

- A missing manager is created with the manager role, a missing rep with the rep
  role on its team; both without a usable password (an admin sets one, or they
  reset it). Existing users keep their password, role and active flag; a
  missing email or name is filled in.
- A rep's team is the file's team column, else the one team its manager manages,
  else "<manager>'s team", created when missing and tagged with the row's region.
- A rep already on another team moves. A lead keeps the team it has: import
  the roster before the pipeline (or import the pipeline again after it, which
  puts each lead on its owner's team).
- Any error in any row writes nothing: the report lists every row's errors.
  Running the same file twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction

from accounts.models import RepProfile, Role, Team, User
from accounts.names import name_parts, username_base, username_unique
from accounts.roster.parse import RosterColumns, RosterRow, parse_rows, team_name_for_manager
from accounts.services import user_create
from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile

CREATE, MOVE, UPDATE, UNCHANGED = "create", "move", "update", "unchanged"
MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)
ROSTER_MAX_BYTES = 2 * 1024 * 1024  # a roster of thousands of reps is a few hundred kB
# Two-key advisory lock (namespace, 0) taken for the import's transaction: clear of the
# job models' namespaces (leadhandoff.jobs), which pair theirs with a job id.
ROSTER_LOCK = (0x2057, 0)


@dataclass
class RowResult:
    line: int
    rep: str
    email: str = ""
    manager: str = ""
    team: str = ""
    region: str = ""
    username: str = ""
    action: str = ""  # create, move, update or unchanged (empty when the row has errors)
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class TeamResult:
    name: str
    region: str = ""
    manager: str = ""
    action: str = UNCHANGED
    changes: list[str] = field(default_factory=list)
    reps: int = 0  # reps of the file on it


@dataclass
class RosterReport:
    rows: list[RowResult] = field(default_factory=list)
    teams: list[TeamResult] = field(default_factory=list)
    managers_created: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def errors(self) -> list[tuple[int, str]]:
        return [(row.line, error) for row in self.rows for error in row.errors]

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "reps_created": self.count(CREATE),
            "reps_moved": self.count(MOVE),
            "reps_updated": self.count(UPDATE),
            "reps_unchanged": self.count(UNCHANGED),
            "managers_created": len(self.managers_created),
            "teams_created": sum(1 for t in self.teams if t.action == CREATE),
            "teams_updated": sum(1 for t in self.teams if t.action == UPDATE),
            "rows_with_errors": sum(1 for row in self.rows if row.errors),
        }

    def sentence(self) -> str:
        s = self.summary
        if not self.ok:
            return f"{s['rows_with_errors']} of {s['rows']} rows have errors; nothing was imported."
        parts = [
            f"{s['reps_created']} reps created",
            f"{s['reps_moved']} moved",
            f"{s['reps_updated']} updated",
            f"{s['reps_unchanged']} unchanged",
            f"{s['managers_created']} managers created",
            f"{s['teams_created']} teams created",
            f"{s['teams_updated']} teams updated",
        ]
        regions = sorted({t.region for t in self.teams if t.region})
        tail = f" {len(self.teams)} teams in {len(regions)} regions." if regions else f" {len(self.teams)} teams."
        prefix = "Dry run, nothing written; importing gives: " if self.dry_run else ""
        return prefix + ", ".join(parts) + "." + tail

    def error_fields(self) -> dict[str, list[str]]:
        fields: dict[str, list[str]] = {}
        for line, error in self.errors:
            fields.setdefault(f"line {line}", []).append(error)
        return fields


class RosterRefusedError(ApplicationError):
    """A roster with errors: nothing was written. `report` says what each row would have done or why not."""

    def __init__(self, report: RosterReport):
        super().__init__(report.sentence(), fields=report.error_fields())
        self.report = report


class _DryRunRollbackError(Exception):
    pass


@dataclass
class _People:
    """Every user, indexed the ways a file names them; kept up to date as the import creates users."""

    by_id: dict[int, User]
    by_email: dict[str, list[int]]
    by_username: dict[str, int]
    by_full_name: dict[str, list[int]]

    @classmethod
    def load(cls) -> _People:
        people = cls({}, {}, {}, {})
        for user in User.objects.all():
            people.add(user)
        return people

    def add(self, user: User) -> None:
        self.by_id[user.pk] = user
        if user.email:
            self.by_email.setdefault(user.email.lower(), []).append(user.pk)
        self.by_username[user.username.lower()] = user.pk
        full = f"{user.first_name} {user.last_name}".strip().lower()
        if full:
            self.by_full_name.setdefault(full, []).append(user.pk)

    def find(self, *, name: str, email: str) -> tuple[User | None, str | None]:
        """(user, None), (None, None) when nobody matches, or (None, why) when the match is unclear."""
        label = name or email
        if email:
            ids = self.by_email.get(email.lower(), [])
            if len(ids) > 1:
                return None, f"the email {email} belongs to {len(ids)} users"
            if ids:
                return self.by_id[ids[0]], None
        if not name:
            return None, None
        pk = self.by_username.get(username_base(name).lower())
        ids = [pk] if pk else self.by_full_name.get(name.lower(), [])
        if len(ids) > 1:
            return None, f"“{label}” matches {len(ids)} users; give the email"
        if not ids:
            return None, None
        user = self.by_id[ids[0]]
        if email and user.email and user.email.lower() != email.lower():
            return None, f"“{name}” is the user {user.username} with another email ({user.email})"
        return user, None


def roster_file_read(*, data: bytes, name: str = "the roster") -> CsvFile:
    """The uploaded bytes as a checked CSV (ImportFileError when unreadable)."""
    return CsvFile.from_bytes(data, name=name)


def roster_import(*, csv_file: CsvFile, dry_run: bool = False) -> RosterReport:
    """Import a roster; with dry_run everything is done and rolled back (the preview shows exactly that).

    Raises ApplicationError for an unusable header and RosterRefusedError when a row
    has errors (nothing written); a dry run returns the report with its errors instead.
    """
    columns, header_errors = RosterColumns.from_header(csv_file.header)
    if header_errors:
        raise ApplicationError("The roster file cannot be used.", fields={"file": header_errors})
    rows = parse_rows(csv_file.rows(), columns, len(csv_file.header))
    return roster_rows_import(rows=rows, ignored_columns=columns.ignored, dry_run=dry_run)


def roster_rows_import(
    *, rows: list[RosterRow], ignored_columns: list[str] | None = None, dry_run: bool = False
) -> RosterReport:
    """Import parsed roster rows (a roster file's, or the owners a lead import's columns describe).

    Same rules and errors as roster_import; raises RosterRefusedError when a row has errors.
    """
    report = RosterReport(ignored_columns=list(ignored_columns or []), dry_run=dry_run)
    try:
        with transaction.atomic():
            # One roster import at a time: two at once would both create the same new
            # people and teams, and the second would fail on a unique name.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", ROSTER_LOCK)
            _apply(rows, report)
            if dry_run or not report.ok:
                raise _DryRunRollbackError
    except _DryRunRollbackError:
        pass
    if not report.rows:
        raise ApplicationError("The roster file has no rows.", fields={"file": ["Add one row per rep."]})
    if not report.ok and not dry_run:
        raise RosterRefusedError(report)
    return report


def _apply(rows: list[RosterRow], report: RosterReport) -> None:
    people = _People.load()
    teams = {team.name.lower(): team for team in Team.objects.select_related("manager")}
    usernames = set(people.by_username)
    team_results: dict[int, TeamResult] = {}

    def manager_for(row: RosterRow, result: RowResult) -> User | None:
        is_email = "@" in row.manager
        name, email = ("", row.manager) if is_email else (row.manager, "")
        user, unclear = people.find(name=name, email=email)
        if unclear:
            result.errors.append(f"manager: {unclear}")
            return None
        if user is None:
            first, last = ("", "") if is_email else name_parts(name)
            user = user_create(
                username=username_unique(username_base(row.manager), usernames),
                password=None,
                role=Role.MANAGER,
                email=email,
                first_name=first,
                last_name=last,
            )
            usernames.add(user.username.lower())
            people.add(user)
            report.managers_created.append(row.manager)
            return user
        if user.role not in MANAGER_ROLES and not user.is_superuser:
            result.errors.append(
                f"manager “{row.manager}” is the user {user.username} (role: {user.get_role_display()}); "
                "make them a manager first"
            )
            return None
        return user

    def team_for(row: RosterRow, manager: User | None, result: RowResult) -> Team | None:
        if row.team:
            name = row.team
        elif manager is not None:
            managed = [t for t in teams.values() if t.manager_id == manager.pk]
            name = managed[0].name if len(managed) == 1 else team_name_for_manager(str(manager))
        else:
            return None
        team = teams.get(name.lower())
        if team is None:
            team = Team.objects.create(name=name, manager=manager, region=row.region)
            teams[name.lower()] = team
            team_results[team.pk] = TeamResult(
                name=team.name, region=team.region, manager=str(manager or ""), action=CREATE
            )
        outcome = team_results.setdefault(
            team.pk, TeamResult(name=team.name, region=team.region, manager=str(team.manager or ""))
        )
        changed = []
        if manager is not None and team.manager_id != manager.pk:
            changed.append(f"manager {team.manager or '—'} → {manager}")
            team.manager = manager
        if row.region and team.region != row.region:
            changed.append(f"region {team.region or '—'} → {row.region}")
            team.region = row.region
        if changed:
            team.save(update_fields=["manager", "region"])
            outcome.changes += changed
            outcome.manager, outcome.region = str(team.manager or ""), team.region
            if outcome.action != CREATE:
                outcome.action = UPDATE
        outcome.reps += 1
        result.team, result.region = team.name, team.region
        return team

    for row in rows:
        result = RowResult(line=row.line, rep=row.rep_label, email=row.email, manager=row.manager, team=row.team)
        result.region = row.region
        result.errors = list(row.errors)
        report.rows.append(result)
        if result.errors:
            continue
        rep, unclear = people.find(name=row.name, email=row.email)
        if unclear:
            result.errors.append(unclear)
            continue
        if rep is not None and rep.role != Role.REP:
            result.errors.append(
                f"“{row.rep_label}” is the user {rep.username} (role: {rep.get_role_display()}), not a sales rep"
            )
            continue
        manager = manager_for(row, result) if row.manager else None
        if result.errors:
            continue
        team = team_for(row, manager, result)
        if team is None:  # cannot happen after parse's checks; kept as a guard
            result.errors.append("has no team or manager: the rep's team cannot be told")
            continue
        if rep is None:
            first, last = name_parts(row.name) if row.name else ("", "")
            rep = user_create(
                username=username_unique(username_base(row.name or row.email), usernames),
                password=None,
                role=Role.REP,
                email=row.email,
                first_name=first,
                last_name=last,
                team=team,
            )
            usernames.add(rep.username.lower())
            people.add(rep)
            result.action = CREATE
        else:
            result.action = _rep_update(rep=rep, row=row, team=team, changes=result.changes)
        result.username = rep.username
    report.teams = sorted(team_results.values(), key=lambda t: (t.region, t.name))


def _rep_update(*, rep: User, row: RosterRow, team: Team, changes: list[str]) -> str:
    """Fill in what the user lacks and move the rep to `team`; the action it amounts to."""
    fields: list[str] = []
    if row.email and not rep.email:
        rep.email = row.email
        fields.append("email")
        changes.append(f"email set to {row.email}")
    if row.name and not (rep.first_name or rep.last_name):
        rep.first_name, rep.last_name = name_parts(row.name)
        fields += ["first_name", "last_name"]
        changes.append(f"name set to {row.name}")
    if fields:
        rep.save(update_fields=fields)
    profile = RepProfile.objects.filter(user=rep).select_related("team").first()
    if profile is None:
        RepProfile.objects.create(user=rep, team=team)
        changes.append(f"put on {team}")
        return MOVE
    if profile.team_id != team.pk:
        changes.append(f"team {profile.team} → {team}")
        profile.team = team
        profile.save(update_fields=["team"])
        return MOVE
    return UPDATE if fields else UNCHANGED
