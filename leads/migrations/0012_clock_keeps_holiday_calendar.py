from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_team_region"),
        ("leads", "0011_clock_open_due_indexes_for_sla_dashboard"),
    ]

    operations = [
        migrations.AddField(
            model_name="firstcontactclock",
            name="holiday_country",
            field=models.CharField(blank=True, db_default="", max_length=2),
        ),
        migrations.AddField(
            model_name="firstcontactclock",
            name="holiday_subdivision",
            field=models.CharField(blank=True, db_default="", max_length=8),
        ),
        # Clocks already running keep the calendar their policy had when they started (as near as is known).
        migrations.RunSQL(
            """
            UPDATE leads_firstcontactclock AS c
               SET holiday_country = p.country, holiday_subdivision = p.subdivision
              FROM accounts_firstcontactpolicy AS p
             WHERE c.policy_id = p.id AND c.business_time
            """,
            migrations.RunSQL.noop,
        ),
    ]
