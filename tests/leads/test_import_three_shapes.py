"""The three public exports of issue 14, as small files written here with the same shapes,
taken through the browser import (Django test client): upload with lookup files, the
mapping page's guesses, saving and reusing the mapping, the run.

- a CRM pipeline export with its sales-team file as a lookup (teams from the file);
- a lead-scoring export full of "Select" placeholders (guesses, Converted 1/0, sums);
- an MQL funnel in two files joined by id, where a match in the closed-deals file
  means won (a derived value), with dates that must make sense.

Expected figures are computed from the rows written here, not by the import code.
"""

import csv
import io
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import RepProfile, Team
from leadhandoff.csv_reader import CsvFile
from leads.imports.mapping import guess_columns
from leads.imports.selectors import column_samples
from leads.imports.services import import_job_run
from leads.models import ImportJob, ImportMapping, Lead, Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def marketer_client(client, cast):
    client.force_login(cast.marketer)
    return client


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def upload(client, data: bytes, name: str, lookups: dict[str, bytes] | None = None) -> ImportJob:
    files = [SimpleUploadedFile(n, d, "text/csv") for n, d in (lookups or {}).items()]
    response = client.post(
        reverse("leads:import_upload"), {"file": SimpleUploadedFile(name, data, "text/csv"), "lookups": files}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.latest("pk")


def as_posted(form, **changes) -> dict:
    """The mapping form's fields as the browser sends them, with `changes` (by column label or field name)."""
    data = {}
    labels = {form[name].label: name for name in form.fields if name.startswith("col_")}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False):
            continue
        data[name] = "on" if value is True else value
    for key, value in changes.items():
        data[labels.get(key, key)] = value
    return data


def guessed(form) -> dict[str, str]:
    return {
        form[name].label: form[name].value() for name in form.fields if name.startswith("col_") and form[name].value()
    }


def map_job(client, job: ImportJob, *, saved: ImportMapping | None = None, **changes) -> None:
    url = reverse("leads:import_mapping", args=[job.pk])
    query = {"mapping": saved.pk} if saved else {}
    form = client.get(url, query).context["form"]
    response = client.post(url + (f"?mapping={saved.pk}" if saved else ""), as_posted(form, **changes))
    assert response.status_code == 302, [str(e) for e in response.context["form"].errors.items()]


def map_and_run(client, job: ImportJob, *, saved: ImportMapping | None = None, **changes) -> ImportJob:
    map_job(client, job, saved=saved, **changes)
    client.post(reverse("leads:import_start", args=[job.pk]))
    assert import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    return job


# --- 1. A CRM pipeline export with its sales-team file -------------------------------------

TEAMS = [
    ["sales_agent", "manager", "regional_office"],
    ["Ada Byron", "Grace Hopper", "East"],
    ["Alan Turing", "Grace Hopper", "East"],
    ["Edsger Dijkstra", "Barbara Liskov", "West"],
    ["Niklaus Wirth", "Barbara Liskov", "West"],
    ["Ken Thompson", "Barbara Liskov", "West"],  # no deals: not a rep of this import
]
PIPELINE = [
    ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_date", "close_value"],
    ["OP1", "Ada Byron", "GTX", "Acme", "Won", "2017-01-02", "2017-02-01", "1200"],
    ["OP2", "Ada Byron", "GTX", "Beta", "Lost", "2017-01-05", "2017-01-20", "0"],
    ["OP3", "Alan Turing", "MG", "Gamma", "Engaging", "2017-03-01", "", ""],
    ["OP4", "Edsger Dijkstra", "GTX", "Delta", "Won", "2017-02-01", "2017-04-01", "800"],
    ["OP5", "Niklaus Wirth", "MG", "", "Prospecting", "", "", ""],
    ["OP6", "Niklaus Wirth", "MG", "Eta", "Won", "2017-05-01", "2017-04-01", "500"],  # won before engaged
]


def test_a_crm_pipeline_with_its_sales_team_file_lands_reps_on_their_managers_teams(marketer_client):
    job = upload(marketer_client, csv_bytes(PIPELINE), "pipeline.csv", {"sales_teams.csv": csv_bytes(TEAMS)})
    assert [f["name"] for f in job.lookup_files] == ["sales_teams.csv"]

    url = reverse("leads:import_mapping", args=[job.pk])
    form = marketer_client.get(url).context["form"]
    assert guessed(form) == {
        "opportunity_id": "external_id",
        "sales_agent": "owner",
        "account": "company",
        "deal_stage": "stage",
        "engage_date": "first_contact_at",  # an owner column says who made the contact
        "close_date": "closed_at",
        "close_value": "deal_value",
        "sales_teams.manager": "owner_manager",
        "sales_teams.regional_office": "owner_region",
    }
    assert form["lookup_0_column"].value() == "sales_agent"
    assert "stage: Engaging -> open" in form["values"].value()

    map_job(marketer_client, job, engage_date="created_at")
    # The preview already says which row will be refused, and that the owners will be made.
    preview = marketer_client.get(reverse("leads:import_preview", args=[job.pk])).context["rows"]
    errors = {row.line: row.errors for row, _cells in preview}
    assert errors == {
        2: [],
        3: [],
        4: [],
        5: [],
        6: [],
        7: ["the close date 2017-04-01 is before the lead was created (2017-05-01)"],
    }

    marketer_client.post(reverse("leads:import_start", args=[job.pk]))
    assert import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert (job.created_count, job.rejected_count) == (5, 1)
    assert job.rejections[0]["line"] == 7
    assert "before the lead was created" in job.rejections[0]["reason"]
    assert "2 teams in 2 regions" in job.roster_summary
    page = marketer_client.get(reverse("leads:import_detail", args=[job.pk])).content.decode()
    assert "Owners' teams from the file: 4 reps created" in page

    manager_of = {r[0]: r[1] for r in TEAMS[1:]}
    region_of = {r[1]: r[2] for r in TEAMS[1:]}
    imported = [r for r in PIPELINE[1:] if r[0] != "OP6"]
    expected = Counter(f"{manager_of[r[1]]}'s team" for r in imported)
    assert dict(Counter(Lead.objects.values_list("team__name", flat=True))) == dict(expected)
    made = Team.objects.exclude(name__in=["East", "West"]).select_related("manager")  # the cast's own teams
    assert {t.name: (t.manager.get_full_name(), t.region) for t in made} == {
        f"{m}'s team": (m, region_of[m]) for m in ("Grace Hopper", "Barbara Liskov")
    }
    assert Counter(RepProfile.objects.filter(team__in=made).values_list("team__name", flat=True)) == {
        "Grace Hopper's team": 2,
        "Barbara Liskov's team": 2,
    }


# --- 2. A lead-scoring export full of Select placeholders --------------------------------

SCORING_HEADER = [
    "Prospect ID",
    "Lead Number",
    "Lead Origin",
    "Lead Source",
    "Do Not Email",
    "Converted",
    "TotalVisits",
    "Page Views Per Visit",
    "Specialization",
    "City",
]


def scoring_rows(n: int) -> list[list[str]]:
    rows = [SCORING_HEADER]
    origins = ["API", "Landing Page Submission", "Lead Add Form"]
    sources = ["Olark Chat", "Google", "Direct Traffic"]
    for i in range(n):
        rows.append(
            [
                f"7927b2df-0000-4000-8000-{i:012d}",
                str(660000 + i),
                origins[i % 3],
                sources[i % 3],
                "No",
                "1" if i % 4 == 0 else "0",
                str(i % 7),
                "2.5" if i % 2 else "2",
                "Finance Management" if i % 5 else "Select",
                "Mumbai" if i < n - 1 else "Rare Town",  # a value only at the end of the file
            ]
        )
    return rows


def test_a_lead_scoring_export_is_guessed_without_origin_and_its_placeholders_read_as_empty(marketer_client):
    rows = scoring_rows(301)
    data = csv_bytes(rows)

    # Value suggestions read the whole file, not its first rows: the last row's city is seen.
    samples = column_samples(CsvFile.from_bytes(data))
    assert "Rare Town" in samples["City"]
    assert "Rare Town" in column_samples(CsvFile.from_bytes(data), limit=100)["City"]  # a spread sample too
    guesses = guess_columns(rows[0], samples)
    assert guesses == {
        "Prospect ID": "external_id",
        "Lead Source": "source",
        "Converted": "stage",
        "City": "city",
        "Lead Origin": "campaign",  # a traffic channel: never the marketing/rep-sourced origin
        "Do Not Email": "do_not_email",  # consent, honoured from the file
    }

    job = upload(marketer_client, data, "Leads.csv")
    url = reverse("leads:import_mapping", args=[job.pk])
    form = marketer_client.get(url).context["form"]
    assert guessed(form)["Lead Origin"] == "campaign"
    assert "stage: 1 -> won" in form["values"].value()
    assert "stage: 0 -> lost" in form["values"].value()
    assert "*: Select ->" in form["values"].value()

    job = map_and_run(
        marketer_client,
        job,
        Specialization="__attribute__",
        derived="attributes.engagement: [TotalVisits] * [Page Views Per Visit]",
        save_as="Lead scoring export",
    )
    body = rows[1:]
    assert (job.created_count, job.rejected_count) == (len(body), 0)
    converted = sum(1 for r in body if r[5] == "1")
    assert Lead.objects.filter(status=Status.WON).count() == converted
    assert Lead.objects.filter(status=Status.LOST).count() == len(body) - converted
    # Converted 1/0 has no close date: every won and lost lead keeps it unknown, counted.
    assert job.closed_undated_count == len(body)
    page = marketer_client.get(reverse("leads:import_detail", args=[job.pk])).content.decode()
    assert f"{len(body)} won or lost leads had no close date: stored as unknown" in page
    assert not Lead.objects.filter(closed_at__isnull=False).exists()
    assert set(Lead.objects.values_list("origin", flat=True)) == {"marketing"}
    select_rows = sum(1 for r in body if r[8] == "Select")
    assert Lead.objects.filter(attributes__has_key="specialization").count() == len(body) - select_rows
    lead = Lead.objects.get(external_id=body[3][0])
    assert lead.attributes["engagement"] == str(int(body[3][6]) * float(body[3][7])).removesuffix(".0")
    assert (lead.campaign, lead.source) == (body[3][2], body[3][3])

    # The saved mapping is offered for the next export and gives the same import.
    saved = ImportMapping.objects.get(name="Lead scoring export")
    assert saved.options["derived"] == {"attributes.engagement": "[TotalVisits] * [Page Views Per Visit]"}
    Lead.objects.all().delete()
    again = upload(marketer_client, data, "Leads (2).csv")
    again = map_and_run(marketer_client, again, saved=saved)
    assert (again.created_count, again.rejected_count) == (len(body), 0)
    assert Lead.objects.get(external_id=body[3][0]).attributes["engagement"] == lead.attributes["engagement"]


# --- 3. An MQL funnel in two files joined by id ----------------------------------------

MQLS = [
    ["mql_id", "first_contact_date", "landing_page_id", "origin"],
    ["a1b2c3d4e5f60718293a4b5c6d7e8f90", "2018-02-01", "88740e65d5d6b056e0cda098e1ea6313", "social"],
    ["b1b2c3d4e5f60718293a4b5c6d7e8f91", "2017-10-20", "007f9098284a86ee80ddeb25d53e0af8", "paid_search"],
    ["c1b2c3d4e5f60718293a4b5c6d7e8f92", "2018-03-04", "a7982125ff7aa3b2054c6e44f9d28522", "organic_search"],
    ["d1b2c3d4e5f60718293a4b5c6d7e8f93", "2018-04-14", "88740e65d5d6b056e0cda098e1ea6313", "unknown"],
    ["e1b2c3d4e5f60718293a4b5c6d7e8f94", "2018-05-05", "007f9098284a86ee80ddeb25d53e0af8", "email"],
]
DEALS = [
    ["mql_id", "seller_id", "sdr_id", "won_date", "business_segment", "lead_type", "declared_monthly_revenue"],
    ["a1b2c3d4e5f60718293a4b5c6d7e8f90", "seller-1", "sdr-1", "2018-02-26 19:58:54", "pet", "online_medium", "0.0"],
    ["c1b2c3d4e5f60718293a4b5c6d7e8f92", "seller-2", "sdr-1", "2018-05-08 20:17:59", "car", "industry", "0.0"],
    ["e1b2c3d4e5f60718293a4b5c6d7e8f94", "seller-1", "sdr-2", "2018-05-01 10:00:00", "home", "offline", "0.0"],
]


def test_a_two_file_funnel_derives_won_from_a_match_in_the_closed_deals_file(marketer_client):
    job = upload(marketer_client, csv_bytes(MQLS), "mqls.csv", {"closed_deals.csv": csv_bytes(DEALS)})
    url = reverse("leads:import_mapping", args=[job.pk])
    form = marketer_client.get(url).context["form"]
    guesses = guessed(form)
    assert guesses["mql_id"] == "external_id"  # a *_id column with distinct values is the key
    assert guesses["origin"] == "source"  # social, paid_search...: a channel, not the origin
    # No owner column: a first-contact date is when the lead came in, never a contact by sales.
    assert guesses["first_contact_date"] == "created_at"
    assert guesses["closed_deals.won_date"] == "closed_at"
    assert form["lookup_0_column"].value() == "mql_id"

    job = map_and_run(
        marketer_client,
        job,
        derived="stage: won if lookup closed_deals matched",
        create_missing_owners="on",
        **{"closed_deals.seller_id": "owner", "closed_deals.business_segment": "industry"},
    )
    leads_by_id = {r[0]: r for r in MQLS[1:]}
    won_ids = {r[0] for r in DEALS[1:] if r[3][:10] >= leads_by_id[r[0]][1]}
    refused = {r[0] for r in DEALS[1:]} - won_ids  # won before the lead came in
    assert (job.created_count, job.rejected_count) == (len(MQLS) - 1 - len(refused), len(refused))
    assert "before the lead was created" in job.rejections[0]["reason"]
    won = Lead.objects.filter(status=Status.WON)
    assert set(won.values_list("external_id", flat=True)) == won_ids
    assert not won.filter(closed_at__isnull=True).exists()
    assert won.get(external_id=MQLS[1][0]).industry == "pet"
    # Leads without a closed deal stay in the nurture pool: no owner, no queue, no first contact.
    rest = Lead.objects.exclude(status=Status.WON)
    assert set(rest.values_list("status", flat=True)) == {Status.NURTURE}
    assert not Lead.objects.filter(first_contact_at__isnull=False).exists()
    assert not rest.filter(closed_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sales_agent,manager\n", "The lookup file “teams.csv” has no rows."),
        (b"\xff\xfe\x00bad", "lookup file “teams.csv”"),
    ],
)
def test_a_lookup_file_that_cannot_be_used_is_refused_on_the_upload_page(marketer_client, data, message):
    response = marketer_client.post(
        reverse("leads:import_upload"),
        {
            "file": SimpleUploadedFile("pipeline.csv", csv_bytes(PIPELINE), "text/csv"),
            "lookups": [SimpleUploadedFile("teams.csv", data, "text/csv")],
        },
    )
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors["lookups"])
    assert not ImportJob.objects.exists()


def test_a_derived_rule_that_cannot_be_used_is_shown_on_the_mapping_page_and_nothing_is_kept(marketer_client):
    job = upload(marketer_client, csv_bytes(MQLS), "mqls.csv", {"closed_deals.csv": csv_bytes(DEALS)})
    url = reverse("leads:import_mapping", args=[job.pk])
    form = marketer_client.get(url).context["form"]
    for rule, message in (
        ("stage: won if [won_date] sometimes", "Line 1: the rule after [won_date] write present, absent"),
        ("stage: won if [won_date] present", "“stage”: the rule names a column “won_date” the file"),
        ("stage: won if lookup deals matched", "names a lookup “deals” the mapping does not have"),
    ):
        response = marketer_client.post(url, as_posted(form, derived=rule))
        assert response.status_code == 400
        errors = response.context["form"].errors["derived"]
        assert any(message in error for error in errors), errors
    job.refresh_from_db()
    assert job.mapping_snapshot == {}
