"""Typed custom fields (issue 14, point 4): declared by marketing, validated by the API and
imports, scored by the definition as attributes.<name>, shown and filtered like built-in fields."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from leadhandoff.api import ApplicationError
from leads.fields import services as fields
from leads.imports import CsvFile, Importer
from leads.models import CustomField, CustomFieldKind, Lead
from leads.pool.filters import custom_field_filters
from scoring.engine import evaluate
from scoring.rules import Definition
from scoring.scoring import definition_for_version, facts_for_lead, scores_fetch
from tests.scoring.definition_helpers import make_active, make_draft

NOW = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)
VISITS_RULE = {
    "type": "fit",
    "field": "attributes.total_visits",
    "op": "gt",
    "value": 4,
    "points": 30,
    "label": "Visited 5+ times",
}


def declare(name="total_visits", kind="number", **kwargs):
    return fields.custom_field_create(name=name, label=name.replace("_", " ").title(), kind=kind, now=NOW, **kwargs)


# --- Declaring -------------------------------------------------------------------------------


def test_marketing_declares_fields_over_the_api_and_sales_may_only_read_them(cast, api):
    created = api.as_user(cast.marketer).post(
        "/api/v1/custom-fields/new/",
        {"name": "lead_quality", "label": "Lead quality", "kind": "choice", "choices": ["High", "Low"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert CustomField.objects.get(name="lead_quality").choices == ["High", "Low"]
    refused = api.as_user(cast.rep).post(
        "/api/v1/custom-fields/new/", {"name": "x", "label": "X", "kind": "text"}, format="json"
    )
    assert refused.status_code == 403
    listed = api.as_user(cast.rep).get("/api/v1/custom-fields/")
    assert [f["name"] for f in listed.json()] == ["lead_quality"]


def test_a_bad_declaration_is_a_400_naming_the_field(cast, api):
    bad = api.as_user(cast.marketer).post(
        "/api/v1/custom-fields/new/", {"name": "Total Visits", "label": "", "kind": "choice"}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) >= {"label"}
    declare()
    twice = api.as_user(cast.marketer).post(
        "/api/v1/custom-fields/new/", {"name": "total_visits", "label": "Visits", "kind": "number"}, format="json"
    )
    assert twice.status_code == 400 and "name" in twice.json()["fields"]


def test_the_marketing_page_declares_a_field_and_shows_errors_on_the_form(cast, client):
    client.force_login(cast.marketer)
    answer = client.post("/leads/fields/", {"name": "occupation", "label": "Occupation", "kind": "choice"})
    assert answer.status_code == 400
    assert "Give at least one value." in answer.content.decode()
    answer = client.post(
        "/leads/fields/", {"name": "occupation", "label": "Occupation", "kind": "choice", "choices": "Student, Other"}
    )
    assert answer.status_code == 302
    assert CustomField.objects.get(name="occupation").choices == ["Student", "Other"]
    client.force_login(cast.rep)
    assert client.get("/leads/fields/").status_code == 403


def test_a_field_leads_hold_values_of_keeps_its_kind_and_is_not_deleted(db):
    field = declare()
    Lead.objects.create(email="a@x.io", created_at=NOW, attributes={"total_visits": 3})
    with pytest.raises(ApplicationError):
        fields.custom_field_update(field=field, label="Visits", kind="text")
    with pytest.raises(ApplicationError):
        fields.custom_field_delete(field=field)


# --- Validated on the way in -------------------------------------------------------------------


def test_the_api_types_declared_fields_and_refuses_bad_values_with_a_400(cast, api):
    declare()
    declare("signup", kind="date")
    declare("newsletter", kind="yes_no")
    declare("occupation", kind="choice", choices=["Student", "Working Professional"])
    bad = api.as_user(cast.marketer).post(
        "/api/v1/leads/",
        {"email": "a@x.io", "attributes": {"total_visits": "lots", "signup": "31/02/2024", "occupation": "Pilot"}},
        format="json",
    )
    assert bad.status_code == 400
    messages = " ".join(bad.json()["fields"]["attributes"])
    assert "Total Visits: must be a number" in messages and "Signup: must be a date" in messages
    assert "“Pilot” is not one of Student, Working Professional" in messages
    assert not Lead.objects.exists()
    good = api.as_user(cast.marketer).post(
        "/api/v1/leads/",
        {
            "email": "a@x.io",
            "attributes": {
                "total_visits": "5",
                "signup": "2024-02-28",
                "newsletter": "Y",
                "occupation": "student",
                "free_text": "kept as sent",
            },
        },
        format="json",
    )
    assert good.status_code == 201, good.json()
    assert Lead.objects.get().attributes == {
        "total_visits": 5,
        "signup": "2024-02-28",
        "newsletter": "yes",
        "occupation": "Student",
        "free_text": "kept as sent",
    }


def test_an_import_rejects_a_row_whose_custom_value_is_bad_and_types_the_rest(db):
    declare()
    text = "Email,TotalVisits\na@x.io,5\nb@x.io,five\nc@x.io,\n"
    mapping = {"columns": {"Email": "email", "TotalVisits": "attributes.total_visits"}}
    result = Importer(csv_file=CsvFile.from_bytes(text.encode()), mapping=mapping, actor=None, now=NOW).run()
    assert (result.created, result.rejected) == (2, 1)
    assert result.rejections[0]["line"] == 3
    assert "Total Visits: must be a number" in result.rejections[0]["reason"]
    assert Lead.objects.get(email="a@x.io").attributes == {"total_visits": 5}
    assert Lead.objects.get(email="c@x.io").attributes in ({}, {"total_visits": None})


# --- Scored by the definition --------------------------------------------------------------------


def test_a_rule_on_an_undeclared_custom_field_is_refused_and_accepted_once_declared(cast):
    with pytest.raises(ApplicationError) as refused:
        make_draft(cast.marketer, rules=[VISITS_RULE], threshold=10)
    assert "attributes.total_visits" in str(refused.value.fields["rules"])
    declare()
    version = make_draft(cast.marketer, rules=[VISITS_RULE], threshold=10)
    assert version.rules[0]["field"] == "attributes.total_visits" and version.rules[0]["kind"] == "number"


def test_a_personal_field_may_only_be_tested_for_emptiness(cast):
    declare("birthday", kind="date", personal=True)
    rule = {"type": "fit", "field": "attributes.birthday", "op": "equals", "value": "2000-01-01", "points": 5}
    with pytest.raises(ApplicationError) as refused:
        make_draft(cast.marketer, rules=[rule])
    assert "personal data" in str(refused.value.fields["rules"])
    make_draft(cast.marketer, rules=[{**rule, "op": "is_not_empty", "value": None}])


def test_the_engine_and_sql_score_a_custom_number_field_alike(cast):
    declare()
    version = make_active(cast.marketer, cast.manager, rules=[VISITS_RULE], threshold=10)
    definition = definition_for_version(version)
    many = Lead.objects.create(email="many@x.io", created_at=NOW, attributes={"total_visits": 7})
    few = Lead.objects.create(email="few@x.io", created_at=NOW, attributes={"total_visits": 2})
    none = Lead.objects.create(email="none@x.io", created_at=NOW)
    now = timezone.now()
    sql = scores_fetch(definition=definition, now=now, lead_ids=[many.pk, few.pk, none.pk])
    assert {lead.email: sql[lead.pk]["total"] for lead in (many, few, none)} == {
        "many@x.io": 30,
        "few@x.io": 0,
        "none@x.io": 0,
    }
    for lead in (many, few, none):
        assert evaluate(facts_for_lead(lead), definition, now).total == sql[lead.pk]["total"]


def test_an_active_version_keeps_scoring_after_its_custom_field_is_deleted(cast):
    field = declare()
    version = make_active(cast.marketer, cast.manager, rules=[VISITS_RULE], threshold=10)
    fields.custom_field_delete(field=field)
    definition = definition_for_version(version)
    assert isinstance(definition, Definition) and definition.fit_rules[0].kind == "number"


# --- Used like built-in fields: the lead page, the pool's filters, the export, the API's filters ------------


def test_the_pool_filters_and_exports_custom_fields_and_the_lead_page_labels_them(cast, client):
    declare()
    declare("occupation", kind="choice", choices=["Student", "Working Professional"])
    declare("signup", kind="date")
    many = Lead.objects.create(
        email="many@x.io",
        created_at=NOW,
        attributes={"total_visits": 12, "occupation": "Student", "signup": "2024-05-01"},
    )
    Lead.objects.create(
        email="few@x.io",
        created_at=NOW,
        attributes={"total_visits": 2, "occupation": "Working Professional", "signup": "2023-01-01"},
    )
    Lead.objects.create(email="none@x.io", created_at=NOW)
    client.force_login(cast.marketer)

    def shown(query):
        page = client.get("/leads/pool/", query).content.decode()
        return {e for e in ("many@x.io", "few@x.io", "none@x.io") if e in page}

    assert shown({"attr_total_visits_min": 5}) == {"many@x.io"}
    assert shown({"attr_total_visits_max": 5}) == {"few@x.io"}
    assert shown({"attr_occupation": "Working Professional"}) == {"few@x.io"}
    assert shown({"attr_signup_from": "2024-01-01"}) == {"many@x.io"}
    assert "Total Visits from" in client.get("/leads/pool/").content.decode()

    export = b"".join(client.get("/leads/pool/export.csv", {"attr_total_visits_min": 5}).streaming_content).decode()
    header, row = export.splitlines()[:2]
    columns = header.split(",")
    # In the fields' order (by label), after the built-in columns and consent.
    assert columns[-3:] == ["attributes.occupation", "attributes.signup", "attributes.total_visits"]
    assert "do_not_email" in columns
    assert row.split(",")[-3:] == ["Student", "2024-05-01", "12"]

    page = client.get(f"/leads/{many.pk}/").content.decode()
    assert "Total Visits" in page and "Occupation" in page and "Contactable" in page


def test_sales_cannot_filter_the_api_on_personal_data_but_marketing_can(cast, api):
    declare("birthday", kind="text", personal=True)
    declare("tier", kind="text")
    refused = api.as_user(cast.rep).get("/api/v1/leads/", {"attr_birthday": "x"})
    assert refused.status_code == 400
    assert "personal data" in str(refused.json())
    assert api.as_user(cast.rep).get("/api/v1/leads/", {"attr_tier": "gold"}).status_code == 200
    Lead.objects.create(email="a@x.io", created_at=NOW, attributes={"birthday": "May", "tier": "Gold"})
    Lead.objects.create(email="b@x.io", created_at=NOW, attributes={"birthday": "June"})
    found = api.as_user(cast.marketer).get("/api/v1/leads/", {"attr_birthday": "may"}).json()
    assert [lead["email"] for lead in found["results"]] == ["a@x.io"]


def test_an_erasure_removes_personal_fields_and_keeps_the_rest(db):
    declare("birthday", kind="date", personal=True)
    declare()
    lead = Lead.objects.create(
        email="a@x.io", created_at=NOW, attributes={"birthday": "1990-01-01", "total_visits": 3, "other": "x"}
    )
    assert fields.personal_data_erase(lead=lead, now=NOW) == ["birthday"]
    lead.refresh_from_db()
    assert lead.attributes == {"total_visits": 3, "other": "x"}
    row = lead.history.get()
    assert "birthday" in row.note and "1990" not in row.note + str(row.data)


def test_the_definition_editor_offers_custom_fields_and_saves_a_rule_on_one(cast, client):
    from scoring.models import DefinitionVersion
    from tests.scoring.test_definition_views import editor_post

    declare()
    client.force_login(cast.marketer)
    page = client.get(reverse("scoring:version_create")).content.decode()
    assert 'value="attributes.total_visits"' in page
    row = {"type": "fit", "field": "attributes.total_visits", "op": "gt", "value": "lots", "points": "30"}
    refused = client.post(reverse("scoring:version_create"), editor_post([row]))
    assert refused.status_code == 400 and "must be a number" in refused.content.decode().lower()
    saved = client.post(reverse("scoring:version_create"), editor_post([{**row, "value": "4"}]))
    assert saved.status_code == 302
    rule = DefinitionVersion.objects.get().rules[0]
    assert (rule["field"], rule["op"], rule["value"], rule["kind"]) == ("attributes.total_visits", "gt", 4.0, "number")


@pytest.mark.parametrize("kind", CustomFieldKind.values)
def test_every_filter_of_a_personal_field_is_refused_to_sales(cast, api, kind):
    """Whatever its kind, each filter name a personal field would have (attr_x, attr_x_min, …,
    as custom_field_filters names them) answers sales with a 400, and marketing may use it."""
    extra = {"choices": ["gold", "silver"]} if kind == CustomFieldKind.CHOICE else {}
    field = declare("secret", kind=kind, personal=True, **extra)
    names = list(custom_field_filters([field]))
    assert names
    value = {"number": "3", "date": "2026-01-01", "yes_no": "yes", "choice": "gold"}.get(kind, "x")
    for name in names:
        refused = api.as_user(cast.rep).get("/api/v1/leads/", {name: value})
        assert refused.status_code == 400 and "personal data" in str(refused.json()), name
        assert api.as_user(cast.marketer).get("/api/v1/leads/", {name: value}).status_code == 200, name
