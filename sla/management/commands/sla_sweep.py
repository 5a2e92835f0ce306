"""python manage.py sla_sweep [--dry-run] [--json]: run the first-contact sweep once, now."""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from sla.sweep.services import BATCH, sla_sweep


class Command(BaseCommand):
    help = "Warn, breach, escalate and reassign the first-contact clocks that are due (what beat runs every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be done; change nothing.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of counts.")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"Clocks per transaction (default {BATCH}).")

    def handle(self, *args, dry_run: bool, json: bool, batch: int, **options):
        counts = sla_sweep(now=timezone.now(), dry_run=dry_run, batch=max(1, batch))
        said = ", ".join(f"{n} {key}" for key, n in counts.items())
        self.stdout.write(f"{'Dry run, nothing changed: would do' if dry_run else 'Swept:'} {said}")
        if json:
            self.stdout.write(_dumps({"dry_run": dry_run, **counts}))


def _dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True)
