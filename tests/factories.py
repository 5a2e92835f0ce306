import datetime

import factory
from django.utils import timezone

from accounts.models import RepProfile, Role, Team, User
from accounts.services import user_set_role
from leads.models import EngagementEvent, EventKind, Lead, Status, Touch, TouchKind


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

    email = factory.Sequence(lambda n: f"lead{n}@acme{n}.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    industry = "Software"
    country = "US"
    source = "webinar"
    created_at = factory.LazyFunction(timezone.now)
    status = Status.NURTURE


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


# --- Routing (issue: routing) -------------------------------------------------
from leads.models import AssignmentRule  # noqa: E402


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    position = factory.Sequence(lambda n: n)
    team = factory.SubFactory(TeamFactory)
    conditions = factory.LazyFunction(dict)
    strategy = AssignmentRule.Strategy.ROUND_ROBIN


# --- The sales queue (issue: queue) ---------------------------------------------
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
    return LeadFactory(**defaults)
