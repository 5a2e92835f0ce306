"""The sales queue: lead brief, touches, stages, rejections, rep-sourced prospects.

`leads.rep_owned` is cast.rep's assigned marketing lead (team East, managed by
cast.manager); `leads.pool` sits in the nurture pool, which the brief never shows.
"""

from leads.models import Lead, Status, Touch

from . import Route

ANON = 302  # pages send anonymous users to the login page
API_ANON = 401


def mine(leads) -> dict:
    return {"lead_id": leads.rep_owned.pk}


def pool(leads) -> dict:
    return {"lead_id": leads.pool.pk}


def only_owner(ok: int, *, anon: int = ANON) -> dict[str, int]:
    """A write on cast.rep's lead: the owner succeeds, another rep gets 404, other roles 403."""
    return {"anonymous": anon, "marketer": 403, "rep": ok, "other_rep": 404, "manager": 403, "admin": 403}


def reps_only(ok: int, *, anon: int = ANON) -> dict[str, int]:
    return {"anonymous": anon, "marketer": 403, "rep": ok, "other_rep": ok, "manager": 403, "admin": 403}


def marketing_only(ok: int, *, anon: int = ANON) -> dict[str, int]:
    return {"anonymous": anon, "marketer": ok, "rep": 403, "other_rep": 403, "manager": 403, "admin": ok}


def touch_logged(kind: str, outcome: str):
    def effect(leads, kwargs, user):
        assert Touch.objects.filter(lead=leads.rep_owned, rep=user, kind=kind, outcome=outcome).count() == 1

    return effect


def lost(reason: str):
    def effect(leads, kwargs, user):
        lead = Lead.objects.get(pk=leads.rep_owned.pk)
        assert (lead.status, lead.lost_reason) == (Status.LOST, reason)

    return effect


def rejected(reason: str):
    def effect(leads, kwargs, user):
        lead = Lead.objects.get(pk=leads.rep_owned.pk)
        assert (lead.rejected_by, lead.reject_reason) == (user, reason)

    return effect


def prospect_of(email: str, channel: str):
    def effect(leads, kwargs, user):
        assert Lead.objects.filter(email=email, owner=user, rep_source_channel=channel).count() == 1

    return effect


BRIEF_OF_MINE = {"anonymous": ANON, "marketer": 403, "rep": 200, "other_rep": 404, "manager": 200, "admin": 200}
BRIEF_OF_POOL = {"anonymous": ANON, "marketer": 403, "rep": 404, "other_rep": 404, "manager": 404, "admin": 404}

ROUTES = [
    # Pages
    Route("leads:brief", BRIEF_OF_MINE, kwargs=mine),
    Route("leads:brief", BRIEF_OF_POOL, kwargs=pool),
    Route(
        "leads:touch_log",
        only_owner(302),
        method="post",
        kwargs=mine,
        data={"kind": "call", "outcome": "connected"},
        effect=touch_logged("call", "connected"),
    ),
    Route(
        "leads:stage_change",
        only_owner(302),
        method="post",
        kwargs=mine,
        data={"status": "lost", "reason": "Left the company"},
        effect=lost("Left the company"),
    ),
    Route(
        "leads:reject",
        only_owner(302),
        method="post",
        kwargs=mine,
        data={"reason": "not_a_fit"},
        effect=rejected("not_a_fit"),
    ),
    Route("leads:rep_sourced_create", reps_only(200)),
    Route(
        "leads:rep_sourced_create",
        reps_only(302),
        method="post",
        data={"email": "found@prospect.com", "channel": "cold_call"},
        effect=prospect_of("found@prospect.com", "cold_call"),
    ),
    Route("leads:rejections", marketing_only(200)),
    # API
    Route("api-queue", reps_only(200, anon=API_ANON), api=True),
    Route(
        "api-lead-touches",
        {**BRIEF_OF_MINE, "anonymous": API_ANON},
        kwargs=mine,
        api=True,
    ),
    Route("api-lead-touches", {**BRIEF_OF_POOL, "anonymous": API_ANON}, kwargs=pool, api=True),
    Route(
        "api-lead-touches",
        only_owner(201, anon=API_ANON),
        method="post",
        kwargs=mine,
        data={"kind": "email", "outcome": "sent"},
        api=True,
        effect=touch_logged("email", "sent"),
    ),
    Route(
        "api-lead-stage",
        only_owner(200, anon=API_ANON),
        method="post",
        kwargs=mine,
        data={"status": "lost", "reason": "Chose a competitor"},
        api=True,
        effect=lost("Chose a competitor"),
    ),
    Route(
        "api-lead-reject",
        only_owner(200, anon=API_ANON),
        method="post",
        kwargs=mine,
        data={"reason": "bad_data"},
        api=True,
        effect=rejected("bad_data"),
    ),
    Route("api-rejections", marketing_only(200, anon=API_ANON), api=True),
    Route(
        "api-prospects",
        reps_only(201, anon=API_ANON),
        method="post",
        data={"email": "met@event.com", "channel": "event"},
        api=True,
        effect=prospect_of("met@event.com", "event"),
    ),
]
