"""The leads app's admin pages: admins only, and cheap on large tables."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads import history
from leads.models import AssignmentRule, ImportJob, ImportMapping
from tests.factories import EngagementEventFactory, LeadFactory, TouchFactory

MODELS = ["lead", "engagementevent", "touch", "leadhistory", "importmapping", "importjob", "assignmentrule"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def some_of_everything(cast, leads):
    EngagementEventFactory(lead=leads.pool, external_id="evt-1")
    TouchFactory(lead=leads.rep_owned, rep=cast.rep)
    history.created(note="By hand").write(lead=leads.pool, at=timezone.now(), actor=cast.marketer)
    mapping = ImportMapping.objects.create(name="HubSpot", columns={"Email": "email"}, created_by=cast.marketer)
    ImportJob.objects.create(file="imports/x.csv", original_name="x.csv", mapping=mapping, created_by=cast.marketer)
    AssignmentRule.objects.create(name="EMEA", team=cast.team, conditions={"country": ["DE"]})


@pytest.mark.parametrize("role", ["rep", "manager", "marketer"])
def test_only_admins_reach_the_lead_admin(cast, leads, role):
    url = reverse("admin:leads_lead_changelist")
    response = client_for(getattr(cast, role)).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    detail = client_for(getattr(cast, role)).get(reverse("admin:leads_lead_change", args=[leads.pool.pk]))
    assert detail.status_code == 302 and leads.pool.email not in detail.content.decode()


def test_an_anonymous_visitor_is_sent_to_the_admin_login(leads):
    response = Client().get(reverse("admin:leads_lead_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("model", MODELS)
def test_an_admin_sees_every_leads_admin_page(cast, some_of_everything, model):
    client = client_for(cast.admin)
    assert client.get(reverse(f"admin:leads_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:leads_{model}_add")).status_code == 200


def test_an_admin_opens_a_lead_and_searches_by_email(cast, leads):
    client = client_for(cast.admin)
    assert client.get(reverse("admin:leads_lead_change", args=[leads.pool.pk])).status_code == 200
    found = client.get(reverse("admin:leads_lead_changelist") + "?q=pool@nurture")
    assert [lead.pk for lead in found.context["cl"].result_list] == [leads.pool.pk]


def test_the_lead_list_costs_the_same_queries_at_any_size(cast, leads, django_assert_num_queries):
    client = client_for(cast.admin)
    url = reverse("admin:leads_lead_changelist")
    client.get(url)
    with django_assert_num_queries(4) as small:  # the session comes from the cache
        client.get(url)
    for _ in range(3):
        LeadFactory.create_batch(20, owner=cast.rep, team=cast.team, status="assigned")
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.context["cl"].show_full_result_count is False


def test_the_admin_spells_every_model_in_words(cast):
    """No machine plurals ("Touchs") or abbreviations in the wrong case ("Sla events")."""
    import re

    from django.contrib import admin

    ours = {"accounts", "leads", "scoring", "sla", "reports", "outbox"}
    labels = {
        model.__name__: str(model._meta.verbose_name_plural)
        for model in admin.site._registry
        if model._meta.app_label in ours
    }
    assert labels["Touch"] == "touches"
    assert labels["ClockEvent"] == "SLA events"
    assert labels["FirstContactClock"] == "first-contact clocks"
    for name, plural in labels.items():
        assert not re.search(r"(ch|sh|s|x|[^aeiou]y)s$", plural), f"{name}: {plural!r}"
        assert "sla" not in plural.split(), f"{name}: {plural!r}"
    client = client_for(cast.admin)
    index = client.get(reverse("admin:index")).content.decode()
    assert ">Touches<" in index and ">SLA events<" in index and "Touchs" not in index
