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
