"""Credit to both sides: pipeline and won value per first/last marketing touch (lead source and
campaign, utm_* of engagement events before promotion) and per closing rep, against an independent
computation over the raw rows; the page and the API as each role may see them."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest
from django.urls import reverse

from leads.models import EngagementEvent, Lead, Origin, Status
from reports.analyses import services
from reports.analyses.credit import DIMENSIONS, credit_compute
from reports.analyses.selectors import analysis_for_user
from reports.models import Analysis
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 30, 12, 0, tzinfo=datetime.UTC)
SINCE, UNTIL = datetime.date(2026, 5, 1), datetime.date(2026, 6, 30)
SOURCES = ["google", "linkedin", "newsletter", ""]
CAMPAIGNS = ["spring", "webinar-q2", ""]
STATUSES = [Status.ASSIGNED, Status.WORKING, Status.OPPORTUNITY, Status.WON, Status.WON, Status.LOST, Status.NURTURE]


def _random_history(cast, seed):
    rng = random.Random(seed)
    base = datetime.datetime(2026, 4, 25, tzinfo=datetime.UTC)
    reps = [(cast.rep, cast.team), (cast.teammate, cast.team), (cast.other_rep, cast.other_team), (None, cast.team)]
    for _ in range(70):
        owner, team = rng.choice(reps)
        created = base + datetime.timedelta(hours=rng.uniform(0, 24 * 60))
        origin = Origin.REP_SOURCED if rng.random() < 0.25 else Origin.MARKETING
        promoted = created + datetime.timedelta(hours=rng.uniform(1, 200)) if origin == Origin.MARKETING else None
        status = rng.choice(STATUSES)
        lead = LeadFactory(
            origin=origin,
            status=status,
            owner=owner if status != Status.NURTURE else None,
            team=team,
            created_at=created,
            promoted_at=promoted,
            source=rng.choice(SOURCES),
            campaign=rng.choice(CAMPAIGNS),
            recycled_count=1 if status == Status.NURTURE else 0,
            deal_value=Decimal(rng.randint(1, 500) * 100) if rng.random() < 0.8 else None,
        )
        for _ in range(rng.randint(0, 4)):
            at = created + datetime.timedelta(hours=rng.uniform(-50, 250))
            props = {}
            if rng.random() < 0.7:
                props["utm_source"] = rng.choice(SOURCES)
            if rng.random() < 0.6:
                props["utm_campaign"] = rng.choice(CAMPAIGNS)
            EngagementEvent.objects.create(lead=lead, kind="page_view", occurred_at=at, properties=props)


def _expected(team_id=None):
    """The credit computed from the raw rows in plain Python."""
    start = datetime.datetime.combine(SINCE, datetime.time(), tzinfo=datetime.UTC)
    end = datetime.datetime.combine(UNTIL + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
    marketing = {d: {} for d in DIMENSIONS}
    reps = {}
    total = {"leads": 0, "open": 0, "pipeline": Decimal(0), "won": 0, "won_value": Decimal(0)}

    def add(into, lead):
        is_open = lead.status in ("queued", "assigned", "contacted", "working", "opportunity")
        into["leads"] += 1
        into["open"] += is_open
        into["pipeline"] += (lead.deal_value or 0) if is_open else 0
        into["won"] += lead.status == "won"
        into["won_value"] += (lead.deal_value or 0) if lead.status == "won" else 0

    def empty():
        return {"leads": 0, "open": 0, "pipeline": Decimal(0), "won": 0, "won_value": Decimal(0)}

    for lead in Lead.objects.all():
        queued = lead.promoted_at or lead.created_at
        if lead.status == "nurture" or not (start <= queued < end) or (team_id and lead.team_id != team_id):
            continue
        add(total, lead)
        side = "marketing" if lead.origin == "marketing" else "rep_sourced"
        add(reps.setdefault(lead.owner_id, {}).setdefault(side, empty()), lead)
        if lead.origin != "marketing":
            continue
        touches = []
        if lead.source or lead.campaign:
            touches.append((lead.created_at, 0, lead.source or None, lead.campaign or None))
        for e in EngagementEvent.objects.filter(lead=lead):
            s, c = e.properties.get("utm_source") or None, e.properties.get("utm_campaign") or None
            if (s or c) and e.occurred_at <= lead.promoted_at:
                touches.append((e.occurred_at, e.id, s, c))
        touches.sort(key=lambda t: (t[0], t[1]))
        if touches:
            first, last = touches[0], touches[-1]
            keys = [first[2] or "(none)", first[3] or "(none)", last[2] or "(none)", last[3] or "(none)"]
        else:
            keys = ["(unknown)"] * 4
        for dim, key in zip(DIMENSIONS, keys, strict=True):
            add(marketing[dim].setdefault(key, empty()), lead)
    return marketing, reps, total


def _money(f):
    return f | {
        "pipeline": str(f["pipeline"].quantize(Decimal("0.01"))),
        "won_value": str(f["won_value"].quantize(Decimal("0.01"))),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_credit_equals_an_independent_computation_over_the_raw_rows(cast, seed):
    _random_history(cast, seed)
    for team_id in (None, cast.team.id):
        data = credit_compute(since=SINCE, until=UNTIL, team_id=team_id, now=NOW)
        marketing, reps, total = _expected(team_id)
        assert data["total"] == _money(total)
        for dim in DIMENSIONS:
            assert data["marketing"][dim] == {k: _money(v) for k, v in marketing[dim].items()}
        got = {r["rep_id"]: r for r in data["reps"]}
        assert set(got) == set(reps)
        for rep_id, sides in reps.items():
            for side in ("marketing", "rep_sourced"):
                if side in sides:
                    assert got[rep_id][side] == _money(sides[side])
                else:
                    assert got[rep_id][side]["leads"] == 0


def test_first_and_last_touch_come_from_the_lead_and_the_utm_of_events_before_promotion(cast):
    created = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    lead = LeadFactory(
        origin=Origin.MARKETING,
        status=Status.WON,
        owner=cast.rep,
        team=cast.team,
        created_at=created,
        promoted_at=created + datetime.timedelta(days=5),
        source="",
        campaign="",
        deal_value=Decimal("1000"),
    )
    day = datetime.timedelta(days=1)
    for at, props in [
        (created + day, {"utm_source": "linkedin", "utm_campaign": "spring"}),
        (created + 2 * day, {"utm_source": "google"}),
        (created + 3 * day, {"other": "x"}),  # no utm: not a marketing touch
        (created + 9 * day, {"utm_source": "late", "utm_campaign": "after"}),  # after promotion
    ]:
        EngagementEvent.objects.create(lead=lead, kind="page_view", occurred_at=at, properties=props)
    data = credit_compute(since=SINCE, until=UNTIL, team_id=None, now=NOW)
    m = data["marketing"]
    assert list(m["first_source"]) == ["linkedin"] and list(m["first_campaign"]) == ["spring"]
    assert list(m["last_source"]) == ["google"] and list(m["last_campaign"]) == ["(none)"]
    assert m["first_source"]["linkedin"]["won_value"] == "1000.00"
    assert data["reps"][0]["username"] == "rep1" and data["reps"][0]["marketing"]["won_value"] == "1000.00"


def test_the_credit_page_shows_both_sides_and_reps_see_their_own_row(cast, client):
    _random_history(cast, 9)
    analysis = services.analysis_request(
        kind=Analysis.Kind.CREDIT, since=SINCE, until=UNTIL, team_id=cast.team.id, actor=cast.manager
    )
    analysis = services.analysis_build(analysis_id=analysis.pk, now=NOW)
    client.force_login(cast.marketer)
    page = client.get(reverse("reports:analysis_detail", args=[analysis.pk]))
    assert page.status_code == 200
    assert b'data-testid="credit-marketing"' in page.content and b'data-testid="credit-sales"' in page.content
    assert [r["username"] for r in analysis_for_user(analysis=analysis, user=cast.rep)["reps"]] in (["rep1"], [])
    client.force_login(cast.rep)
    page = client.get(reverse("reports:analysis_detail", args=[analysis.pk]))
    assert b'data-rep="rep2"' not in page.content
    csv_text = client.get(reverse("reports:analysis_export", args=[analysis.pk])).content.decode()
    assert csv_text.splitlines()[0] == "side,credited to,by,leads,open,pipeline,won,won_value"
