"""Writing one chunk of resolved rows, set-based.

It runs inside the chunk's transaction (leads.imports.runner), so a chunk lands
whole or not at all, and writes one `imported` history row per lead.

Per chunk:
1. Take ids for the new leads from the lead id sequence, then COPY the rows into a
   temporary staging table (dropped at commit).
2. UPDATE ... FROM staging the leads the runner matched and locked, where the row
   changes something; the statement's RETURNING feeds INSERT INTO leads_leadhistory.
3. INSERT ... SELECT FROM staging ... ON CONFLICT (key) DO UPDATE for the rest: new
   leads, or a lead another transaction created since the runner looked (the arbiter
   is the key's unique index, lead_external_id_unique or lead_email_ci_unique).
   Their history rows: INSERT ... SELECT from staging with the ids taken in step 1.

An empty cell never erases stored data: staging holds NULL for it and the
update keeps the lead's value (COALESCE).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from leads import history
from leads.models import Lead, Status

# Columns the runner computes in full for every row (existing values included),
# so the update sets them as they are rather than keeping the stored value.
DERIVED_COLUMNS = ("status", "owner_id", "team_id", "assigned_at", "needs_rescore")
# Where an imported lead differs from the model's default for a value the file does not give:
# a lead made in the app starts with 0 touches, but history brought in without a touch
# count has an unknown number of them (NULL), never 0 (the comparison reports say "unknown").
IMPORT_DEFAULTS: dict[str, Any] = {"touch_count": None}
# psycopg2 reads the COPY data in pieces of this size, taking the GIL back for each: one
# piece for a whole chunk, so the runner's parsing thread cannot hold up the COPY.
COPY_READ_SIZE = 16 * 1024 * 1024


@dataclass(slots=True)
class LeadWrite:
    line: int
    lead_id: int | None  # the existing lead the runner matched (and locked), or None for a new one
    old_status: str | None
    values: dict[str, Any]  # column attname -> value; a column absent or None keeps the stored value


@dataclass
class WriteContext:
    columns: list[str]  # attnames written this import (derived ones included), fixed for the whole import
    key: str  # "email" or "external_id"
    now: datetime.datetime
    actor_id: int | None
    job_id: int | None


@dataclass
class ChunkOutcome:
    created: int = 0
    updated: int = 0
    nurture_ids: list[int] = field(default_factory=list)
    closed_undated: int = 0  # set by the runner: won or lost rows written without a close date


def _fields_by_attname() -> dict[str, models.Field]:
    return {f.attname: f for f in Lead._meta.concrete_fields}


def _staging_type(f: models.Field) -> str:
    if isinstance(f, models.ForeignKey):
        return "bigint"
    if isinstance(f, models.JSONField):
        return "jsonb"
    return f.db_type(connection)


def write_chunk(rows: Sequence[LeadWrite], ctx: WriteContext) -> ChunkOutcome:
    outcome = ChunkOutcome()
    if not rows:
        return outcome
    fields = _fields_by_attname()
    qn = connection.ops.quote_name
    cols = ctx.columns
    new_count = sum(1 for r in rows if r.lead_id is None)

    with connection.cursor() as cursor:
        # A bulk load need not wait for its WAL flush at every chunk's commit: the chunk stays
        # atomic, and a database crash can at worst lose the last chunks' commits, which
        # running the import again (an upsert by key) restores.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # New leads get their ids up front, so their history rows need no join back to the
        # staging rows (a join the planner gets wrong on an unanalysed temporary table).
        new_ids: list[int] = []
        if new_count:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('leads_lead', 'id')) FROM generate_series(1, %s)", [new_count]
            )
            new_ids = [pk for (pk,) in cursor.fetchall()]

        # CSV through the C csv writer: NULL is an unquoted empty field. No value here is ''
        # (the parser drops empty cells), so every empty field means "not given".
        stage_cols = ["line", "lead_id", "new_id", "old_status", *cols]
        stage_defs = ", ".join(
            ["line integer", "lead_id bigint", "new_id bigint", "old_status text"]
            + [f"{qn(c)} {_staging_type(fields[c])}" for c in cols]
        )
        json_cols = [i for i, c in enumerate(cols, start=4) if isinstance(fields[c], models.JSONField)]
        buffer = io.StringIO()
        records = []
        next_id = iter(new_ids)
        for row in rows:
            values = row.values
            new_id = next(next_id) if row.lead_id is None else None
            record = [row.line, row.lead_id, new_id, row.old_status, *[values.get(c) for c in cols]]
            for i in json_cols:
                if record[i] is not None:
                    record[i] = json.dumps(record[i], ensure_ascii=False)
            records.append(record)
        csv.writer(buffer, lineterminator="\n").writerows(records)
        buffer.seek(0)
        cursor.execute(f"CREATE TEMPORARY TABLE import_stage ({stage_defs}) ON COMMIT DROP")
        cursor.cursor.copy_expert(
            f"COPY import_stage ({', '.join(qn(c) for c in stage_cols)}) FROM STDIN WITH (FORMAT csv)",
            buffer,
            size=COPY_READ_SIZE,
        )

        history_cols = f"lead_id, actor_id, {history.SqlRow.COLUMNS}, created_at"
        params = {"actor": ctx.actor_id, "now": ctx.now}

        # 1. Leads the runner matched and locked: update those the row changes; their
        #    history rows come from the UPDATE's RETURNING.
        existing = len(rows) - new_count
        if existing:
            exprs = {c: _update_expr(c, fields[c], "l", "s") for c in cols}
            sets = ", ".join(f"{qn(c)} = {expr}" for c, expr in exprs.items())
            # An unchanged lead gets no new row version (no index churn, so running a file
            # again is cheap) and no history row.
            changes = " OR ".join(f"l.{qn(c)} IS DISTINCT FROM ({expr})" for c, expr in exprs.items())
            updated_row = history.imported_sql(
                created=False, job_id=ctx.job_id, old="upd.old_status", new="upd.status", line="upd.line"
            )
            params |= updated_row.params
            cursor.execute(
                # Identifiers come from Lead's own fields through quote_name; every value is a parameter.
                f"WITH upd AS ("  # noqa: S608
                f" UPDATE leads_lead AS l SET {sets}, updated_at = %(now)s"
                f" FROM import_stage AS s WHERE l.id = s.lead_id AND ({changes})"
                f" RETURNING l.id, l.status, s.line, s.old_status)"
                f" INSERT INTO leads_leadhistory ({history_cols})"
                f" SELECT upd.id, %(actor)s, {updated_row.select}, %(now)s"
                f" FROM upd RETURNING lead_id, new_value",
                params,
            )
            outcome.updated = existing  # matched and now as the file says, changed or not
            outcome.nurture_ids += [pk for pk, status in cursor.fetchall() if status == Status.NURTURE]

        # 2. New leads. The key's unique index arbitrates: a lead another transaction created
        #    since the runner looked is updated instead (and keeps its own id).
        if new_count:
            insert_cols, select_exprs = [qn("id")], ["s.new_id"]
            for attname, f in fields.items():
                if f.primary_key:
                    continue
                insert_cols.append(qn(f.column))
                if attname == "updated_at" or (attname == "created_at" and attname not in cols):
                    select_exprs.append("%(now)s")
                elif attname in cols:
                    default = _default_of(f)
                    if default is None:
                        select_exprs.append(f"s.{qn(attname)}")
                    else:
                        params[f"d_{attname}"] = default
                        select_exprs.append(f"COALESCE(s.{qn(attname)}, %(d_{attname})s)")
                else:
                    params[f"d_{attname}"] = _default_of(f)
                    select_exprs.append(f"%(d_{attname})s")
            if ctx.key == "external_id":
                arbiter, key_join = "(external_id) WHERE external_id IS NOT NULL", "l.external_id = s.external_id"
            else:
                arbiter, key_join = "(lower(email)) WHERE email IS NOT NULL", "lower(l.email) = lower(s.email)"
            conflict_sets = ", ".join(
                f"{qn(c)} = {_update_expr(c, fields[c], 'leads_lead', 'EXCLUDED')}" for c in cols if c != "created_at"
            )
            cursor.execute(
                f"INSERT INTO leads_lead ({', '.join(insert_cols)})"  # noqa: S608
                f" SELECT {', '.join(select_exprs)} FROM import_stage AS s WHERE s.lead_id IS NULL ORDER BY s.line"
                f" ON CONFLICT {arbiter} DO UPDATE SET {conflict_sets}, updated_at = %(now)s"
                f" RETURNING id, status, (xmax = 0) AS inserted",
                params,
            )
            returned = cursor.fetchall()
            outcome.created = sum(1 for _pk, _status, inserted in returned if inserted)
            outcome.updated += new_count - outcome.created
            outcome.nurture_ids += [pk for pk, status, _inserted in returned if status == Status.NURTURE]

            def history_select(*, lead: str, status: str, created: bool, join: str = "") -> str:
                # A lead another transaction created meanwhile was updated by this row, so its
                # history says so (created false), with the status it has now.
                row = history.imported_sql(created=created, job_id=ctx.job_id, old="''", new=status, line="s.line")
                params.update(row.params)
                return (
                    f"INSERT INTO leads_leadhistory ({history_cols})"  # noqa: S608
                    f" SELECT {lead}, %(actor)s, {row.select}, %(now)s"
                    f" FROM import_stage AS s {join} WHERE s.lead_id IS NULL"
                )

            created_rows = history_select(lead="s.new_id", status="s.status", created=True)
            if outcome.created == new_count:
                cursor.execute(created_rows, params)
            else:  # some keys were taken meanwhile: their rows updated those leads
                taken = "EXISTS (SELECT 1 FROM leads_lead AS x WHERE x.id = s.new_id)"
                cursor.execute(f"{created_rows} AND {taken}", params)
                updated_rows = history_select(
                    lead="l.id", status="l.status", created=False, join=f"JOIN leads_lead AS l ON {key_join}"
                )
                cursor.execute(f"{updated_rows} AND NOT {taken}", params)
        cursor.execute("DROP TABLE import_stage")
    return outcome


def _default_of(f: models.Field) -> Any:
    """The value a new lead gets for a column the file does not give (None: no default, NULL)."""
    if f.attname in IMPORT_DEFAULTS:
        return IMPORT_DEFAULTS[f.attname]
    if f.has_default():
        value = f.get_default()
        return json.dumps(value) if isinstance(f, models.JSONField) else value
    if f.null:
        return None
    if isinstance(f, models.CharField | models.TextField):
        return ""
    return None


def _update_expr(attname: str, f: models.Field, lead: str, new: str) -> str:
    """SET expression keeping the stored value where the file gave none."""
    col = connection.ops.quote_name(attname)
    if attname == "needs_rescore":
        return f"{lead}.{col} OR {new}.{col}"
    if attname in DERIVED_COLUMNS:
        return f"{new}.{col}"
    if attname == "attributes":
        return f"{lead}.{col} || COALESCE({new}.{col}, '{{}}'::jsonb)"
    if attname == "email":  # the same key in another case keeps the stored spelling (as leads.intake.services does)
        same_key = f"lower({new}.{col}) = lower({lead}.{col})"
        return f"CASE WHEN {same_key} THEN {lead}.{col} ELSE COALESCE({new}.{col}, {lead}.{col}) END"
    if new == "EXCLUDED" and isinstance(f, models.CharField | models.TextField) and not f.null:
        # The insert turned a missing text into ''; treat it as missing here too.
        return f"COALESCE(NULLIF({new}.{col}, ''), {lead}.{col})"
    return f"COALESCE({new}.{col}, {lead}.{col})"
