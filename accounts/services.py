import secrets

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .authentication import key_hash, token_expires_at
from .models import ROLE_GROUPS, IntegrationKey, RepProfile, Role, Team, User


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
    timezone: str = "UTC",
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
        timezone=timezone,
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


def user_api_tokens_revoke(*, user: User) -> None:
    """End the user's API token: called where a password changes or a user is deactivated."""
    Token.objects.filter(user=user).delete()


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """A new password also ends every API token issued under the old one."""
    user.set_password(password)
    user.save(update_fields=["password"])
    user_api_tokens_revoke(user=user)
    return user


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_api_tokens_revoke(user=user)
    return user


def api_token_issue(*, user: User) -> Token:
    """The user's API token, replaced by a fresh one once it has expired or the password changed."""
    token, created = Token.objects.get_or_create(user=user)
    stale = user.password_changed_at is not None and token.created < user.password_changed_at
    if not created and (stale or timezone.now() >= token_expires_at(token.created)):
        token.delete()
        token = Token.objects.create(user=user)
    return token


@transaction.atomic
def integration_key_create(*, name: str, user: User, scopes: list[str]) -> tuple[IntegrationKey, str]:
    """A new key and its secret; the secret is returned once and never stored."""
    unknown = set(scopes) - set(IntegrationKey.Scope.values)
    if unknown:
        raise ValueError(f"Unknown scopes: {', '.join(sorted(unknown))}")
    raw = f"lh_{secrets.token_urlsafe(32)}"
    key = IntegrationKey.objects.create(
        name=name, user=user, prefix=raw[:10], key_hash=key_hash(raw), scopes=sorted(set(scopes))
    )
    return key, raw


def integration_key_revoke(*, key: IntegrationKey) -> IntegrationKey:
    # Compare-and-set: revoking twice keeps the first revocation's time.
    IntegrationKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key
