"""Intake: the nurture pool pages and the leads/events API (leads.pool.views, leads.intake.apis)."""

from leads.models import EngagementEvent, Lead, Status

from . import Route

ANON = 302  # pages send anonymous users to the login page
API_ANON = 401  # the API asks for credentials (token or session)

MARKETING_ONLY_PAGE = {"anonymous": ANON, "marketer": 200, "rep": 403, "other_rep": 403, "manager": 403, "admin": 200}
MARKETING_ONLY_WRITE = {
    "anonymous": API_ANON,
    "marketer": 201,
    "rep": 403,
    "other_rep": 403,
    "manager": 403,
    "admin": 201,
}


def lead_created(leads, kwargs, user):
    assert list(Lead.objects.filter(email="new@lead.example").values_list("status", flat=True)) == [Status.NURTURE]


def event_recorded(leads, kwargs, user):
    assert EngagementEvent.objects.filter(kind="page_view", lead__email="visitor@lead.example").count() == 1


ROUTES = [
    Route("leads:pool_export", MARKETING_ONLY_PAGE),
    # The lead page is marketing's: sales gets 403 for any id, so it tells nothing about the pool.
    Route("leads:lead_detail", MARKETING_ONLY_PAGE, kwargs=lambda leads: {"lead_id": leads.pool.pk}),
    Route("leads:lead_detail", MARKETING_ONLY_PAGE, kwargs=lambda leads: {"lead_id": leads.rep_owned.pk}),
    Route(
        "api-leads",
        {"anonymous": API_ANON, "marketer": 200, "rep": 200, "other_rep": 200, "manager": 200, "admin": 200},
        api=True,
    ),
    Route(
        "api-leads",
        MARKETING_ONLY_WRITE,
        method="post",
        data={"email": "new@lead.example"},
        api=True,
        effect=lead_created,
    ),
    # A rep's own lead: the owner, the team's manager and marketing see it; another team's rep does not.
    Route(
        "api-lead-detail",
        {"anonymous": API_ANON, "marketer": 200, "rep": 200, "other_rep": 404, "manager": 200, "admin": 200},
        kwargs=lambda leads: {"lead_id": leads.rep_owned.pk},
        api=True,
    ),
    # A nurture pool lead: sales gets 404, as for a lead that does not exist.
    Route(
        "api-lead-detail",
        {"anonymous": API_ANON, "marketer": 200, "rep": 404, "other_rep": 404, "manager": 404, "admin": 200},
        kwargs=lambda leads: {"lead_id": leads.pool.pk},
        api=True,
    ),
    Route(
        "api-lead-events",
        {"anonymous": API_ANON, "marketer": 200, "rep": 200, "other_rep": 404, "manager": 200, "admin": 200},
        kwargs=lambda leads: {"lead_id": leads.rep_owned.pk},
        api=True,
    ),
    Route(
        "api-lead-events",
        {"anonymous": API_ANON, "marketer": 200, "rep": 404, "other_rep": 404, "manager": 404, "admin": 200},
        kwargs=lambda leads: {"lead_id": leads.pool.pk},
        api=True,
    ),
    Route(
        "api-events",
        MARKETING_ONLY_WRITE,
        method="post",
        data={"kind": "page_view", "occurred_at": "2020-01-01T00:00:00Z", "email": "visitor@lead.example"},
        api=True,
        effect=event_recorded,
    ),
]
