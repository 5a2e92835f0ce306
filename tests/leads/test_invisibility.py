"""Sales never sees the nurture pool: every role × every surface that could show a lead.

For each surface the test looks for two pool leads: a fresh one and one sales
rejected back to the pool (it still carries the rep's team, which must not make
it visible to that team). Reps and managers must get neither, by status code or
content; marketing and admins must see both, which proves each probe can see a
pool lead when it is allowed to.
"""

import json
import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads.models import RejectReason, Status
from tests.factories import EngagementEventFactory, LeadFactory

SALES = ["rep", "teammate", "other_rep", "manager", "other_manager"]
MARKETING = ["marketer", "admin"]
MISSING_ID = 987654321


@dataclass
class Pool:
    fresh: object
    recycled: object

    @property
    def all(self):
        return (self.fresh, self.recycled)


@pytest.fixture
def pool(cast, leads) -> Pool:
    recycled = LeadFactory(
        email="recycled@nurture.com",
        company="Recycled Corp",
        status=Status.NURTURE,
        team=cast.team,
        rejected_at=timezone.now(),
        rejected_by=cast.rep,
        reject_reason=RejectReason.TOO_EARLY,
        recycled_count=1,
    )
    for lead in (leads.pool, recycled):
        EngagementEventFactory(lead=lead, properties={"url": f"/secret/{lead.pk}"})
    return Pool(fresh=leads.pool, recycled=recycled)


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Probe:
    status: int
    text: str


def _probe(response) -> Probe:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Probe(response.status_code, body.decode())


# Each surface: (user, api client, pool lead or a missing id, pool) -> what the user got.
def pool_page(user, api, lead, pool):
    return _probe(page_client(user).get(reverse("leads:pool")))


def pool_search(user, api, lead, pool):
    return _probe(page_client(user).get(reverse("leads:pool"), {"q": lead.email}))


def pool_export(user, api, lead, pool):
    return _probe(page_client(user).get(reverse("leads:pool_export"), {"q": lead.email}))


def lead_page(user, api, lead, pool):
    return _probe(page_client(user).get(reverse("leads:lead_detail", args=[lead.pk])))


def api_list(user, api, lead, pool):
    return _probe(api.as_user(user).get("/api/v1/leads/", {"page_size": 200}))


def api_list_nurture_filter(user, api, lead, pool):
    return _probe(api.as_user(user).get("/api/v1/leads/", {"status": "nurture"}))


def api_search(user, api, lead, pool):
    return _probe(api.as_user(user).get("/api/v1/leads/", {"search": lead.email}))


def api_team_filter(user, api, lead, pool):
    # The recycled pool lead still carries the rep's team: filtering by it must not bring it back.
    return _probe(api.as_user(user).get("/api/v1/leads/", {"team": pool.recycled.team_id, "page_size": 200}))


def api_detail(user, api, lead, pool):
    return _probe(api.as_user(user).get(f"/api/v1/leads/{lead.pk}/"))


def api_lead_events(user, api, lead, pool):
    return _probe(api.as_user(user).get(f"/api/v1/leads/{lead.pk}/events/"))


def api_post_event(user, api, lead, pool):
    event = {"kind": "page_view", "occurred_at": "2025-01-01T00:00:00Z", "email": lead.email}
    return _probe(api.as_user(user).post("/api/v1/events/", event, format="json"))


def admin_search(user, api, lead, pool):
    return _probe(page_client(user).get(reverse("admin:leads_lead_changelist"), {"q": lead.email}))


def admin_change(user, api, lead, pool):
    return _probe(page_client(user).get(reverse("admin:leads_lead_change", args=[lead.pk])))


# What each side gets from each surface. Sales never gets the lead; marketing
# (and, for the admin site, admins only: marketers are not staff) must see it.
SEES = "sees"
SURFACES = {
    pool_page: {"sales": 403, "marketer": SEES, "admin": SEES},
    pool_search: {"sales": 403, "marketer": SEES, "admin": SEES},
    pool_export: {"sales": 403, "marketer": SEES, "admin": SEES},
    lead_page: {"sales": 403, "marketer": SEES, "admin": SEES},
    api_list: {"sales": 200, "marketer": SEES, "admin": SEES},
    api_list_nurture_filter: {"sales": 200, "marketer": SEES, "admin": SEES},
    api_search: {"sales": 200, "marketer": SEES, "admin": SEES},
    api_team_filter: {"sales": 200, "marketer": SEES, "admin": SEES},
    api_detail: {"sales": 404, "marketer": SEES, "admin": SEES},
    api_lead_events: {"sales": 404, "marketer": SEES, "admin": SEES},
    api_post_event: {"sales": 403, "marketer": 201, "admin": 201},
    admin_search: {"sales": 302, "marketer": 302, "admin": SEES},
    admin_change: {"sales": 302, "marketer": 302, "admin": SEES},
}

CASES = [(surface, role) for surface in SURFACES for role in SALES + MARKETING]


def secrets_of(lead) -> tuple[str, ...]:
    return (lead.email, lead.company, f"/secret/{lead.pk}")


@pytest.mark.parametrize(("surface", "role"), CASES, ids=[f"{s.__name__}-{r}" for s, r in CASES])
def test_a_pool_lead_never_shows_up_for_sales(surface, role, cast, pool, api):
    user = getattr(cast, role)
    for lead in pool.all:
        got = surface(user, api, lead, pool)
        expected = SURFACES[surface]["sales" if role in SALES else role]
        if expected != SEES:
            assert got.status == expected, (surface.__name__, role, got.status)
            for secret in secrets_of(lead):
                assert secret not in got.text, (surface.__name__, role, secret)
            if got.status == 200 and got.text.startswith("{"):
                # Counts must not reveal pool leads either: every counted lead is listed and none is in the pool.
                body = json.loads(got.text)
                assert body["count"] == len(body["results"])
                assert all(row["status"] != Status.NURTURE for row in body["results"])
        elif surface is api_team_filter and lead.team_id is None:
            assert got.status == 200  # the fresh pool lead has no team to filter by
        else:
            assert got.status == 200, (surface.__name__, role, got.status)
            assert any(secret in got.text for secret in secrets_of(lead)), (surface.__name__, role)


def _without_csrf(text: str) -> str:
    # The CSRF token is masked afresh on every response (page header and logout form).
    return re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF", text)


@pytest.mark.parametrize("role", SALES)
@pytest.mark.parametrize("surface", [lead_page, api_detail, api_lead_events], ids=lambda s: s.__name__)
def test_sales_cannot_tell_a_pool_lead_from_a_missing_one(surface, role, cast, pool, api):
    user = getattr(cast, role)

    class Missing:
        pk = MISSING_ID
        email = "missing@nowhere.com"

    missing = surface(user, api, Missing, pool)
    for lead in pool.all:
        got = surface(user, api, lead, pool)
        assert (got.status, _without_csrf(got.text).replace(str(lead.pk), "ID")) == (
            missing.status,
            _without_csrf(missing.text).replace(str(MISSING_ID), "ID"),
        )


def test_the_manager_of_the_team_a_lead_was_rejected_from_does_not_see_it(cast, pool, api):
    ids = {row["id"] for row in api.as_user(cast.manager).get("/api/v1/leads/").json()["results"]}
    assert pool.recycled.pk not in ids
    assert api.as_user(cast.manager).get(f"/api/v1/leads/{pool.recycled.pk}/").status_code == 404
    # The same lead promoted again becomes visible to the team: the filter is the pool, not the lead.
    type(pool.recycled).objects.filter(pk=pool.recycled.pk).update(status=Status.QUEUED)
    assert api.as_user(cast.manager).get(f"/api/v1/leads/{pool.recycled.pk}/").status_code == 200
