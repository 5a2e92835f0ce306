"""Load the demo history: `python manage.py seed_demo [--reset] [--leads N] [--seed S]`.

Deterministic for a given seed and date, and safe to re-run: when the demo's
leads are present it does nothing unless --reset asks to rebuild them.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from demo.seed import DEFAULT_LEADS, DEFAULT_SEED, demo_clear, demo_seed


class Command(BaseCommand):
    help = "Create the demo logins and six months of demo history (skipped when present; --reset rebuilds)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo leads and every definition version, then build them again.",
        )
        parser.add_argument(
            "--leads", type=int, default=DEFAULT_LEADS, help=f"How many leads (default {DEFAULT_LEADS})."
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (same seed, same history).")
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="The last day of the history, YYYY-MM-DD (default: today, UTC).",
        )

    def handle(self, *args, reset: bool, leads: int, seed: int, today, verbosity: int, **options):
        if leads < 50:
            raise CommandError("--leads must be at least 50.")

        def log(message: str) -> None:
            if verbosity > 0:
                self.stdout.write(message)

        if reset:
            deleted = demo_clear()
            log(f"Removed the previous demo history ({deleted} rows).")
        result = demo_seed(leads=leads, seed=seed, today=today, log=log)
        if not result.skipped:
            log(
                self.style.SUCCESS(
                    f"Demo ready in {result.seconds:.1f}s. Logins (demo only, password 'leadhandoff'): "
                    "marketer, rep1, rep2, rep3, manager, admin."
                )
            )
