"""The shipped history-import example (examples/crm-sales-opportunities) imports end to end.

Reads only the copy in the repository, never the shared data folder.
"""

import io
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import Role, Team, User
from leads.imports import CsvFile, Importer, mapping_from_file
from leads.models import Lead, LeadHistory, Status

EXAMPLE = Path(settings.BASE_DIR) / "examples" / "crm-sales-opportunities"


def test_the_crm_example_imports_all_opportunities_with_the_won_figures_and_again_without_duplicates(db):
    out = io.StringIO()
    call_command(
        "import_leads",
        str(EXAMPLE / "sales_pipeline.csv"),
        mapping=str(EXAMPLE / "mapping.json"),
        no_progress=True,
        stdout=out,
    )
    assert "created 8800, updated 0, rejected 0 of 8800 rows." in out.getvalue()

    assert Lead.objects.count() == 8800
    won = Lead.objects.filter(status=Status.WON).aggregate(n=Count("id"), value=Sum("deal_value"))
    assert won == {"n": 4238, "value": Decimal("10005534")}
    by_status = dict(Lead.objects.values_list("status").annotate(n=Count("id")))
    # Engaging deals were contacted (engage_date); Prospecting ones not yet.
    assert by_status == {Status.WON: 4238, Status.LOST: 2473, Status.WORKING: 1589, Status.ASSIGNED: 500}
    assert not Lead.objects.filter(status=Status.NURTURE).exists()
    assert not Lead.objects.filter(owner__isnull=True).exists()

    # Quirks of the data set.
    assert not Lead.objects.filter(attributes__product="GTXPro").exists()
    assert Lead.objects.filter(attributes__product="GTX Pro").count() == 1480
    blank_accounts = Lead.objects.filter(company="")
    assert blank_accounts.count() == 1425
    assert set(blank_accounts.values_list("status", flat=True)) == {Status.WORKING, Status.ASSIGNED}
    assert not Lead.objects.filter(status=Status.ASSIGNED, first_contact_at__isnull=False).exists()
    assert not Lead.objects.filter(status__in=[Status.WORKING, Status.ASSIGNED], closed_at__isnull=False).exists()
    assert not Lead.objects.filter(status__in=[Status.WORKING, Status.ASSIGNED], deal_value__isnull=False).exists()
    # Company fields joined from accounts.csv, typos mapped away.
    cancity = Lead.objects.filter(company="Cancity").first()
    assert (cancity.industry, cancity.country, cancity.company_size) == ("retail", "United States", 2448)
    assert not Lead.objects.filter(industry="technolgy").exists()
    assert Lead.objects.get(external_id="1C1I7A6R").source == "Maven CRM sample"

    # The 30 sales agents with deals are reps on their managers' teams (sales_teams.csv as a
    # lookup: test_import_crm_teams checks each team); no "Unassigned" catch-all was made.
    reps = User.objects.filter(role=Role.REP)
    assert reps.count() == 30
    assert not Team.objects.filter(is_fallback=True).exists()
    assert LeadHistory.objects.count() == 8800

    # The same file again: every opportunity updated, nothing new, same figures.
    mapping = mapping_from_file(EXAMPLE / "mapping.json")
    csv_file = CsvFile.from_path(EXAMPLE / "sales_pipeline.csv")
    result = Importer(csv_file=csv_file, mapping=mapping, actor=None, now=timezone.now()).run()
    assert (result.created, result.updated, result.rejected, result.owners_created) == (0, 8800, 0, [])
    assert Lead.objects.count() == 8800
    assert User.objects.filter(role=Role.REP).count() == 30
    assert LeadHistory.objects.count() == 8800  # nothing changed: no new history rows
    won = Lead.objects.filter(status=Status.WON).aggregate(n=Count("id"), value=Sum("deal_value"))
    assert won == {"n": 4238, "value": Decimal("10005534")}
