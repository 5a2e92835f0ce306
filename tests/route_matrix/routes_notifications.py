"""Notifications: every role has its own list, bell and preferences; a notification
is its recipient's alone (another user's is a 404)."""

from django.utils import timezone

from accounts.models import User
from sla.models import Notification, NotificationPreference

from . import Route

ANON = 302
API_ANON = 401
EVERYONE = dict.fromkeys(("marketer", "rep", "other_rep", "manager", "admin"))


def everyone(ok: int, *, anon: int = ANON) -> dict[str, int]:
    return {"anonymous": anon, **dict.fromkeys(EVERYONE, ok)}


def reps_notification(leads) -> dict:
    """An unread notification of cast.rep (the owner of leads.rep_owned)."""
    n = Notification.objects.create(
        recipient=leads.rep_owned.owner,
        kind="breach",
        lead=leads.rep_owned,
        message="You missed the first-contact deadline",
        created_at=timezone.now(),
    )
    return {"notification_id": n.pk}


def everyones_notification(leads) -> dict:
    """One unread notification for every user, so "all read" has something to do."""
    for user in User.objects.all():
        Notification.objects.create(recipient=user, kind="warning", message="Due soon", created_at=timezone.now())
    return {}


def read(leads, kwargs, user):
    assert Notification.objects.get(pk=kwargs["notification_id"]).read_at is not None


def all_read(leads, kwargs, user):
    assert user is not None
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()


def prefers(kind: str, channel: str):
    def effect(leads, kwargs, user):
        assert NotificationPreference.objects.filter(user=user, kind=kind, channel=channel).exists()

    return effect


ONLY_THE_RECIPIENT = {"anonymous": ANON, "marketer": 404, "rep": 302, "other_rep": 404, "manager": 404, "admin": 404}
PREFS = {"warning": "in_app", "breach": "both", "escalation": "email", "reassignment": "digest"}

ROUTES = [
    Route("notifications:list", everyone(200)),
    Route("notifications:bell", everyone(200)),
    Route("notifications:read", ONLY_THE_RECIPIENT, method="post", kwargs=reps_notification, effect=read),
    Route("notifications:read_all", everyone(302), method="post", kwargs=everyones_notification, effect=all_read),
    Route("notifications:preferences", everyone(200)),
    Route(
        "notifications:preferences",
        everyone(302),
        method="post",
        data=PREFS,
        effect=prefers("reassignment", "digest"),
    ),
    # API
    Route("api-notifications", everyone(200, anon=API_ANON), api=True),
    Route(
        "api-notification-read",
        {**ONLY_THE_RECIPIENT, "anonymous": API_ANON, "rep": 200},
        method="post",
        kwargs=reps_notification,
        api=True,
        effect=read,
    ),
    Route(
        "api-notifications-read-all",
        everyone(200, anon=API_ANON),
        method="post",
        kwargs=everyones_notification,
        api=True,
        effect=all_read,
    ),
    Route("api-notification-preferences", everyone(200, anon=API_ANON), api=True),
    Route(
        "api-notification-preferences",
        everyone(200, anon=API_ANON),
        method="put",
        data={"escalation": "digest"},
        api=True,
        effect=prefers("escalation", "digest"),
    ),
]
