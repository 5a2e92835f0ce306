"""What the first-contact sweep did, and who was told.

The clock itself is leads.FirstContactClock (started and stopped with the
assignment and the touch); its policy is accounts.FirstContactPolicy. The sweep
(sla.services) turns due clocks into events here, once each, and each event into
notifications, once per recipient; email leaves through the outbox.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from leads.models import FirstContactClock, Lead


class EventKind(models.TextChoices):
    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"
    ESCALATION = "escalation", "Escalation"
    REASSIGNMENT = "reassignment", "Reassignment"


class ClockEvent(models.Model):
    """One thing the sweep did to a clock; the unique key makes a second sweep a no-op."""

    clock = models.ForeignKey(FirstContactClock, on_delete=models.CASCADE, related_name="events", db_index=False)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+", db_index=False)
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    # Which warning of the clock (1, 2, …); 1 for the others.
    seq = models.PositiveSmallIntegerField(default=1)
    # When it was due; `created_at` is when the sweep wrote it (the lag between them is measured).
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "SLA event"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["clock", "kind", "seq"], name="one_event_per_clock_kind_seq")]
        indexes = [
            models.Index(fields=["rep", "kind", "created_at"], name="clock_event_rep_idx"),
            models.Index(fields=["lead", "created_at"], name="clock_event_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on lead {self.lead_id}"


class Channel(models.TextChoices):
    IN_APP = "in_app", "In the app"
    EMAIL = "email", "Email"
    BOTH = "both", "In the app and by email"
    DIGEST = "digest", "Daily digest by email"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    event = models.ForeignKey(ClockEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=255)
    # How this recipient wanted it (their preference when it was created).
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.IN_APP)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when it went into a daily digest.
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient"],
                name="one_notification_per_event_recipient",
                condition=Q(event__isnull=False),
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            models.Index(
                fields=["recipient", "created_at"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
            models.Index(
                fields=["recipient", "created_at"],
                name="notification_digest_idx",
                condition=Q(channel="digest", digested_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.message


class NotificationPreference(models.Model):
    """How one user wants one kind of notification; without a row, in the app."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.IN_APP)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_user_kind")]


class SweepRun(models.Model):
    """One run of the sweep: `/healthz/jobs` pages when the last one finished too long ago."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["-finished_at"], name="sweep_run_finished_idx", condition=Q(finished_at__isnull=False))
        ]
