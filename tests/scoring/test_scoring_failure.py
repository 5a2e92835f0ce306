"""No definition can stop scoring: checked when saved, and survived when rescoring fails anyway.

A version is compiled and run on a sample of leads when it is saved and when it
is proposed; one PostgreSQL refuses is refused with the reason. If rescoring
with the active version fails all the same (a version stored before a limit
existed, a compiler fault), the version stays active, the failure shows on the
definition page and /healthz, and new leads are scored with the last version
that worked. Failures here are real: rules written to the database around the
services, or the compiler's array pieces made too big for PostgreSQL (its
refusal is PostgreSQL's own, nothing is mocked).
"""

import datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse

from leads.models import Lead, LeadScore, Status
from scoring import sql, tasks
from scoring.models import DefinitionVersion, PoolRescore
from scoring.rules import MAX_RULES
from scoring.scoring import definition_trial, pool_rescore_tracked
from tests.factories import ActiveDefinitionFactory, LeadFactory, TeamFactory
from tests.scoring.test_definition_views import editor_post

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)
WORKING = [
    {"id": "sw", "type": "fit", "label": "Software", "field": "industry", "op": "equals", "value": "Software",
     "points": 50},
]  # fmt: skip
# 150 rules: valid, and fine for the compiler, unless its JSON arrays are built in
# pieces of more than 100 arguments (compiler_fault), which PostgreSQL refuses.
MANY = [
    {"id": f"f{i}", "type": "fit", "label": f"Industry {i}", "field": "industry", "op": "equals", "value": f"I{i}",
     "points": 1}
    for i in range(150)
]  # fmt: skip
OVER_LIMIT = [{"id": f"g{i}", "type": "gate", "field": "country", "op": "is_not_empty"} for i in range(MAX_RULES + 1)]
REFUSED = "cannot pass more than 100 arguments to a function"


@pytest.fixture
def compiler_fault(monkeypatch):
    """The compiler as it was before issue 16: a JSON array in one call, however many rules."""
    monkeypatch.setattr(sql, "_ARRAY_PIECE", 1000)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def run_pool_rescore() -> PoolRescore:
    """A whole-pool rescore job, run until it is done or out of attempts (as its retries would)."""
    pool_rescore_tracked(now=NOW)
    job = PoolRescore.objects.latest("id")
    while job.state == PoolRescore.State.QUEUED:
        pool_rescore_tracked(now=NOW, rescore_id=job.pk)
        job.refresh_from_db()
    return job


def v1_worked_then_v2_active() -> tuple[DefinitionVersion, DefinitionVersion]:
    """v1 was active and its whole-pool rescore finished; then v2 (the same rules, for now) became active."""
    LeadFactory.create_batch(2, industry="Retail")  # a pool to rescore
    v1 = ActiveDefinitionFactory(number=1, rules=WORKING, threshold=50, created_at=NOW - datetime.timedelta(days=9))
    assert run_pool_rescore().state == PoolRescore.State.DONE
    DefinitionVersion.objects.filter(pk=v1.pk).update(state="retired", retired_at=NOW - datetime.timedelta(days=1))
    v2 = ActiveDefinitionFactory(number=2, rules=WORKING, threshold=50, created_at=NOW - datetime.timedelta(days=1))
    return v1, v2


def post_lead(api, cast, email: str) -> Lead:
    response = api.as_user(cast.marketer).post("/api/v1/leads/", {"email": email, "industry": "Software"}, "json")
    assert response.status_code == 201, response.json()
    return Lead.objects.get(pk=response.json()["id"])


# --- checked when saved ------------------------------------------------------------


def test_a_draft_postgresql_cannot_score_is_refused_with_its_reason(api, client, cast, compiler_fault):
    response = api.as_user(cast.marketer).post(reverse("api-definition-versions"), {"rules": MANY}, "json")

    assert response.status_code == 400
    message = f"This definition cannot be scored: PostgreSQL refused its scoring query ({REFUSED})."
    assert response.json()["fields"] == {"rules": [message]}
    assert not DefinitionVersion.objects.exists()

    client.force_login(cast.rep)
    rows = [{k: str(v) for k, v in rule.items() if k != "id"} for rule in MANY]
    page = client.post(reverse("scoring:version_create"), editor_post(rows))
    assert page.status_code == 400
    assert REFUSED in page.content.decode()
    assert not DefinitionVersion.objects.exists()


def test_an_edit_postgresql_cannot_score_is_refused_and_the_version_keeps_its_rules(api, cast, monkeypatch):
    created = api.as_user(cast.marketer).post(reverse("api-definition-versions"), {"rules": WORKING}, "json")
    version = DefinitionVersion.objects.get(pk=created.json()["id"])
    monkeypatch.setattr(sql, "_ARRAY_PIECE", 1000)

    url = reverse("api-definition-version", args=[version.pk])
    response = api.as_user(cast.rep).patch(url, {"revision": 1, "rules": MANY}, format="json")

    assert response.status_code == 400
    assert REFUSED in response.json()["fields"]["rules"][0]
    version.refresh_from_db()
    assert (version.revision, [r["id"] for r in version.rules]) == (1, ["sw"])


def test_a_version_that_fails_cannot_be_proposed(api, cast, monkeypatch):
    client = api.as_user(cast.marketer)
    saved = client.post(reverse("api-definition-versions"), {"rules": MANY}, "json")
    assert saved.status_code == 201  # the compiler as it is handles 150 rules
    version = DefinitionVersion.objects.get()
    propose = reverse("api-definition-version-propose", args=[version.pk])

    monkeypatch.setattr(sql, "_ARRAY_PIECE", 1000)  # what it compiles to now fails
    refused = client.post(propose)
    assert refused.status_code == 400
    assert REFUSED in refused.json()["fields"]["rules"][0]

    # Rules stored around the services (before the limit existed) are read again too.
    monkeypatch.undo()
    DefinitionVersion.objects.filter(pk=version.pk).update(rules=OVER_LIMIT)
    refused = client.post(propose)
    assert refused.status_code == 400
    limit = f"A definition has at most {MAX_RULES} rules; this one has {MAX_RULES + 1}."
    assert refused.json()["fields"] == {"rules": [limit]}
    version.refresh_from_db()
    assert version.state == DefinitionVersion.State.DRAFT


def test_the_trial_leaves_nothing_behind_in_the_callers_transaction():
    LeadFactory.create_batch(3, industry="Software")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        timeout_before = cursor.fetchone()[0]
    with transaction.atomic(), connection.cursor() as cursor:
        from scoring.rules import Definition, rules_parse

        definition_trial(Definition.from_rules(version=0, threshold=1, rules=rules_parse(MANY)), now=NOW)
        cursor.execute("SHOW transaction_read_only")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == timeout_before
        LeadFactory()  # the caller can still write


# --- survived when rescoring fails ------------------------------------------------


@pytest.mark.parametrize("fault", ["over_limit", "compiler_fault"])
def test_a_failing_rescore_keeps_the_version_shows_the_failure_and_scores_new_leads_with_the_last_that_worked(
    fault, api, client, cast, request, frozen
):
    TeamFactory(name="Fallback", is_fallback=True)
    v1, v2 = v1_worked_then_v2_active()
    if fault == "over_limit":  # stored before the limit existed, or written around the services
        DefinitionVersion.objects.filter(pk=v2.pk).update(rules=OVER_LIMIT)
        reason = f"A definition has at most {MAX_RULES} rules; this one has {MAX_RULES + 1}."
    else:
        DefinitionVersion.objects.filter(pk=v2.pk).update(rules=MANY + WORKING)
        request.getfixturevalue("compiler_fault")
        reason = REFUSED

    job = run_pool_rescore()

    assert job.state == PoolRescore.State.FAILED and reason in job.error
    v2.refresh_from_db()
    assert v2.state == DefinitionVersion.State.ACTIVE  # still in force
    assert (v2.scoring_failed_at, reason in v2.scoring_error) == (NOW, True)

    health = client.get("/healthz")
    assert health.status_code == 200  # the load balancer keeps the node: pages and intake work
    assert health.json()["status"] == "degraded"
    assert health.json()["scoring"] == {
        "ok": False,
        "version": 2,
        "error": v2.scoring_error,
        "failed_at": "2025-03-10T12:00:00Z",
        "scoring_with": 1,
    }

    client.force_login(cast.rep)
    page = client.get(reverse("scoring:definition")).content.decode()
    assert 'data-testid="scoring-failed"' in page
    assert "Rescoring with v2 failed" in page and reason in page
    assert "scored with v1, the last version that worked" in page

    # A lead posted now is scored, and promoted, with v1.
    lead = post_lead(api, cast, "new@acme.com")
    tasks.rescore_dirty_leads()
    lead.refresh_from_db()
    assert (LeadScore.objects.get(lead=lead).version, lead.score, lead.needs_rescore) == (1, 50, False)
    assert (lead.status, lead.promoted_version) == (Status.QUEUED, 1)


def test_once_the_active_version_works_again_the_failure_clears_and_it_scores_new_leads(
    api, client, cast, frozen, monkeypatch
):
    TeamFactory(name="Fallback", is_fallback=True)
    _v1, v2 = v1_worked_then_v2_active()
    DefinitionVersion.objects.filter(pk=v2.pk).update(rules=MANY + WORKING)
    monkeypatch.setattr(sql, "_ARRAY_PIECE", 1000)
    assert run_pool_rescore().state == PoolRescore.State.FAILED

    monkeypatch.undo()  # the compiler fixed
    assert run_pool_rescore().state == PoolRescore.State.DONE

    v2.refresh_from_db()
    assert (v2.scoring_ok_at, v2.scoring_failed_at, v2.scoring_error) == (NOW, None, "")
    health = client.get("/healthz").json()
    assert (health["status"], health["scoring"]) == ("ok", {"ok": True, "version": 2})
    client.force_login(cast.marketer)
    assert 'data-testid="scoring-failed"' not in client.get(reverse("scoring:definition")).content.decode()
    lead = post_lead(api, cast, "later@acme.com")
    tasks.rescore_dirty_leads()
    assert LeadScore.objects.get(lead=lead).version == 2


def test_with_no_version_that_worked_new_leads_wait_flagged_and_the_page_says_so(api, client, cast, frozen):
    ActiveDefinitionFactory(number=1, rules=OVER_LIMIT, threshold=50, created_at=NOW)
    lead = post_lead(api, cast, "first@acme.com")

    tasks.rescore_dirty_leads()

    lead.refresh_from_db()
    assert (lead.needs_rescore, LeadScore.objects.filter(lead=lead).exists()) == (True, False)
    assert client.get("/healthz").json()["scoring"]["scoring_with"] is None
    client.force_login(cast.marketer)
    page = client.get(reverse("scoring:definition")).content.decode()
    assert "No earlier version worked, so new leads wait unscored." in page
