"""The role groups and the model permissions each one carries.

Run after every migrate (see AccountsConfig.ready) so new models' permissions
reach the right groups without a hand step.
"""

from django.contrib.auth.models import Group, Permission

from .models import ROLE_GROUPS, Role

ADMIN_APPS = ("accounts", "leads", "scoring", "sla", "reports", "authtoken", "django_celery_beat")

# app_label -> actions, per role. The admin site reads these; pages and APIs
# check the role itself (accounts.access).
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.MARKETING: {
        "leads": ("view", "add", "change"),
        "scoring": ("view", "add", "change"),
        "reports": ("view",),
    },
    Role.REP: {"scoring": ("view", "add")},
    Role.MANAGER: {"scoring": ("view", "add"), "sla": ("view",), "reports": ("view", "add")},
    Role.ADMIN: dict.fromkeys(
        ("accounts", "leads", "scoring", "sla", "reports", "authtoken", "django_celery_beat"),
        ("view", "add", "change", "delete"),
    ),
}


def roles_ensure(**_kwargs) -> None:
    for role, group_name in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = Permission.objects.none()
        for app_label, actions in ROLE_PERMISSIONS[role].items():
            for action in actions:
                wanted = wanted | Permission.objects.filter(
                    content_type__app_label=app_label, codename__startswith=f"{action}_"
                )
        group.permissions.set(wanted.distinct())
