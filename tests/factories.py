import datetime

import factory
from django.utils import timezone

from accounts.business_time import calendar_around_the_clock
from accounts.models import FirstContactPolicy, RepProfile, Role, Team, User
from accounts.services import user_set_role
from leads.clock.services import clock_terms
from leads.models import (
    EngagementEvent,
    EventKind,
    FirstContactClock,
    Lead,
    LeadScore,
    ScoreLegend,
    Status,
    Touch,
    TouchKind,
)
from scoring.models import DefinitionVersion


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.MARKETING
    password = factory.PostGenerationMethodCall("set_password", "leadhandoff")

    @factory.post_generation
    def role_group(self, create, extracted, **kwargs):
        if create:
            self.save()  # keep the hashed password set above
            user_set_role(user=self, role=self.role)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class RepProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepProfile

    user = factory.SubFactory(UserFactory, role=Role.REP)
    team = factory.SubFactory(TeamFactory)


def make_rep(*, team: Team, **kwargs) -> User:
    profile_fields = {k: kwargs.pop(k) for k in list(kwargs) if k in {f.name for f in RepProfile._meta.fields}}
    user = UserFactory(role=Role.REP, **kwargs)
    RepProfileFactory(user=user, team=team, **profile_fields)
    return user


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead
        skip_postgeneration_save = True  # the score hook writes a LeadScore row, not the lead

    email = factory.Sequence(lambda n: f"lead{n}@acme{n}.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    industry = "Software"
    country = "US"
    source = "webinar"
    created_at = factory.LazyFunction(timezone.now)
    status = Status.NURTURE

    @factory.post_generation
    def score(self, create, extracted, **kwargs):
        """LeadFactory(score=72) scores the lead (a LeadScore row); None or absent leaves it unscored.

        Details go as score__fit, score__behaviour, score__passes_gates, score__version,
        score__scored_at or score__explanation (see lead_score_set).
        """
        if create and extracted is not None:
            lead_score_set(self, extracted, **kwargs)


class ScoreLegendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoreLegend
        django_get_or_create = ("version",)

    version = 1
    threshold = 60
    gates = factory.LazyFunction(list)
    rules = factory.LazyFunction(list)


class ActiveDefinitionFactory(factory.django.DjangoModelFactory):
    """A definition version already in force, for tests about what it does (sign-off is tested on its own)."""

    class Meta:
        model = DefinitionVersion

    number = 1
    state = DefinitionVersion.State.ACTIVE
    rules = factory.LazyFunction(list)
    threshold = 60
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("created_at")
    activated_at = factory.SelfAttribute("created_at")


class LeadScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadScore

    lead = factory.SubFactory(LeadFactory)
    legend = factory.SubFactory(ScoreLegendFactory)
    total = 50
    fit = factory.LazyAttribute(lambda s: s.total - s.behaviour)
    behaviour = 0
    passes_gates = True
    rule_points = factory.LazyAttribute(lambda s: [None] * len(s.legend.rules))
    gates_passed = factory.LazyAttribute(lambda s: [True] * len(s.legend.gates))
    scored_at = factory.LazyFunction(timezone.now)


def lead_score_set(
    lead: Lead,
    total: int,
    *,
    fit: int | None = None,
    behaviour: int = 0,
    passes_gates: bool = True,
    version: int = 1,
    scored_at: datetime.datetime | None = None,
    explanation: dict | None = None,
) -> LeadScore:
    """Score `lead` as scoring would: its LeadScore row, against the legend of `version`.

    With `explanation` (ScoreResult.explanation's shape) the legend of its version is
    written from its gates and rules, so lead.score_explanation renders them back;
    total, fit and behaviour default to the explanation's.
    """
    if explanation:
        version = explanation.get("version", version)
        total = explanation.get("total", total)
        behaviour = explanation.get("behaviour", behaviour)
        fit = explanation.get("fit", fit)
        passes_gates = explanation.get("passes_gates", passes_gates)
        gates = explanation.get("gates", [])
        rules = explanation.get("rules", [])
        legend, _ = ScoreLegend.objects.update_or_create(
            version=version,
            defaults={
                "threshold": explanation.get("threshold", 60),
                "gates": [{"id": g["id"], "label": g["label"]} for g in gates],
                "rules": [{"id": r["id"], "label": r["label"], "type": r.get("type", "fit")} for r in rules],
            },
        )
        rule_points = [r["points"] for r in rules]
        gates_passed = [g["passed"] for g in gates]
    else:
        legend = ScoreLegendFactory(version=version)
        rule_points = [None] * len(legend.rules)
        gates_passed = [passes_gates] * len(legend.gates)
    card = LeadScore.objects.create(
        lead=lead,
        legend=legend,
        total=total,
        fit=total - behaviour if fit is None else fit,
        behaviour=behaviour,
        passes_gates=passes_gates,
        rule_points=rule_points,
        gates_passed=gates_passed,
        scored_at=scored_at or timezone.now(),
    )
    return card


class EngagementEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngagementEvent

    lead = factory.SubFactory(LeadFactory)
    kind = EventKind.PAGE_VIEW
    occurred_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))


class TouchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touch

    lead = factory.SubFactory(LeadFactory)
    kind = TouchKind.CALL
    occurred_at = factory.LazyFunction(timezone.now)


# --- Routing -------------------------------------------------
from leads.models import AssignmentRule  # noqa: E402


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    position = factory.Sequence(lambda n: n)
    team = factory.SubFactory(TeamFactory)
    conditions = factory.LazyFunction(dict)
    strategy = AssignmentRule.Strategy.ROUND_ROBIN


# --- The sales queue ---------------------------------------------
def make_queue_lead(*, rep: User, at: datetime.datetime | None = None, sla_hours: int | None = 24, **kwargs) -> Lead:
    """A marketing lead promoted and assigned to `rep` at `at`, its first-contact clock running."""
    at = at or timezone.now()
    profile = RepProfile.objects.filter(user=rep).select_related("team").first()
    defaults = {
        "status": Status.ASSIGNED,
        "owner": rep,
        "team": profile.team if profile else None,
        "promoted_at": at,
        "assigned_at": at,
        "sla_due_at": at + datetime.timedelta(hours=sla_hours) if sla_hours is not None else None,
        "last_activity_at": at,
        "created_at": at - datetime.timedelta(days=3),
        "score": 72,
        "promoted_version": 1,
    }
    defaults.update(kwargs)
    lead = LeadFactory(**defaults)
    if lead.sla_due_at is not None and lead.owner_id and lead.first_contact_at is None:
        make_clock(lead=lead, started_at=lead.assigned_at or at, due_at=lead.sla_due_at)
    return lead


def make_clock(*, lead: Lead, started_at: datetime.datetime, due_at: datetime.datetime, **policy) -> FirstContactClock:
    """The lead's running first-contact clock, as routing would have started it (around the clock by default)."""
    minutes = max(1, int((due_at - started_at).total_seconds() // 60))
    terms = clock_terms(
        policy=FirstContactPolicy(**{"window_minutes": minutes, "warn_at_percent": [50, 90], **policy}),
        calendar=calendar_around_the_clock(),
        start=started_at,
    )
    terms["due_at"] = due_at
    clock = FirstContactClock(lead=lead, rep_id=lead.owner_id, team_id=lead.team_id, **terms)
    clock.next_action, clock.next_action_at = clock.next_step()
    clock.save()
    return clock
