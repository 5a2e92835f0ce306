"""The demo history: six months of a believable field, generated deterministically.

`demo_seed` builds the demo logins (see README), two teams of reps, the active
qualified-lead definition with its sign-off, and about 5,000 leads with their
engagement events, touches, outcomes, history rows and SLA breaches, in which
the story of the product is visible:

* marketing-qualified leads close in about 5 touches and about a month, while
  rep-sourced cold calls need about 25 touches and about three months;
* two reps (rep2 in East, rep7 in West) skip qualified leads: assigned leads
  never contacted, contacted days late, or rejected back to marketing;
* some first contacts come after the 24-hour deadline, with their breaches.

Determinism: every choice comes from one `random.Random(seed)` and every time is
an offset from the anchor, today at 00:00 UTC, so a given seed and date give the
same rows. Only rep1's live queue (a few leads due soon and one overdue) and the
unassigned team queues are placed relative to the real clock, so the queue
looks alive after login; they are the same rows, just stamped at "now".

Re-running is safe: the demo's leads carry external ids starting with "demo-";
when they exist the seed is skipped (``demo_present``), and ``demo_clear`` removes
them (and every definition version) for a rebuild.

Everything is written with bulk_create in chunks inside one transaction: a few
seconds.
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import RepProfile, Role, Team, User
from accounts.services import user_create, user_set_role
from leads import history
from leads.models import (
    AssignmentRule,
    EngagementEvent,
    EventKind,
    Lead,
    LeadHistory,
    LeadScore,
    Origin,
    RejectReason,
    RepSourceChannel,
    ScoreLegend,
    Status,
    Touch,
    TouchKind,
    TouchOutcome,
)
from scoring.legend import lead_score_from_result, legend_ensure
from scoring.models import Approval, Comment, DefinitionVersion
from scoring.rules import Definition, rules_parse
from scoring.services import definition_number_next
from sla.models import SlaEvent

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "leadhandoff"  # noqa: S105 - demo only; README says so
DEMO_PREFIX = "demo-"
LIVE_PREFIX = "demo-live-"  # rows stamped relative to the real clock
DEFAULT_LEADS = 5000
DEFAULT_SEED = 2024
HISTORY_DAYS = 182
SLA_HOURS = 24
CHUNK = 1000
UTC = datetime.UTC

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)

# --- The cast ------------------------------------------------------------------

EAST, WEST = "East", "West"


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    first_name: str
    last_name: str
    team: str | None = None
    timezone: str = "UTC"
    work_start: datetime.time = datetime.time(9, 0)
    work_end: datetime.time = datetime.time(17, 0)
    capacity: int = 25
    routing_weight: int = 1
    out_of_office: bool = False
    # Share of assigned marketing leads this rep lets rot (never contacted, late, rejected).
    skips: bool = False
    # Relative share of rep-sourced prospects this rep adds.
    prospecting: int = 1
    # The showcase login: always on time, and the only open uncontacted leads in
    # the queue are the live ones (a few due soon, one overdue).
    model: bool = False


PEOPLE = [
    Person("marketer", Role.MARKETING, "Maya", "Fischer"),
    Person("manager", Role.MANAGER, "Grace", "Okafor"),
    Person("manager2", Role.MANAGER, "Tomás", "Herrera"),
    Person("admin", Role.ADMIN, "Alex", "Admin"),
    Person("rep1", Role.REP, "Sam", "Rivera", EAST, "America/New_York", capacity=30, routing_weight=2, model=True),
    Person("rep2", Role.REP, "Jordan", "Blake", EAST, "America/New_York", skips=True, prospecting=4),
    Person("rep4", Role.REP, "Priya", "Nair", EAST, "America/Chicago", datetime.time(8, 0), datetime.time(16, 0)),
    Person("rep5", Role.REP, "Ben", "Carter", EAST, "America/Toronto"),
    Person("rep6", Role.REP, "Chloe", "Martin", EAST, "America/New_York", capacity=20),
    Person("rep3", Role.REP, "Lena", "Vogel", WEST, "Europe/Berlin"),
    Person("rep7", Role.REP, "Marcus", "Reid", WEST, "Europe/London", skips=True, prospecting=4),
    Person("rep8", Role.REP, "Aoife", "Byrne", WEST, "Europe/Dublin", capacity=30, routing_weight=2),
    Person("rep9", Role.REP, "Daniel", "Kim", WEST, "America/Los_Angeles", out_of_office=True),
]
TEAM_MANAGERS = {EAST: "manager", WEST: "manager2"}

# --- The qualified-lead definition (scoring.rules schema) ------------------------

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

# --- Names ----------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew Nancy Anthony Sandra Mark Ashley Paul "
    "Emily Steven Michelle Andrew Amanda Kenneth Melissa Joshua Deborah Kevin Stephanie Brian Rebecca "
    "George Laura Timothy Sharon Ronald Cynthia Jason Kathleen Ryan Amy Jacob Angela Gary Anna Nicholas "
    "Ruth Eric Brenda Jonathan Pamela Stephen Nicole Larry Katherine Justin Samantha Scott Christine "
    "Brandon Emma Benjamin Catherine Samuel Virginia Gregory Rachel Alexander Carolyn Patrick Janet Frank "
    "Maria Raymond Heather Jack Diane Dennis Julie Jerry Joyce Tyler Victoria Aaron Kelly Henrik Ingrid "
    "Sofia Lukas Amelie Noah Olivia Liam"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
    "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Schmidt Muller Larsen Dubois Jansen"
)
COMPANY_PREFIXES = _words(
    "Acme Globex Initech Umbrella Hooli Vandelay Soylent Cyberdyne Stark Wayne Tyrell Wonka Gringotts "
    "Oscorp Aperture Massive Dynamic Nakatomi Monarch Virtucon Northwind Contoso Fabrikam Litware Adatum "
    "Tailspin Wingtip Proseware Lucerne Fourth Coffee Blue Yonder Alpine Margie Trey Bluefin Redwood "
    "Ironbark Cobalt Juniper Lumen Quanta Vertex Helix Nimbus Orbit Pioneer Summit Harbor Beacon Cascade "
    "Evergreen Granite"
)
COMPANY_SUFFIXES = _words(
    "Systems Labs Analytics Logistics Health Cloud Works Group Dynamics Software Partners Networks"
)
STREET_TITLES = [
    "VP of Sales",
    "VP Marketing",
    "VP Engineering",
    "Director of IT",
    "Director of Operations",
    "Marketing Director",
    "Head of Growth",
    "Operations Manager",
    "Software Engineer",
    "Account Executive",
    "CFO",
    "Office Manager",
    "Student",
    "Consultant",
]
QUALIFIED_TITLES = STREET_TITLES[:6]
LOST_REASONS = ["No budget this year", "Chose a competitor", "No decision", "Bad timing", "Went dark"]
CAMPAIGNS = ["spring-webinar", "pricing-retargeting", "ebook-roi-guide", "q2-newsletter", "partner-referral"]
SOURCES = ["webinar", "website", "content", "paid_search", "event", "partner"]


# --- Plans: a lead and its children, before ids exist ------------------------------


@dataclass
class Plan:
    lead: Lead
    events: list[tuple[str, datetime.datetime]] = field(default_factory=list)
    touches: list[Touch] = field(default_factory=list)
    history: list[tuple[history.Entry, datetime.datetime, int | None]] = field(default_factory=list)
    sla: list[dict] = field(default_factory=list)
    score: LeadScore | None = None  # its lead_id is set once the lead is written

    def note(self, entry: history.Entry, at: datetime.datetime, actor_id: int | None = None) -> None:
        self.history.append((entry, at, actor_id))


@dataclass
class SeedResult:
    skipped: bool = False
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)


@dataclass
class Cast:
    users: dict[str, User]
    teams: dict[str, Team]
    reps_by_team: dict[str, list[tuple[User, Person]]]


# --- Public entry points -------------------------------------------------------------


def demo_present() -> bool:
    return Lead.objects.filter(external_id__startswith=DEMO_PREFIX).exists()


@transaction.atomic
def demo_clear() -> int:
    """Delete the demo's leads (with their events, touches, history, SLA rows) and every
    definition version, so a rebuild starts from the same place. Users and teams stay
    (they are updated in place by the next seed)."""
    deleted, _ = Lead.objects.filter(external_id__startswith=DEMO_PREFIX).delete()
    DefinitionVersion.objects.all().delete()
    # Legends no stored score uses any more went with the demo's leads; one still in
    # use (another lead's score) stays, and the next version is numbered past it.
    ScoreLegend.objects.exclude(version__in=LeadScore.objects.values("legend")).delete()
    AssignmentRule.objects.filter(name__in=[r["name"] for r in ROUTING_RULES]).delete()
    return deleted


def demo_seed(
    *,
    leads: int = DEFAULT_LEADS,
    seed: int = DEFAULT_SEED,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    log: Callable[[str], None] = logger.info,
) -> SeedResult:
    """Create the demo history unless it is present; return what was created.

    `today` fixes the anchor (default: today in UTC); `now` stamps the live queue
    (default: the real clock, read once; midday of `today` when that is another day).
    """
    started = time.monotonic()
    clock = datetime.datetime.now(tz=UTC)
    today = today or (now or clock).date()
    anchor = datetime.datetime.combine(today, datetime.time(0), tzinfo=UTC)
    if now is None:
        now = clock if today == clock.date() else anchor + 12 * HOUR
    if demo_present():
        log("Demo data already present (leads with external ids demo-*); nothing to do. Use --reset to rebuild.")
        return SeedResult(skipped=True, seconds=time.monotonic() - started)
    if leads < 50:
        raise ValueError("The demo needs at least 50 leads.")
    with transaction.atomic():
        rng = random.Random(seed)
        cast = _cast_ensure()
        log(f"Users and teams ready ({len(cast.users)} logins).")
        definition = _definition_ensure(cast=cast, anchor=anchor)
        _routing_rules_ensure(cast=cast)
        builder = _Builder(rng=rng, cast=cast, definition=definition, anchor=anchor, now=now)
        plans = builder.build(total=leads)
        log(f"Planned {len(plans)} leads; writing.")
        counts = _write(plans, definition=definition, log=log)
        _rep_profiles_touch(plans)
    seconds = time.monotonic() - started
    log(
        f"Demo history created in {seconds:.1f}s: {counts['leads']} leads, {counts['events']} events, "
        f"{counts['touches']} touches, {counts['history']} history rows, {counts['sla_events']} SLA events."
    )
    return SeedResult(skipped=False, seconds=seconds, counts=counts)


# --- Users, teams, definition, routing rules --------------------------------------------


def _user_ensure(person: Person, *, team: Team | None, password_hash: str) -> User:
    profile = {}
    if person.role == Role.REP:
        profile = {
            "timezone": person.timezone,
            "work_start": person.work_start,
            "work_end": person.work_end,
            "capacity": person.capacity,
            "routing_weight": person.routing_weight,
            "out_of_office": person.out_of_office,
        }
    user = User.objects.filter(username=person.username).first()
    if user is None:
        user = user_create(
            username=person.username,
            password=None,
            role=person.role,
            email=f"{person.username}@leadhandoff.example",
            first_name=person.first_name,
            last_name=person.last_name,
            team=team,
            **profile,
        )
    else:
        user_set_role(user=user, role=person.role)
        if person.role == Role.REP:
            RepProfile.objects.update_or_create(user=user, defaults={"team": team, **profile})
    # One hash for every demo login: hashing is deliberately slow (PBKDF2).
    user.password = password_hash
    user.is_active = True
    user.is_superuser = person.role == Role.ADMIN
    user.is_staff = person.role == Role.ADMIN
    user.save(update_fields=["password", "is_active", "is_superuser", "is_staff"])
    return user


def _cast_ensure() -> Cast:
    password_hash = make_password(DEMO_PASSWORD)
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in (EAST, WEST)}
    users = {}
    for person in PEOPLE:
        users[person.username] = _user_ensure(person, team=teams.get(person.team), password_hash=password_hash)
    for name, team in teams.items():
        team.manager = users[TEAM_MANAGERS[name]]
        # West catches what no routing rule sends elsewhere, unless another team already does.
        if name == WEST and not Team.objects.filter(is_fallback=True).exclude(pk=team.pk).exists():
            team.is_fallback = True
        team.save()
    reps_by_team: dict[str, list[tuple[User, Person]]] = {EAST: [], WEST: []}
    for person in PEOPLE:
        if person.team:
            reps_by_team[person.team].append((users[person.username], person))
    return Cast(users=users, teams=teams, reps_by_team=reps_by_team)


def _definition_ensure(*, cast: Cast, anchor: datetime.datetime) -> Definition:
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


def _routing_rules_ensure(*, cast: Cast) -> None:
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


# --- Scoring ------------------------------------------------------------------------


def _score(lead: Lead, events: list[tuple[str, datetime.datetime]], definition: Definition, at: datetime.datetime):
    """Score through the scoring engine (scoring.engine), as the product would."""
    from scoring.engine import LeadFacts, evaluate

    facts = LeadFacts.of(
        events=[(kind, when) for kind, when in events if when <= at],
        email=lead.email,
        title=lead.title,
        company=lead.company,
        industry=lead.industry,
        company_size=lead.company_size,
        country=lead.country,
        source=lead.source,
        campaign=lead.campaign,
    )
    return evaluate(facts, definition, at)


def _apply_score(plan: Plan, result, definition: Definition, at: datetime.datetime) -> None:
    """The lead's stored score (a LeadScore row, compact as scoring writes it), replacing any earlier one."""
    plan.score = lead_score_from_result(result, definition, at=at)


# --- The generator -----------------------------------------------------------------------


class _Builder:
    def __init__(self, *, rng: random.Random, cast: Cast, definition: Definition, anchor, now):
        self.rng = rng
        self.cast = cast
        self.definition = definition
        self.anchor = anchor
        self.now = now
        self.start = anchor - datetime.timedelta(days=HISTORY_DAYS)
        self.emails: set[str] = set()
        self.serial = 0

    # -- small helpers
    def _days(self, low: float, high: float) -> datetime.timedelta:
        return datetime.timedelta(seconds=self.rng.uniform(low, high) * 86400)

    def _daytime(self, day: datetime.datetime) -> datetime.datetime:
        """A moment in the field's working day (13:30-23:30 UTC covers US and EU office hours)."""
        midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + datetime.timedelta(seconds=self.rng.randint(13 * 3600 + 1800, 23 * 3600 + 1800))

    def _external_id(self, prefix: str = DEMO_PREFIX) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:05d}"

    def _person(self, *, qualified: bool, personal_email: bool = False) -> dict:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        prefix, suffix = rng.choice(COMPANY_PREFIXES), rng.choice(COMPANY_SUFFIXES)
        company = f"{prefix} {suffix}"
        domain = rng.choice(PERSONAL_DOMAINS) if personal_email else f"{prefix}{suffix}.com".lower()
        local = f"{first}.{last}".lower()
        email = f"{local}@{domain}"
        n = 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        if qualified:
            industry = rng.choice(TARGET_INDUSTRIES)
            size = rng.choice([rng.randint(50, 500), rng.randint(200, 5000)])
            title = rng.choice(QUALIFIED_TITLES)
            country = rng.choices(SERVED_COUNTRIES, weights=[45, 10, 15, 10, 5, 5, 3, 3, 4])[0]
        else:
            industry = rng.choice(TARGET_INDUSTRIES + OTHER_INDUSTRIES)
            size = rng.choice([rng.randint(1, 49), rng.randint(50, 5000), rng.randint(5001, 40000), None])
            title = rng.choice(STREET_TITLES)
            country = rng.choice(SERVED_COUNTRIES + SERVED_COUNTRIES + UNSERVED_COUNTRIES)
        return {
            "email": email,
            "first_name": first,
            "last_name": last,
            "company": company,
            "industry": industry,
            "company_size": size,
            "title": title,
            "country": country,
            "website": f"https://{prefix}{suffix}.com".lower(),
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        }

    def _marketing_lead(
        self, *, created: datetime.datetime, qualified: bool, personal_email: bool = False, prefix: str = DEMO_PREFIX
    ) -> Lead:
        fields = self._person(qualified=qualified, personal_email=personal_email)
        return Lead(
            external_id=self._external_id(prefix),
            origin=Origin.MARKETING,
            source=self.rng.choice(SOURCES),
            campaign=self.rng.choice(CAMPAIGNS),
            created_at=created,
            status=Status.NURTURE,
            **fields,
        )

    def _events(
        self, plan: Plan, *, since: datetime.datetime, until: datetime.datetime, mix: dict[str, int], extra: int
    ) -> None:
        """`mix` events of each kind plus `extra` page views and email clicks between since and until."""
        span = max((until - since).total_seconds(), 3600.0)
        for kind, count in mix.items():
            for _ in range(count):
                plan.events.append((kind, since + datetime.timedelta(seconds=self.rng.uniform(0, span))))
        for _ in range(extra):
            kind = EventKind.PAGE_VIEW if self.rng.random() < 0.7 else EventKind.EMAIL_CLICK
            plan.events.append((kind, since + datetime.timedelta(seconds=self.rng.uniform(0, span))))
        plan.events.sort(key=lambda e: e[1])

    def _pick_rep(self, team: str, at: datetime.datetime) -> tuple[User, Person]:
        reps = self.cast.reps_by_team[team]
        # The rep on leave got nothing in the last fortnight; rep1's recent leads are the live ones.
        reps = [
            (u, p)
            for u, p in reps
            if not (p.out_of_office and at > self.anchor - 14 * DAY) and not (p.model and at > self.anchor - 5 * DAY)
        ]
        return self.rng.choices(reps, weights=[p.routing_weight for _, p in reps])[0]

    def _touch(self, plan: Plan, rep: User, at: datetime.datetime, *, cold: bool, first: bool = False) -> None:
        rng = self.rng
        if cold:
            kind = rng.choices([TouchKind.CALL, TouchKind.EMAIL, TouchKind.SOCIAL], weights=[75, 15, 10])[0]
        elif first:
            kind = rng.choices([TouchKind.CALL, TouchKind.EMAIL], weights=[60, 40])[0]
        else:
            kind = rng.choices([TouchKind.CALL, TouchKind.EMAIL, TouchKind.MEETING], weights=[35, 40, 25])[0]
        if kind == TouchKind.CALL:
            connect = 0.15 if cold else 0.45
            outcome = rng.choices(
                [TouchOutcome.CONNECTED, TouchOutcome.LEFT_VOICEMAIL, TouchOutcome.NO_ANSWER],
                weights=[connect, 0.3, 0.7 - connect],
            )[0]
        elif kind == TouchKind.MEETING:
            outcome = rng.choice([TouchOutcome.CONNECTED, TouchOutcome.MEETING_BOOKED])
        else:
            outcome = TouchOutcome.REPLIED if rng.random() < (0.12 if cold else 0.35) else TouchOutcome.SENT
        plan.touches.append(Touch(rep=rep, kind=kind, outcome=outcome, occurred_at=at))

    # -- the sales part of a lead's life, truncated at the anchor (or live clock)
    def _work(
        self,
        plan: Plan,
        rep: User,
        *,
        first_contact: datetime.datetime,
        touches: int,
        cycle_days: float,
        won: bool,
        cold: bool,
        until: datetime.datetime,
    ) -> None:
        rng, lead = self.rng, plan.lead
        closed = first_contact + datetime.timedelta(days=cycle_days)
        times = [first_contact]
        if touches > 1:
            between = sorted(
                self._daytime(first_contact + (closed - first_contact) * rng.random()) for _ in range(touches - 2)
            )
            times += [min(max(t, first_contact + HOUR), closed - HOUR) for t in between]
            times.append(closed - datetime.timedelta(hours=rng.uniform(1, 20)))
        value = Decimal(round(rng.lognormvariate(10.0 if not cold else 9.8, 0.5), -2))
        stages: list[tuple[str, datetime.datetime]] = [(Status.CONTACTED, first_contact)]
        stages.append((Status.WORKING, times[1] if len(times) > 1 else first_contact + HOUR))
        if won or rng.random() < 0.4:
            stages.append((Status.OPPORTUNITY, first_contact + (closed - first_contact) * 0.6))
        stages.append((Status.WON if won else Status.LOST, closed))

        kept = [t for t in times if t <= until]
        for i, at in enumerate(kept):
            self._touch(plan, rep, at, cold=cold, first=i == 0)
        lead.touch_count = len(kept)
        if kept:
            lead.first_contact_at = first_contact
            due = lead.sla_due_at
            lead.sla_due_at = None
            first_touch = plan.touches[-len(kept)]
            entry = history.first_contact(
                at=first_contact,
                kind=first_touch.kind,
                kind_label=first_touch.get_kind_display(),
                outcome_label=first_touch.get_outcome_display(),
                sla_due_at=due.isoformat() if due else None,
                within_sla=None if due is None else first_contact <= due,
            )
            plan.note(entry, first_contact, rep.id)
        previous = lead.status
        for status, at in stages:
            if at > until:
                break
            note = ""
            if status == Status.LOST:
                lead.lost_reason = rng.choice(LOST_REASONS)
                note = lead.lost_reason
            if status in (Status.OPPORTUNITY, Status.WON):
                lead.deal_value = value
            plan.note(history.status_changed(old=previous, new=status, note=note), at, rep.id)
            previous = status
            lead.status = status
            if status in (Status.WON, Status.LOST):
                lead.closed_at = at
        activity = kept + [at for _, at in plan.events]
        lead.last_activity_at = max(activity) if activity else lead.created_at

    def _breach(self, plan: Plan, rep: User) -> None:
        lead = plan.lead
        due = lead.assigned_at + SLA_HOURS * HOUR
        warn = due - 4 * HOUR
        plan.sla.append({"kind": SlaEvent.Kind.WARNING, "rep": rep, "due_at": due, "created_at": warn})
        plan.sla.append({"kind": SlaEvent.Kind.BREACH, "rep": rep, "due_at": due, "created_at": due})
        plan.note(history.sla_warning(due=due), warn)
        plan.note(history.sla_breached(due=due), due)

    # -- the three populations
    def nurture_lead(self) -> Plan:
        rng = self.rng
        created = self.start + self._days(0, HISTORY_DAYS - 0.1)
        lead = self._marketing_lead(created=created, qualified=rng.random() < 0.35, personal_email=rng.random() < 0.15)
        plan = Plan(lead)
        mix = {
            EventKind.CONTENT_DOWNLOAD: rng.choice([0, 0, 1, 1, 2]),
            EventKind.WEBINAR_ATTENDED: rng.choice([0, 0, 0, 1]),
            EventKind.PRICING_PAGE_VIEW: rng.choice([0, 0, 0, 1]),
            EventKind.FORM_SUBMISSION: rng.choice([0, 0, 1]),
            EventKind.DEMO_REQUEST: 1 if rng.random() < 0.03 else 0,
        }
        self._events(plan, since=created, until=self.anchor, mix=mix, extra=rng.randint(1, 11))
        plan.note(history.created(note=f"From {lead.source}", source=lead.source), created)
        lead.last_activity_at = plan.events[-1][1] if plan.events else created
        result = _score(lead, plan.events, self.definition, self.anchor)
        if result.qualifies:
            # It would have been promoted already: keep it in the pool with a personal address.
            local = lead.email.split("@")[0]
            lead.email = f"{local}.{lead.external_id}@gmail.com"
            result = _score(lead, plan.events, self.definition, self.anchor)
        if rng.random() < 0.85:  # the rest arrived since the last rescore
            _apply_score(plan, result, self.definition, self.anchor)
        return plan

    def qualified_lead(self, *, live_due: datetime.timedelta | None = None, queued: str | None = None) -> Plan:
        """A marketing lead that met the definition, was promoted and (usually) routed."""
        rng = self.rng
        live = live_due is not None or queued is not None
        if live:
            promoted = self.now - (SLA_HOURS * HOUR - live_due) if live_due is not None else self.now
            promoted -= datetime.timedelta(minutes=rng.randint(3, 40))
        else:
            promoted = self.anchor - self._days(0.05, HISTORY_DAYS - 8)
        created = max(self.start, promoted - self._days(3, 40))
        lead = self._marketing_lead(created=created, qualified=True, prefix=LIVE_PREFIX if live else DEMO_PREFIX)
        if live:
            if live_due is not None or queued == EAST:
                lead.country = "US"  # rep1 and East's queue: routed to East by rule
            elif queued == WEST:
                lead.country = "GB"
        plan = Plan(lead)
        # The behaviour that qualified it, ending with the event that tipped it over.
        if rng.random() < 0.65:
            mix, trigger = {EventKind.PRICING_PAGE_VIEW: rng.randint(0, 3)}, EventKind.DEMO_REQUEST
        else:
            mix = {EventKind.PRICING_PAGE_VIEW: rng.randint(1, 3), EventKind.CONTENT_DOWNLOAD: rng.randint(1, 3)}
            trigger = EventKind.WEBINAR_ATTENDED
        mix[EventKind.CONTENT_DOWNLOAD] = mix.get(EventKind.CONTENT_DOWNLOAD, 0) + rng.randint(0, 2)
        self._events(
            plan, since=max(created, promoted - 25 * DAY), until=promoted - HOUR, mix=mix, extra=rng.randint(5, 16)
        )
        plan.events.append((trigger, promoted - datetime.timedelta(minutes=rng.randint(1, 50))))
        result = _score(lead, plan.events, self.definition, promoted)
        if not result.qualifies:
            # A lead without the VP/Director title: one more demo request tips it over.
            plan.events.append((EventKind.DEMO_REQUEST, promoted - 2 * MINUTE))
            result = _score(lead, plan.events, self.definition, promoted)
        _apply_score(plan, result, self.definition, promoted)
        lead.promoted_at = promoted
        lead.promoted_version = result.version
        lead.promotion_explanation = result.explanation()
        plan.note(history.created(note=f"From {lead.source}", source=lead.source), created)
        entry = history.promoted(
            version=result.version,
            score=result.total,
            threshold=result.threshold,
            explanation=lead.promotion_explanation,
        )
        plan.note(entry, promoted)
        team_name = EAST if lead.country in EAST_COUNTRIES else WEST
        lead.team = self.cast.teams[team_name]
        lead.status = Status.QUEUED
        lead.last_activity_at = plan.events[-1][1]
        if queued is not None:
            return plan  # waiting in the team's unassigned queue for the router

        if live_due is not None:
            rep, person = self.cast.users["rep1"], None
            assigned = self.now - (SLA_HOURS * HOUR - live_due)
        else:
            rep, person = self._pick_rep(team_name, promoted)
            assigned = promoted + datetime.timedelta(minutes=rng.randint(1, 30))
            if rng.random() < 0.1:  # promoted out of hours: waited in the team queue overnight
                assigned += datetime.timedelta(hours=rng.uniform(4, 14))
        lead.owner, lead.team, lead.assigned_at = rep, self.cast.teams[team_name], assigned
        lead.status = Status.ASSIGNED
        lead.sla_due_at = assigned + SLA_HOURS * HOUR
        entry = history.assigned(
            owner=rep,
            note="Routed by rule" if team_name == EAST else "Routed to the fallback team",
            team_id=lead.team.id,
            sla_due_at=lead.sla_due_at.isoformat(),
        )
        plan.note(entry, assigned)
        if live_due is not None:
            return plan  # rep1's live queue: assigned, not contacted yet

        skipper = person.skips
        roll = rng.random()
        if person.model and roll < 0.13:
            roll = 0.5  # the showcase rep neither skips nor calls late
        if skipper and roll < 0.22 or (not skipper and roll < 0.01):
            # Never contacted: the clock ran out long ago and nobody called.
            if lead.sla_due_at <= self.anchor:
                self._breach(plan, rep)
            return plan
        if skipper and roll < 0.36 or (not skipper and roll < 0.045):
            self._reject(plan, rep)
            return plan
        late = (skipper and roll < 0.66) or (not skipper and roll < 0.13)
        if late:
            delay = datetime.timedelta(hours=rng.uniform(SLA_HOURS + 1, SLA_HOURS * (8 if skipper else 3)))
        else:
            delay = datetime.timedelta(hours=rng.choice([rng.uniform(0.1, 3), rng.uniform(0.5, 20)]))
        first_contact = assigned + delay
        if lead.sla_due_at <= self.anchor and (late or first_contact > self.anchor):
            self._breach(plan, rep)
        won = rng.random() < (0.14 if late else 0.34)
        touches = rng.choice([3, 4, 4, 5, 5, 5, 6, 6, 7, 8]) if won else rng.randint(2, 8)
        cycle = rng.uniform(14, 38) if won else rng.uniform(6, 32)
        if first_contact > self.anchor:
            return plan  # not contacted yet
        self._work(
            plan,
            rep,
            first_contact=first_contact,
            touches=touches,
            cycle_days=cycle,
            won=won,
            cold=False,
            until=self.anchor,
        )
        return plan

    def _reject(self, plan: Plan, rep: User) -> None:
        rng, lead = self.rng, plan.lead
        at = lead.assigned_at + datetime.timedelta(hours=rng.uniform(0.5, 96))
        if at > self.anchor:
            return
        reason = rng.choices(
            [RejectReason.NOT_A_FIT, RejectReason.TOO_EARLY, RejectReason.NO_BUDGET, RejectReason.BAD_DATA],
            weights=[40, 30, 20, 10],
        )[0]
        note = rng.choice(["", "Not a buyer, just researching.", "Student project.", "Wrong contact, no budget."])
        entry = history.rejected(
            old=lead.status,
            note=note,
            reason=reason,
            version=lead.promoted_version,
            owner_id=rep.id,
            team_id=lead.team.id,
            assigned_at=lead.assigned_at.isoformat(),
            first_contact_at=None,
        )
        plan.note(entry, at, rep.id)
        lead.status = Status.NURTURE
        lead.owner = lead.team = lead.sla_due_at = lead.assigned_at = None
        lead.rejected_at, lead.rejected_by, lead.reject_reason, lead.reject_note = at, rep, reason, note
        lead.rejected_version = lead.promoted_version
        lead.recycled_count = 1
        lead.last_activity_at = at
        # Back in the pool it is scored like any pool lead; it qualifies again only after new activity.
        _apply_score(plan, _score(lead, plan.events, self.definition, self.anchor), self.definition, self.anchor)

    def rep_sourced_lead(self, reps: list[tuple[User, Person]]) -> Plan:
        rng = self.rng
        rep, person = rng.choices(reps, weights=[p.prospecting for _, p in reps])[0]
        created = self._daytime(self.start + self._days(0, HISTORY_DAYS - 1))
        if created > self.anchor:
            created -= DAY
        fields = self._person(qualified=rng.random() < 0.3)
        channel = rng.choices(
            [RepSourceChannel.COLD_CALL, RepSourceChannel.SOCIAL, RepSourceChannel.REFERRAL, RepSourceChannel.EVENT],
            weights=[70, 12, 10, 8],
        )[0]
        team = self.cast.teams[person.team]
        lead = Lead(
            external_id=self._external_id(),
            origin=Origin.REP_SOURCED,
            rep_source_channel=channel,
            source="rep_sourced",
            created_at=created,
            assigned_at=created,
            status=Status.ASSIGNED,
            owner=rep,
            team=team,
            **fields,
        )
        plan = Plan(lead)
        label = RepSourceChannel(channel).label.lower()
        plan.note(
            history.created(note=f"Rep-sourced ({label})", origin=Origin.REP_SOURCED, channel=channel), created, rep.id
        )
        plan.note(history.assigned(owner=rep, team_id=team.id, sla=False), created, rep.id)
        won = rng.random() < 0.13
        touches = rng.randint(18, 33) if won else rng.randint(14, 36)
        cycle = rng.uniform(55, 125) if won else rng.uniform(25, 110)
        self._work(
            plan, rep, first_contact=created, touches=touches, cycle_days=cycle, won=won, cold=True, until=self.anchor
        )
        return plan

    def build(self, *, total: int) -> list[Plan]:
        live_dues = [-2 * HOUR, 45 * MINUTE, 3 * HOUR, 7 * HOUR, 20 * HOUR]  # one overdue, four due soon
        queued = [EAST, EAST, WEST, WEST]
        pool = round(total * 0.49)
        rep_sourced = round(total * 0.2)
        qualified = total - pool - rep_sourced - len(live_dues) - len(queued)
        all_reps = self.cast.reps_by_team[EAST] + self.cast.reps_by_team[WEST]
        plans = [self.nurture_lead() for _ in range(pool)]
        plans += [self.qualified_lead() for _ in range(qualified)]
        plans += [self.rep_sourced_lead(all_reps) for _ in range(rep_sourced)]
        plans += [self.qualified_lead(live_due=due) for due in live_dues]
        plans += [self.qualified_lead(queued=team) for team in queued]
        return plans


# --- Writing -------------------------------------------------------------------------


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _write(plans: list[Plan], *, definition: Definition, log: Callable[[str], None]) -> dict:
    leads = [p.lead for p in plans]
    for chunk in _chunks(leads):
        Lead.objects.bulk_create(chunk, batch_size=CHUNK)
    if any(lead.pk is None for lead in leads):  # a backend without RETURNING on bulk inserts
        ids = dict(Lead.objects.filter(external_id__startswith=DEMO_PREFIX).values_list("external_id", "id"))
        for lead in leads:
            lead.pk = ids[lead.external_id]
    log(f"  {len(leads)} leads")

    legend_ensure(definition)  # every demo score is against the one active definition
    scores = []
    for p in plans:
        if p.score is not None:
            p.score.lead_id = p.lead.pk
            scores.append(p.score)
    for chunk in _chunks(scores):
        LeadScore.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(scores)} scores")

    events = [
        EngagementEvent(lead_id=p.lead.pk, kind=kind, occurred_at=at, properties={})
        for p in plans
        for kind, at in p.events
    ]
    for chunk in _chunks(events):
        EngagementEvent.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(events)} engagement events")

    touches = []
    for p in plans:
        for touch in p.touches:
            touch.lead_id = p.lead.pk
            touches.append(touch)
    for chunk in _chunks(touches):
        Touch.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(touches)} touches")

    rows = [entry.row(lead_id=p.lead.pk, at=at, actor_id=actor_id) for p in plans for entry, at, actor_id in p.history]
    for chunk in _chunks(rows):
        LeadHistory.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(rows)} history rows")

    sla = [
        SlaEvent(lead_id=p.lead.pk, assigned_at=p.lead.assigned_at or p.history[0][1], **s)
        for p in plans
        for s in p.sla
    ]
    SlaEvent.objects.bulk_create(sla, batch_size=CHUNK)
    return {
        "leads": len(leads),
        "scores": len(scores),
        "events": len(events),
        "touches": len(touches),
        "history": len(rows),
        "sla_events": len(sla),
        "statuses": dict(Counter(lead.status for lead in leads)),
    }


def _rep_profiles_touch(plans: list[Plan]) -> None:
    """Each rep's round-robin position: the last time a lead was routed to them."""
    last: dict[int, datetime.datetime] = {}
    for p in plans:
        if p.lead.owner_id and p.lead.assigned_at and p.lead.origin == Origin.MARKETING:
            last[p.lead.owner_id] = max(last.get(p.lead.owner_id, p.lead.assigned_at), p.lead.assigned_at)
    for profile in RepProfile.objects.filter(user_id__in=last):
        profile.last_assigned_at = last[profile.user_id]
        profile.save(update_fields=["last_assigned_at"])
