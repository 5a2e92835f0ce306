"""`python manage.py import_roster FILE [--dry-run]`: teams, managers and reps from a CSV (accounts.roster).

Prints one line per row (what happened to the rep, or why not), the teams, then
a summary. Exit status 1 when the file cannot be used or any row has an error;
then nothing is written. --dry-run does everything and rolls it back.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.roster.services import RosterRefusedError, RosterReport, roster_import
from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile


class Command(BaseCommand):
    help = "Import a sales roster (rep name or email, manager, team, region) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file (UTF-8, comma or semicolon separated) with a header line")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    def handle(self, *args, **options):
        try:
            csv_file = CsvFile.from_path(options["path"])
            report = roster_import(csv_file=csv_file, dry_run=options["dry_run"])
        except RosterRefusedError as exc:
            self._write_report(exc.report)
            raise CommandError(exc.message) from exc
        except ApplicationError as exc:
            details = [f"{part}: {msg}" for part, messages in exc.fields.items() for msg in messages]
            raise CommandError("\n".join([exc.message, *details])) from exc
        self._write_report(report)
        if not report.ok:  # a dry run with errors
            raise CommandError(report.sentence())

    def _write_report(self, report: RosterReport) -> None:
        for row in report.rows:
            if row.errors:
                self.stderr.write(f"line {row.line}: {row.rep or '(no rep)'}: {'; '.join(row.errors)}")
            else:
                details = f" ({'; '.join(row.changes)})" if row.changes else ""
                self.stdout.write(f"line {row.line}: {row.rep} [{row.username}] {row.action} in {row.team}{details}")
        if report.ok:
            for team in report.teams:
                region = f", {team.region}" if team.region else ""
                manager = f", manager {team.manager}" if team.manager else ""
                self.stdout.write(f"team {team.name}{region}{manager}: {team.reps} reps, {team.action}")
        if report.ignored_columns:
            self.stdout.write(f"Columns not read: {', '.join(report.ignored_columns)}.")
        if report.ok:
            self.stdout.write(report.sentence())
