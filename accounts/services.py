from django.contrib.auth.models import Group
from django.db import transaction

from .models import ROLE_GROUPS, RepProfile, Role, Team, User


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
    is_active: bool = True,
    **profile: object,
) -> User:
    """Create a user in one role; a rep gets a profile on `team`."""
    if role == Role.REP and team is None:
        raise ValueError("A sales rep belongs to a team.")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        is_active=is_active,
        is_staff=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user_set_role(user=user, role=role)
    if role == Role.REP:
        RepProfile.objects.create(user=user, team=team, **profile)
    return user


@transaction.atomic
def user_set_role(*, user: User, role: str) -> User:
    """Keep the role field and the role's Django group in step."""
    user.role = role
    user.is_staff = role == Role.ADMIN or user.is_superuser
    user.save(update_fields=["role", "is_staff"])
    role_groups = Group.objects.filter(name__in=ROLE_GROUPS.values())
    user.groups.remove(*role_groups)
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[Role(role)]))
    return user
