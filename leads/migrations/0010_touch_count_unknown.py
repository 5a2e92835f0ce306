"""A lead's touch count may be unknown (NULL): imported history whose file gave none.

Leads an import created before this migration got 0 for "not given". Those whose
import did not map a touch-count column, and that have no touch logged since,
become unknown; a browser import's mapping snapshot tells which imports mapped
one. A command-line import keeps no mapping, so its 0 is taken as not given.
"""

import json

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def zero_from_imports_to_unknown(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    LeadHistory = apps.get_model("leads", "LeadHistory")
    Touch = apps.get_model("leads", "Touch")
    ImportJob = apps.get_model("leads", "ImportJob")
    mapped = [
        job.pk
        for job in ImportJob.objects.only("mapping_snapshot")
        if "touch_count" in json.dumps((job.mapping_snapshot or {}).get("columns") or {})
    ]
    created_by_import = LeadHistory.objects.filter(lead=OuterRef("pk"), action="imported", data__created=True)
    if mapped:
        created_by_import = created_by_import.exclude(data__import_job__in=mapped)
    Lead.objects.filter(Exists(created_by_import), touch_count=0).exclude(
        Exists(Touch.objects.filter(lead=OuterRef("pk")))
    ).update(touch_count=None)


def unknown_to_zero(apps, schema_editor):
    apps.get_model("leads", "Lead").objects.filter(touch_count__isnull=True).update(touch_count=0)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0009_lead_created_while_not_free"),
    ]

    operations = [
        migrations.AlterField(
            model_name="lead",
            name="touch_count",
            field=models.PositiveIntegerField(blank=True, default=0, null=True),
        ),
        migrations.RunPython(zero_from_imports_to_unknown, unknown_to_zero, elidable=True),
    ]
