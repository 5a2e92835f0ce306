"""`python manage.py comparison_report [--since DATE] [--until DATE] [--cohort] [--group-by ...]
[--cycle-from ...] [--json]`: the comparison's figures without the browser.

Computed now, from the same functions as the report job (reports.selectors.comparison_compute);
nothing is stored. With --json the last line is one JSON object:
{"total": {...}, "groups": {"<name>": {...}}}.
"""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leads.figures import CYCLE_STARTS
from reports.selectors import GROUP_BYS, ComparisonParams, comparison_compute


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = "Marketing-qualified against rep-sourced leads: counts, win rate, conversion, cycle, touches, value."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first day of the period (UTC, inclusive)")
        parser.add_argument("--until", help="last day of the period (UTC, inclusive)")
        parser.add_argument(
            "--cohort", action="store_true", help="leads that entered the queue in the period (default: closed in it)"
        )
        parser.add_argument("--group-by", choices=GROUP_BYS, default="origin")
        parser.add_argument(
            "--cycle-from", choices=tuple(CYCLE_STARTS), help="default: assigned (MQLs), created (rep-sourced)"
        )
        parser.add_argument("--team", type=int, help="team id")
        parser.add_argument("--region")
        parser.add_argument("--rep", type=int, help="rep (user) id")
        parser.add_argument("--definition-version", type=int, help="definition version number")
        parser.add_argument("--source")
        parser.add_argument("--campaign")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON (last line)")

    def handle(self, *args, **options):
        params = ComparisonParams(
            since=_date(options["since"]) if options["since"] else None,
            until=_date(options["until"]) if options["until"] else None,
            cohort=options["cohort"],
            group_by=options["group_by"],
            cycle_from=options["cycle_from"],
            team_id=options["team"],
            region=options["region"],
            rep_id=options["rep"],
            version=options["definition_version"],
            source=options["source"],
            campaign=options["campaign"],
        )
        data = comparison_compute(params=params, now=timezone.now())
        if options["json"]:
            self.stdout.write(data["verdict"]["text"])
            groups = {name: {k: v for k, v in g.items() if k != "label"} for name, g in data["groups"].items()}
            self.stdout.write(json.dumps({"total": data["total"], "groups": groups}, sort_keys=True))
            return
        self.stdout.write(data["verdict"]["text"])
        for name, g in data["groups"].items():
            self.stdout.write(
                f"{g['label']}: {g['leads']} leads, {g['won']} won, {g['lost']} lost, {g['open']} open; "
                f"win rate {_pct(g['win_rate'])}; median cycle {g['median_cycle_days_won']} days; "
                f"median touches {g['median_touches_won'] if g['median_touches_won'] is not None else 'unknown'}; "
                f"won value {g['won_value']}" + (f" [{name}]" if name != g["label"] else "")
            )


def _pct(rate):
    return "n/a" if rate is None else f"{rate:.1%}"
