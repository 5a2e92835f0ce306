"""The cast: the demo logins, two teams of reps with their working hours, and who manages each team."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password

from accounts.models import RepProfile, Role, Team, User
from accounts.services import user_create, user_set_role
from demo.seed.constants import DEMO_PASSWORD

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


@dataclass
class Cast:
    users: dict[str, User]
    teams: dict[str, Team]
    reps_by_team: dict[str, list[tuple[User, Person]]]


def _user_ensure(person: Person, *, team: Team | None, password_hash: str) -> User:
    profile = {}
    if person.role == Role.REP:
        start, end = person.work_start.strftime("%H:%M"), person.work_end.strftime("%H:%M")
        profile = {
            "working_hours": [{"day": day, "start": start, "end": end} for day in range(5)],
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
            timezone=person.timezone,
            **profile,
        )
    else:
        user_set_role(user=user, role=person.role)
        User.objects.filter(pk=user.pk).update(timezone=person.timezone)
        if person.role == Role.REP:
            RepProfile.objects.update_or_create(user=user, defaults={"team": team, **profile})
    # One hash for every demo login: hashing is deliberately slow (PBKDF2).
    user.password = password_hash
    user.is_active = True
    user.is_superuser = person.role == Role.ADMIN
    user.is_staff = person.role == Role.ADMIN
    user.save(update_fields=["password", "is_active", "is_superuser", "is_staff"])
    return user


def cast_ensure() -> Cast:
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
