"""`python manage.py import_events PATH --mapping MAPPING.json`: engagement history from a CSV file.

The mapping is leads.events.mapping's (one row per event, or events derived from
columns). The summary goes to stdout, rejected rows by line to stderr. Exit status
0 when the file was imported (rejected rows reported), 1 when the file or the
mapping cannot be used. Importing the same file again stores nothing twice.
"""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile, ImportFileError
from leads.events.services import events_import


class Command(BaseCommand):
    help = "Import engagement events from a CSV file with a JSON mapping."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file (UTF-8, comma or semicolon separated)")
        parser.add_argument("--mapping", required=True, help="mapping JSON file (see leads.events.mapping)")
        parser.add_argument("--user", help="username recorded as the actor of leads the events create")

    def handle(self, *args, **options):
        try:
            with open(options["mapping"], encoding="utf-8") as fh:
                mapping = json.load(fh)
        except (OSError, ValueError) as exc:
            raise CommandError(f"{options['mapping']}: not a readable JSON mapping ({exc}).") from exc
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user named {options['user']!r}.")
        try:
            csv_file = CsvFile.from_path(options["path"])
            result = events_import(csv_file=csv_file, mapping=mapping, actor=actor, now=timezone.now())
        except ImportFileError as exc:
            raise CommandError(exc.message) from exc
        except ApplicationError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        for rejection in result.rejections:
            self.stderr.write(f"line {rejection['line']}: {rejection['reason']}")
        self.stdout.write(
            f"{result.processed} rows: {result.stored} events stored, {result.duplicates} already there, "
            f"{result.leads_created} leads created, {result.rejected} rejected."
        )
