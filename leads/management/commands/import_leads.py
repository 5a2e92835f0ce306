"""`python manage.py import_leads PATH --mapping MAPPING.json [--dry-run]`: the browser import from a script.

Progress goes to stderr (tqdm) and the summary to stdout. Exit status: 0 when the
file was imported (rejected rows are reported, not fatal), 1 when the file or
the mapping cannot be used at all (missing file, not CSV, broken encoding, no
key column). --dry-run checks and counts everything, then rolls back.
"""

import csv
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from leadhandoff.api import ApplicationError
from leads.imports import CsvFile, Importer, mapping_from_file
from leads.imports.runner import CHUNK_SIZE


class Command(BaseCommand):
    help = "Import leads (or a past pipeline) from a CSV file with a JSON column mapping."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file (UTF-8, comma or semicolon separated)")
        parser.add_argument("--mapping", required=True, help="mapping JSON (columns, values, options)")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument("--rejections", metavar="CSV", help="write rejected rows (line, reason, key) here")
        parser.add_argument("--user", help="username recorded as the actor in the leads' history")
        parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE, help="rows per transaction")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        try:
            mapping = mapping_from_file(options["mapping"])
            csv_file = CsvFile.from_path(options["path"])
        except ApplicationError as exc:
            raise CommandError(_message(exc)) from exc
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user named {options['user']!r}.")

        total = csv_file.row_count
        bar = tqdm(
            total=total,
            unit="rows",
            file=sys.stderr,
            disable=options["no_progress"] or None,  # None: only on a terminal
            desc="dry run" if options["dry_run"] else "import",
        )
        done = 0

        def on_chunk(result):
            nonlocal done
            bar.update(result.processed - done)
            bar.set_postfix(created=result.created, updated=result.updated, rejected=result.rejected)
            done = result.processed

        try:
            importer = Importer(
                csv_file=csv_file,
                mapping=mapping,
                actor=actor,
                now=timezone.now(),
                dry_run=options["dry_run"],
                chunk_size=options["chunk_size"],
                on_chunk=on_chunk,
            )
            result = importer.run()
        except ApplicationError as exc:
            raise CommandError(_message(exc)) from exc
        finally:
            bar.close()

        if options["rejections"]:
            with open(options["rejections"], "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["line", "reason", "key"])
                for r in result.rejections:
                    writer.writerow([r["line"], r["reason"], r.get("key", "")])
        for r in result.rejections[:20]:
            self.stderr.write(f"line {r['line']}: {r['reason']}")
        if result.rejected > 20:
            self.stderr.write(f"... and {result.rejected - 20} more rejected rows (see --rejections)")
        prefix = "Dry run, nothing written: would have " if result.dry_run else ""
        verbs = ("created", "updated", "rejected")
        summary = ", ".join(
            f"{verb} {n}" for verb, n in zip(verbs, (result.created, result.updated, result.rejected), strict=True)
        )
        self.stdout.write(f"{prefix}{summary} of {result.total} rows.")
        if result.roster:
            self.stdout.write(f"Owners' teams: {result.roster.sentence()}")
        if result.closed_undated:
            self.stdout.write(
                f"{result.closed_undated} won or lost leads have no close date: stored as unknown, "
                "left out of cycle figures."
            )
        if result.owners_created:
            self.stdout.write(
                f"Inactive reps {'to create' if result.dry_run else 'created'}: {len(result.owners_created)}."
            )


def _message(exc: ApplicationError) -> str:
    details = [f"{part}: {msg}" for part, messages in (exc.fields or {}).items() for msg in messages]
    return "\n".join([exc.message, *details])
