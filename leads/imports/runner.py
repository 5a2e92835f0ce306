"""The import itself: parse rows, match them to leads, decide status and owner, write in chunks.

Each chunk runs in one transaction: owners it needs, the lock on the leads it
matches, the lead writes and their history rows commit together or not at all,
so an interrupted import leaves no half-written lead. Rows are matched by key
(external id first, then email compared case-insensitively, as leads.intake.services
does), so running the same file again updates the same leads and creates none.

Rules a row goes through (each refusal is reported with its line and reason):
- a cell that does not convert (date, number, email, stage...) rejects the row;
- the key column must have a value;
- a later row with an email or external id already seen in the file is
  reported as a duplicate of the first one; the first row wins, nothing merges;
- a row whose email and external id name two different stored leads is refused;
- stage open/won/lost becomes the lead status: won -> won, lost -> lost, open ->
  `working` when the deal was contacted (a first-contact date or touches),
  `assigned` when it has an owner, `queued` (in a team's queue) when it has none.
  A lead with an owner is never left in the nurture pool. An import never moves a
  lead back into the pool.
- imported open leads get no SLA clock (sla_due_at stays empty): their first
  contact happened, or not, in the system they came from.
- dates must make sense: a close date before the lead was created or first
  contacted, or a close date on an open lead, rejects the row with the reason. A
  won or lost lead without a close date keeps it unknown (NULL, never the import
  time): the cycle figures (leads.figures) leave it out and the result counts it
  (closed_undated). A first contact date on an open lead without an owner is
  refused: it would mark a pool or queue lead contacted by nobody. A new lead
  without a created date is created at its earliest known date (first contact,
  close), else at the import time.
- owner_team / owner_manager / owner_region columns (often a lookup of a sales-team
  file) describe each owner's team: before any lead is written, the distinct owners
  they name go through the roster import (accounts.roster.services) as one roster,
  so reps land on their managers' teams, tagged with their regions.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction

from accounts.models import RepProfile, Role, Team, User
from accounts.names import name_clean, name_parts, username_base, username_unique
from accounts.roster.parse import RosterColumns, parse_rows
from accounts.roster.services import RosterRefusedError, RosterReport, roster_rows_import
from accounts.services import user_create
from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile, CsvRow
from leadhandoff.sql import tables_analyze
from leads.fields.selectors import custom_fields_by_name
from leads.fields.services import attributes_clean, consent_import
from leads.imports.mapping import ATTRIBUTE_PREFIX, CONSENT_TARGETS, OWNER_TEAM_FIELDS
from leads.imports.parse import ParsedRow, Plan
from leads.imports.writer import ChunkOutcome, LeadWrite, WriteContext, write_chunk
from leads.intake.services import ORIGIN_FIELDS, origin_change_refusal
from leads.models import OPEN_STATUSES, Lead, Status
from leads.signals import lead_activity

CHUNK_SIZE = 5000
SALES_OWNED_OPEN = (Status.ASSIGNED, Status.CONTACTED, Status.WORKING, Status.OPPORTUNITY)
FALLBACK_TEAM_NAME = "Unassigned"
# A pool or queue lead marked contacted would count as a contact nobody in sales made.
UNOWNED_FIRST_CONTACT = (
    "a first contact date on a lead without an owner: nobody in sales made that contact "
    "(map the rep who did to Owner, or map the date to the created date)"
)


@dataclass
class ImportResult:
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    owners_created: list[str] = field(default_factory=list)
    # Won or lost leads written without a close date (stored unknown, left out of cycle figures).
    closed_undated: int = 0
    roster: RosterReport | None = None  # the owners' teams the file described, when it did
    dry_run: bool = False

    @property
    def rejected(self) -> int:
        return len(self.rejections)


class _DryRunRollbackError(Exception):
    pass


# --- Owners ----------------------------------------------------------------------


class OwnerResolver:
    """Finds the rep a cell names (username, email or full name, any case); creates inactive reps on request."""

    def __init__(self, *, create_missing: bool, team_name: str | None):
        self.create_missing = create_missing
        self.team_name = (team_name or "").strip() or None
        self._team: Team | None = None
        self._load()

    def _load(self) -> None:
        self.by_name: dict[str, list[int]] = {}
        self.team_of: dict[int, int | None] = {}
        self.usernames: set[str] = set()
        self.created: list[str] = []
        users = User.objects.filter(role__in=(Role.REP, Role.MANAGER)).values_list(
            "id", "username", "email", "first_name", "last_name", "role"
        )
        team_of_rep = dict(RepProfile.objects.values_list("user_id", "team_id"))
        team_of_manager: dict[int, int] = {}
        for team_id, manager_id in (
            Team.objects.filter(manager__isnull=False).order_by("id").values_list("id", "manager_id")
        ):
            team_of_manager.setdefault(manager_id, team_id)
        for pk, username, email, first, last, role in users:
            self.team_of[pk] = team_of_rep.get(pk) if role == Role.REP else team_of_manager.get(pk)
            for name in {username.lower(), (email or "").lower(), f"{first} {last}".strip().lower()}:
                if name:
                    self.by_name.setdefault(name, []).append(pk)
        self.usernames = {u.lower() for u in User.objects.values_list("username", flat=True)}

    def reset(self) -> None:
        """After a rolled-back chunk: forget reps created in it."""
        self._team = None
        self._load()

    def find(self, raw: str) -> tuple[int | None, str | None]:
        """(user id, None), or (None, reason) when no rep or several reps carry the name.

        A name nobody carries creates an inactive rep when create_missing is on.
        """
        ids = self.by_name.get(" ".join(raw.split()).lower(), [])
        if len(ids) == 1:
            return ids[0], None
        if len(ids) > 1:
            return None, f"owner “{raw}” matches {len(ids)} users; use the username or email"
        if self.create_missing:
            return self.create(raw), None
        return None, f"owner “{raw}” is not a sales rep here (turn on “create missing owners” to add them)"

    def team_for_new_reps(self) -> Team:
        if self._team is None:
            self._team = team_named(self.team_name) if self.team_name else fallback_team()
        return self._team

    def create(self, raw: str) -> int:
        # The same username the roster import gives the same name (accounts.names).
        name = name_clean(raw)
        email = name if "@" in name else ""
        first, last = ("", "") if email else name_parts(name)
        username = username_unique(username_base(name), self.usernames)
        team = self.team_for_new_reps()
        user = user_create(
            username=username,
            password=None,
            role=Role.REP,
            email=email,
            first_name=first[:150],
            last_name=last[:150],
            team=team,
            is_active=False,
        )
        self.usernames.add(username.lower())
        self.created.append(name)
        for key in {username.lower(), email.lower(), name.lower()}:
            if key:
                self.by_name[key] = [user.pk]
        self.team_of[user.pk] = team.pk
        return user.pk


def fallback_team() -> Team:
    """The team that catches what nothing else claims; "Unassigned" is created when there is none."""
    team = Team.objects.filter(is_fallback=True).first()
    if team is not None:
        return team
    try:
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(name=FALLBACK_TEAM_NAME, defaults={"is_fallback": True})
    except IntegrityError:  # another import made the fallback team at the same moment
        team = Team.objects.get(is_fallback=True)
    return team


def team_named(name: str) -> Team:
    try:
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(name=name)
    except IntegrityError:
        team = Team.objects.get(name=name)
    return team


# --- Status ---------------------------------------------------------------------


def status_for(
    *, stage: str | None, owner_id: int | None, contacted: bool, current: str | None
) -> tuple[str | None, str | None]:
    """(new status, None) or (None, reason). `current` is the stored lead's status (None for a new lead)."""
    if stage in (Status.WON, Status.LOST):
        return stage, None
    if stage == "open" or (stage is None and owner_id and current in (None, Status.NURTURE)):
        if owner_id:
            if current in SALES_OWNED_OPEN:
                return current, None  # never set a rep's progress back
            return (Status.WORKING if contacted else Status.ASSIGNED), None
        if current in OPEN_STATUSES:
            return current, None
        return Status.QUEUED, None
    if stage is None:
        return (current or Status.NURTURE), None
    # An explicit lead status.
    if stage == Status.NURTURE:
        if owner_id:
            return None, "a lead with an owner cannot be in the nurture pool (stage nurture)"
        if current not in (None, Status.NURTURE):
            return None, f"an import does not move a lead back into the nurture pool (it is {current})"
        return Status.NURTURE, None
    if stage in SALES_OWNED_OPEN and not owner_id:
        return None, f"stage {stage} needs an owner"
    return stage, None


# --- The import -------------------------------------------------------------------


@dataclass(slots=True)
class _Existing:
    id: int
    email: str | None
    external_id: str | None
    status: str
    owner_id: int | None
    team_id: int | None
    assigned_at: datetime.datetime | None
    created_at: datetime.datetime
    first_contact_at: datetime.datetime | None
    touch_count: int | None  # None: unknown (imported without a touch count)
    origin: str
    rep_source_channel: str
    closed_at: datetime.datetime | None


_EXISTING_COLUMNS = [f.name for f in _Existing.__dataclass_fields__.values()]


def existing_leads(rows: list[ParsedRow], *, lock: bool) -> tuple[dict[str, _Existing], dict[str, _Existing]]:
    """The stored leads the rows' keys name, by lowercased email and by external id; `lock`
    holds them until the transaction commits (the import's chunks; the preview only reads)."""
    emails = [r.email_key for r in rows if r.email_key]
    exts = [r.external_id for r in rows if r.external_id]
    # Arrays instead of thousands of IN parameters; the IS NOT NULL terms let the planner
    # use the partial unique indexes lead_email_ci_unique and lead_external_id_unique.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_EXISTING_COLUMNS)} FROM leads_lead"  # noqa: S608 - fixed column names
            " WHERE (email IS NOT NULL AND lower(email) = ANY(%s::text[]))"
            " OR (external_id IS NOT NULL AND external_id = ANY(%s::text[]))"
            # One lock order: two imports touching the same leads wait, never deadlock.
            + (" ORDER BY id FOR UPDATE" if lock else ""),
            [emails, exts],
        )
        found = cursor.fetchall()
    by_email: dict[str, _Existing] = {}
    by_ext: dict[str, _Existing] = {}
    for values in found:
        lead = _Existing(*values)
        if lead.email:
            by_email[lead.email.lower()] = lead
        if lead.external_id:
            by_ext[lead.external_id] = lead
    return by_email, by_ext


def key_duplicate(row: ParsedRow, seen_email: dict[str, int], seen_external_id: dict[str, int]) -> str | None:
    """Why a row repeats an earlier row's key ("duplicate: same email as line 4"), or None after
    noting its keys: the first row with a key is the one kept."""
    email, ext = row.email_key, row.external_id
    first = (ext and seen_external_id.get(ext)) or (email and seen_email.get(email))
    if first:
        what = "external id" if ext and ext in seen_external_id else "email"
        return f"duplicate: same {what} as line {first} (first row kept)"
    if ext:
        seen_external_id[ext] = row.line
    if email:
        seen_email[email] = row.line
    return None


def row_existing(
    row: ParsedRow, by_email: dict[str, _Existing], by_ext: dict[str, _Existing]
) -> tuple[_Existing | None, str | None]:
    """(the stored lead the row names or None, None), or (None, why its keys disagree)."""
    email, ext = row.email_key, row.external_id
    by_e = by_email.get(email) if email else None
    by_x = by_ext.get(ext) if ext else None
    if by_x and by_e and by_x.id != by_e.id:
        return None, f"the email belongs to another lead than the external id {ext}"
    if by_e and not by_x and ext and by_e.external_id and by_e.external_id != ext:
        return None, f"the email belongs to a lead with another external id ({by_e.external_id})"
    return by_x or by_e, None


@dataclass(slots=True)
class RowVerdict:
    """What the import makes of a row and the lead it names: its status, owner, dates and
    custom attributes, or why it refuses the row (`reason`)."""

    reason: str | None = None
    status: str | None = None
    owner_id: int | None = None
    created_at: datetime.datetime | None = None
    closed_at: datetime.datetime | None = None
    attributes: dict[str, Any] | None = None


def row_verdict(
    row: ParsedRow,
    existing: _Existing | None,
    *,
    owners: OwnerResolver | None,
    custom_fields: dict,
    now: datetime.datetime,
) -> RowVerdict:
    """The import's checks of one row, in the order it makes them; the preview asks the same."""
    refusal = existing and next(
        (
            message
            for name in ORIGIN_FIELDS
            if name in row.values
            and (message := origin_change_refusal(name, getattr(existing, name), row.values[name]))
        ),
        None,
    )
    if refusal:
        return RowVerdict(refusal)
    owner_id = existing.owner_id if existing else None
    if row.owner is not None and owners is not None:
        found, reason = owners.find(row.owner)
        if found is None:
            return RowVerdict(reason or "owner not found")
        owner_id = found
    values = row.values
    contacted = bool(
        values.get("first_contact_at")
        or values.get("touch_count")
        or (existing and (existing.first_contact_at or existing.touch_count))
    )
    status, reason = status_for(
        stage=row.stage, owner_id=owner_id, contacted=contacted, current=existing.status if existing else None
    )
    if status is None:
        return RowVerdict(reason or "invalid stage")
    if values.get("first_contact_at") and not owner_id and status not in (Status.WON, Status.LOST):
        return RowVerdict(UNOWNED_FIRST_CONTACT)
    created_at = values.get("created_at") or (existing.created_at if existing else None)
    if created_at is None:
        # A new lead without a created date came in no later than its first contact or close.
        known = [d for d in (values.get("first_contact_at"), values.get("closed_at")) if d is not None]
        created_at = min([now, *known])
    reason = close_date_refusal(
        status=status,
        closed_at=values.get("closed_at"),
        created_at=created_at,
        first_contact_at=values.get("first_contact_at") or (existing.first_contact_at if existing else None),
    )
    if reason:
        return RowVerdict(reason)
    attributes = None
    if row.attributes:
        # Declared custom fields are typed (issue 14, leads.fields); a bad value rejects the row.
        attributes, faults = attributes_clean(row.attributes, custom_fields)
        if faults:
            return RowVerdict("; ".join(faults[n] for n in sorted(faults)))
    return RowVerdict(
        status=status,
        owner_id=owner_id,
        created_at=created_at,
        closed_at=values.get("closed_at") or (existing.closed_at if existing else None),
        attributes=attributes,
    )


class Importer:
    """One run of a mapping over a file. `run()` returns an ImportResult."""

    def __init__(
        self,
        *,
        csv_file: CsvFile,
        mapping: dict[str, Any],
        actor: User | None,
        now: datetime.datetime,
        job_id: int | None = None,
        dry_run: bool = False,
        chunk_size: int = CHUNK_SIZE,
        on_chunk: Callable[[ImportResult], None] | None = None,
        writer: Callable[[list[LeadWrite], WriteContext], ChunkOutcome] | None = None,
        lookup_files: dict[str, list[dict[str, str]]] | None = None,
    ):
        self.csv_file = csv_file
        # ApplicationError when unusable
        self.plan = Plan.compile(mapping, csv_file.header, lookup_files=lookup_files)
        self.actor = actor
        self.now = now
        self.job_id = job_id
        self.dry_run = dry_run
        self.chunk_size = chunk_size
        self.on_chunk = on_chunk
        self.writer = writer or write_chunk
        self.custom_fields = custom_fields_by_name()
        self.owners: OwnerResolver | None = None
        self.result = ImportResult(dry_run=dry_run)
        self.seen_email: dict[str, int] = {}
        self.seen_external_id: dict[str, int] = {}
        self.seen_lead_id: dict[int, int] = {}
        self.columns = self._columns()
        self._queue_team_id: int | None = None

    def _columns(self) -> list[str]:
        mapped = self.plan.mapped
        cols = []
        for name in mapped:
            if (
                name in ("owner", "stage", "full_name", *CONSENT_TARGETS)
                or name in OWNER_TEAM_FIELDS
                or name.startswith(ATTRIBUTE_PREFIX)
            ):
                continue  # consent is written apart (leads.fields.services.consent_import)
            cols.append(name)
        if "full_name" in mapped:
            cols += ["first_name", "last_name"]
        if any(name.startswith(ATTRIBUTE_PREFIX) for name in mapped):
            cols.append("attributes")
        cols += ["created_at", "closed_at", "status", "owner_id", "team_id", "assigned_at", "needs_rescore"]
        return sorted(set(cols), key=cols.index)

    # -- driving --

    def run(self) -> ImportResult:
        self.result.total = self.csv_file.row_count
        if self.dry_run:
            try:
                with transaction.atomic():
                    self._run_chunks()
                    raise _DryRunRollbackError
            except _DryRunRollbackError:
                pass
        else:
            self._run_chunks()
            # Statistics for what the file brought in (leads.imports: a preview or a
            # pool search right after a big import must not plan on an empty table).
            tables_analyze("leads_lead", "leads_leadhistory", rows=self.result.created + self.result.updated)
        return self.result

    def _run_chunks(self) -> None:
        self._roster_from_file()
        if {"owner"} & self.plan.mapped or self.plan.options.get("create_missing_owners"):
            self.owners = OwnerResolver(
                create_missing=bool(self.plan.options.get("create_missing_owners")),
                team_name=self.plan.options.get("team"),
            )
        for chunk, parsed in self._parsed_chunks():
            for attempt in (1, 2):
                try:
                    with transaction.atomic():
                        outcome, rejections, matched = self._write_chunk(parsed)
                        if outcome.nurture_ids:
                            ids = list(outcome.nurture_ids)
                            transaction.on_commit(lambda ids=ids: lead_activity.send(sender=Lead, lead_ids=ids))
                    break
                except IntegrityError:
                    # A key appeared in another transaction between our look-up and write:
                    # look again once (the chunk rolled back whole); a second failure is real.
                    if self.owners:
                        self.owners.reset()
                    self._queue_team_id = None
                    if attempt == 2:
                        raise
            self.seen_lead_id.update(matched)
            if self.owners:
                self.result.owners_created.extend(self.owners.created)
                self.owners.created = []
            self.result.rejections.extend(rejections)
            self.result.created += outcome.created
            self.result.updated += outcome.updated
            self.result.closed_undated += outcome.closed_undated
            self.result.processed += len(chunk)
            if self.on_chunk:
                self.on_chunk(self.result)

    def _roster_from_file(self) -> None:
        """Put the owners the file names on the teams its owner_team / owner_manager / owner_region say.

        One roster row per distinct owner (its first row in the file); an owner the file
        gives two different teams, managers or regions refuses the import (nothing written),
        as does anything the roster import refuses.
        """
        if not self.plan.mapped & set(OWNER_TEAM_FIELDS):
            return
        if "owner" not in self.plan.mapped:
            raise ApplicationError(
                "The owners' team, manager or region is mapped but no owner column is.",
                fields={"columns": ["Map the column naming each lead's rep to Owner."]},
            )
        first: dict[str, tuple[int, str, dict[str, str]]] = {}
        conflicts: list[str] = []
        for row in self.csv_file.rows():
            parsed = self.plan.parse(row)
            if parsed.errors or not parsed.owner:
                continue  # reported when the row itself is imported
            key = " ".join(parsed.owner.split()).lower()
            seen = first.setdefault(key, (row.line, parsed.owner, parsed.roster))
            if seen[2] != parsed.roster and len(conflicts) < 20:
                said = ", ".join(f"{k} {v}" for k, v in sorted(seen[2].items())) or "no team"
                now = ", ".join(f"{k} {v}" for k, v in sorted(parsed.roster.items())) or "no team"
                conflicts.append(f"line {row.line}: {parsed.owner} has {now}, but {said} on line {seen[0]}")
        if conflicts:
            raise ApplicationError(
                "The file gives an owner two different teams; nothing was imported.", fields={"owner_team": conflicts}
            )
        header = ["sales_agent", "manager", "team", "region"]
        columns, _errors = RosterColumns.from_header(header)
        rows = [
            CsvRow(
                line=line, cells=[owner, roster.get("manager", ""), roster.get("team", ""), roster.get("region", "")]
            )
            for line, owner, roster in sorted(first.values())
            if roster
        ]
        if rows:
            # Written for good even when the lead chunks after it reject rows: a roster is
            # all or nothing on its own (the dry run rolls it back with everything else).
            try:
                self.result.roster = roster_rows_import(rows=parse_rows(rows, columns, len(header)))
            except RosterRefusedError as exc:
                problems = [f"line {line}: {error}" for line, error in exc.report.errors[:20]]
                raise ApplicationError(
                    "The owners' teams in the file cannot be imported; nothing was imported. " + "; ".join(problems),
                    fields={"owner_team": problems},
                ) from exc

    def _parsed_chunks(self) -> Iterator[tuple[list[CsvRow], list[ParsedRow | dict[str, Any]]]]:
        """(chunk, parsed rows), parsed one chunk ahead in a thread of its own.

        Parsing is plain Python with no database access; psycopg2 releases the GIL
        while a statement runs, so the next chunk is parsed while this one is written.
        Only that thread touches the within-file duplicate maps (seen_email, seen_external_id).
        """
        chunks = _chunks(self.csv_file.rows(), self.chunk_size)

        def parse_next() -> tuple[list[CsvRow], list[ParsedRow | dict[str, Any]]] | None:
            chunk = next(chunks, None)
            return None if chunk is None else (chunk, self._parse_chunk(chunk))

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-parse") as parser:
            ahead = parser.submit(parse_next)
            while (item := ahead.result()) is not None:
                ahead = parser.submit(parse_next)
                yield item

    def _reject(self, rejections: list[dict[str, Any]], row: ParsedRow | CsvRow, reason: str, key: str = "") -> None:
        rejections.append({"line": row.line, "reason": reason, "key": key})

    def _parse_chunk(self, chunk: list[CsvRow]) -> list[ParsedRow | dict[str, Any]]:
        """Parsed rows, or the rejection dict in their place (order kept so lines stay sorted)."""
        out: list[ParsedRow | dict[str, Any]] = []
        for row in chunk:
            parsed = self.plan.parse(row)
            key = parsed.values.get(self.plan.key) or ""
            if parsed.errors:
                out.append({"line": row.line, "reason": "; ".join(parsed.errors), "key": key})
                continue
            duplicate = key_duplicate(parsed, self.seen_email, self.seen_external_id)
            if duplicate:
                out.append({"line": row.line, "reason": duplicate, "key": key})
                continue
            out.append(parsed)
        return out

    def _queue_team(self) -> int | None:
        if self._queue_team_id is None:
            team_name = (self.plan.options.get("team") or "").strip()
            self._queue_team_id = (team_named(team_name) if team_name else fallback_team()).pk
        return self._queue_team_id

    def _write_chunk(
        self, parsed_rows: list[ParsedRow | dict[str, Any]]
    ) -> tuple[ChunkOutcome, list[dict[str, Any]], dict[int, int]]:
        rejections: list[dict[str, Any]] = []
        undated = 0
        rows = [r for r in parsed_rows if isinstance(r, ParsedRow)]
        by_email, by_ext = existing_leads(rows, lock=True) if rows else ({}, {})
        matched: dict[int, int] = {}
        writes: list[LeadWrite] = []
        consent_by_key: dict[str, dict[str, bool]] = {}
        key_name = self.plan.key
        for row in parsed_rows:
            if isinstance(row, dict):
                rejections.append(row)
                continue
            key = row.values.get(key_name) or ""
            existing, reason = row_existing(row, by_email, by_ext)
            if reason:
                self._reject(rejections, row, reason, key)
                continue
            if existing is not None:
                first = self.seen_lead_id.get(existing.id) or matched.get(existing.id)
                if first:
                    self._reject(rejections, row, f"duplicate: names the same lead as line {first}", key)
                    continue
            verdict = row_verdict(row, existing, owners=self.owners, custom_fields=self.custom_fields, now=self.now)
            if verdict.reason:
                self._reject(rejections, row, verdict.reason, key)
                continue
            values, status, owner_id = row.values, verdict.status, verdict.owner_id
            created_at, closed_at = verdict.created_at, verdict.closed_at
            if status in (Status.WON, Status.LOST) and closed_at is None:
                undated += 1

            write = dict(values)
            write["closed_at"] = closed_at
            if verdict.attributes is not None:
                write["attributes"] = verdict.attributes
            consent = {name: write.pop(name) for name in CONSENT_TARGETS if name in write}
            if consent:
                consent_by_key[key] = consent
            write["status"] = status
            if status == Status.NURTURE:
                owner_id = None
            write["owner_id"] = owner_id
            if owner_id:
                write["team_id"] = self.owners.team_of.get(owner_id) if self.owners else None
                write["team_id"] = write["team_id"] or (existing.team_id if existing else None)
            elif status == Status.QUEUED:
                write["team_id"] = (existing.team_id if existing else None) or self._queue_team()
            else:
                write["team_id"] = existing.team_id if existing else None
            if owner_id and existing and existing.owner_id == owner_id and existing.assigned_at:
                write["assigned_at"] = existing.assigned_at
            elif owner_id:
                write["assigned_at"] = values.get("created_at") or (existing.created_at if existing else self.now)
            else:
                write["assigned_at"] = existing.assigned_at if existing else None
            write["needs_rescore"] = status == Status.NURTURE
            if existing is None:
                write.setdefault("created_at", created_at)
            else:
                matched[existing.id] = row.line
            writes.append(
                LeadWrite(
                    line=row.line,
                    lead_id=existing.id if existing else None,
                    old_status=existing.status if existing else None,
                    values=write,
                )
            )
        context = WriteContext(
            columns=self.columns,
            key=key_name,
            now=self.now,
            actor_id=self.actor.pk if self.actor else None,
            job_id=self.job_id,
        )
        outcome = self.writer(writes, context)
        outcome.closed_undated = undated
        consent_import(
            key_field=key_name,
            flags_by_key=consent_by_key,
            source=f"import #{self.job_id}" if self.job_id else "import",
            now=self.now,
            actor_id=context.actor_id,
        )
        rejections.sort(key=lambda r: r["line"])
        return outcome, rejections, matched


def _when(moment: datetime.datetime) -> str:
    if moment.hour == moment.minute == moment.second == 0:
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


def close_date_refusal(
    *,
    status: str,
    closed_at: datetime.datetime | None,
    created_at: datetime.datetime | None,
    first_contact_at: datetime.datetime | None,
) -> str | None:
    """Why a lead's close date cannot be, or None. `closed_at` is the one being written.

    A close date belongs to a won or lost lead, and no deal closes before the lead
    existed or before its first contact (a negative cycle).
    """
    if closed_at is None:
        return None
    if status not in (Status.WON, Status.LOST):
        return (
            f"the close date {_when(closed_at)} is on an open lead ({status}): "
            "map its stage to won or lost, or leave the close date empty"
        )
    if created_at is not None and closed_at < created_at:
        return f"the close date {_when(closed_at)} is before the lead was created ({_when(created_at)})"
    if first_contact_at is not None and closed_at < first_contact_at:
        return f"the close date {_when(closed_at)} is before the first contact ({_when(first_contact_at)})"
    return None


def _chunks(rows: Iterable[CsvRow], size: int) -> Iterator[list[CsvRow]]:
    chunk: list[CsvRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
