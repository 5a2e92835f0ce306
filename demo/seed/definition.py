"""The active qualified-lead definition (scoring.rules schema) with its sign-off thread, and the routing rules."""

from __future__ import annotations

import datetime

from demo.seed.cast import EAST, WEST, Cast
from demo.seed.constants import DAY, HISTORY_DAYS, HOUR, MINUTE
from leads.models import AssignmentRule
from scoring.models import Approval, Comment, DefinitionVersion
from scoring.rules import Definition, rules_parse
from scoring.services import definition_number_next

TARGET_INDUSTRIES = ["Software", "SaaS", "Fintech", "Healthcare IT", "E-commerce", "Logistics"]
OTHER_INDUSTRIES = ["Retail", "Education", "Government", "Hospitality", "Agriculture", "Non-profit", "Media"]
PERSONAL_DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]
SERVED_COUNTRIES = ["US", "CA", "GB", "DE", "FR", "NL", "IE", "SE", "AU"]
UNSERVED_COUNTRIES = ["BR", "IN", "MX", "ZA", "JP", "AR"]
EAST_COUNTRIES = ["US", "CA"]

DEFINITION_TITLE = "Launch definition"
DEFINITION_THRESHOLD = 60
DEFINITION_RULES = [
    {
        "id": "fit-industry",
        "type": "fit",
        "label": "Target industry",
        "field": "industry",
        "op": "one_of",
        "value": TARGET_INDUSTRIES,
        "points": 15,
    },
    {
        "id": "fit-size",
        "type": "fit",
        "label": "50 to 5,000 employees",
        "field": "company_size",
        "op": "between",
        "value": [50, 5000],
        "points": 15,
    },
    {
        "id": "fit-vp",
        "type": "fit",
        "label": "VP title",
        "field": "title",
        "op": "contains",
        "value": "VP",
        "points": 10,
    },
    {
        "id": "fit-director",
        "type": "fit",
        "label": "Director title",
        "field": "title",
        "op": "contains",
        "value": "director",
        "points": 10,
    },
    {
        "id": "beh-pricing",
        "type": "behaviour",
        "label": "Viewed pricing",
        "event_kind": "pricing_page_view",
        "min_count": 1,
        "within_days": 30,
        "points": 10,
        "cap": 20,
        "half_life_days": 14,
    },
    {
        "id": "beh-demo",
        "type": "behaviour",
        "label": "Requested a demo",
        "event_kind": "demo_request",
        "min_count": 1,
        "within_days": 30,
        "points": 40,
        "cap": 40,
    },
    {
        "id": "beh-webinar",
        "type": "behaviour",
        "label": "Attended a webinar",
        "event_kind": "webinar_attended",
        "min_count": 1,
        "within_days": 60,
        "points": 15,
        "cap": 15,
        "half_life_days": 30,
    },
    {
        "id": "beh-content",
        "type": "behaviour",
        "label": "Downloaded content",
        "event_kind": "content_download",
        "min_count": 1,
        "within_days": 30,
        "points": 5,
        "cap": 15,
        "half_life_days": 21,
    },
    {
        "id": "gate-business-email",
        "type": "gate",
        "label": "Business email",
        "field": "email_domain",
        "op": "not_one_of",
        "value": PERSONAL_DOMAINS,
    },
    {
        "id": "gate-country",
        "type": "gate",
        "label": "Country we serve",
        "field": "country",
        "op": "one_of",
        "value": SERVED_COUNTRIES,
    },
]


def definition_ensure(*, cast: Cast, anchor: datetime.datetime) -> Definition:
    """The active definition (v1, signed off by marketer and manager) unless one is active already."""
    active = DefinitionVersion.objects.filter(state=DefinitionVersion.State.ACTIVE).first()
    if active is None:
        marketer, manager = cast.users["marketer"], cast.users["manager"]
        start = anchor - datetime.timedelta(days=HISTORY_DAYS + 12)
        number = definition_number_next()
        active = DefinitionVersion.objects.create(
            number=number,
            title=DEFINITION_TITLE,
            state=DefinitionVersion.State.ACTIVE,
            rules=DEFINITION_RULES,
            threshold=DEFINITION_THRESHOLD,
            revision=1,
            author=marketer,
            created_at=start,
            updated_at=start + 8 * DAY,
            proposed_at=start + 6 * DAY,
            activated_at=start + 8 * DAY,
        )
        approvals = [
            (marketer, Approval.Side.MARKETING, start + 7 * DAY),
            (manager, Approval.Side.SALES, start + 8 * DAY),
        ]
        Approval.objects.bulk_create(
            Approval(version=active, user=user, side=side, revision=1, created_at=at) for user, side, at in approvals
        )
        thread = [
            (marketer, start, "event", f"Started draft v{number}.", {"event": "created", "based_on": None}),
            (
                marketer,
                start + 2 * HOUR,
                "comment",
                "First cut: fit on industry and company size, and demo requests weigh the most. "
                "Personal email addresses and countries we do not serve are gates, not points.",
                {},
            ),
            (
                manager,
                start + 1 * DAY,
                "comment",
                "Agree on demo requests. Pricing views go stale fast, so a two-week half-life sounds right. "
                "Can Directors count like VPs? They sign most of our deals under 50k.",
                {},
            ),
            (
                marketer,
                start + 2 * DAY,
                "comment",
                "Directors are in at +10. With a threshold of 60, fit alone never qualifies a lead: "
                "they also have to show up.",
                {},
            ),
            (
                manager,
                start + 5 * DAY,
                "comment",
                "Works for us. If these leads reach my team, we call them within 24 hours.",
                {},
            ),
            (
                marketer,
                start + 6 * DAY,
                "event",
                f"Proposed v{number} for sign-off by Marketing and Sales.",
                {"event": "proposed"},
            ),
            (
                marketer,
                start + 7 * DAY,
                "event",
                "Approved for Marketing (revision 1).",
                {"event": "approved", "side": "marketing", "revision": 1},
            ),
            (
                manager,
                start + 8 * DAY,
                "event",
                "Approved for Sales (revision 1).",
                {"event": "approved", "side": "sales", "revision": 1},
            ),
            (
                manager,
                start + 8 * DAY + MINUTE,
                "event",
                "Signed off by Marketing and Sales: now the active definition.",
                {"event": "activated", "replaced": []},
            ),
        ]
        Comment.objects.bulk_create(
            Comment(version=active, author=author, created_at=at, kind=kind, body=body, data=data)
            for author, at, kind, body, data in thread
        )
    return Definition.from_rules(
        version=active.number, threshold=active.threshold, rules=rules_parse(active.rules or DEFINITION_RULES)
    )


ROUTING_RULES = [
    {"name": "US and Canada to East", "position": 10, "team": EAST, "country": EAST_COUNTRIES},
    {"name": "Europe and Australia to West", "position": 20, "team": WEST, "country": SERVED_COUNTRIES[2:]},
]


def routing_rules_ensure(*, cast: Cast) -> None:
    for rule in ROUTING_RULES:
        AssignmentRule.objects.update_or_create(
            name=rule["name"],
            defaults={
                "position": rule["position"],
                "team": cast.teams[rule["team"]],
                "conditions": {"country": rule["country"]},
                "strategy": AssignmentRule.Strategy.WEIGHTED,
            },
        )
