"""Reads of notifications: only the user's own, and only those they chose to see in the app."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from sla.models import Channel, EventKind, Notification, NotificationPreference

# Email-only and digest notifications are not shown in the app: the user chose the inbox.
IN_APP_CHANNELS = (Channel.IN_APP, Channel.BOTH)


def notifications_for_user(*, user: User) -> QuerySet[Notification]:
    """The user's in-app notifications, newest first (index notification_recipient_idx)."""
    return (
        Notification.objects.filter(recipient=user, channel__in=IN_APP_CHANNELS)
        .select_related("lead")
        .only(
            "kind",
            "message",
            "channel",
            "created_at",
            "read_at",
            "lead_id",
            "lead__first_name",
            "lead__last_name",
            "lead__email",
            "lead__external_id",
            "lead__company",
        )
        .order_by("-created_at", "-id")
    )


def unread_count(*, user: User) -> int:
    """The bell's number (partial index notification_unread_idx)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True, channel__in=IN_APP_CHANNELS).count()


def notification_get_for_user(*, user: User, notification_id: int) -> Notification:
    """One of the user's own notifications; anyone else's is a 404, never a 403 (no probing)."""
    return get_object_or_404(Notification, pk=notification_id, recipient=user)


def preferences_for_user(*, user: User) -> dict[str, str]:
    """Every kind's channel for the user: their choice, or in the app."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channel"))
    return {kind: chosen.get(kind, Channel.IN_APP) for kind in EventKind.values}
