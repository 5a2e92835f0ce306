"""SLA policies and the record of what the sweeps did.

The clock itself lives on the lead (leads.Lead.sla_due_at, set at assignment and
cleared at first contact); these tables say which policy applies and make the
warning / breach / escalation sweeps idempotent.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Team
from leads.models import Lead


class SlaPolicy(models.Model):
    """First-contact rules for a team; the row with no team is the default."""

    team = models.OneToOneField(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policy")
    first_contact_hours = models.PositiveIntegerField(default=24)
    # Count only the assigned rep's working hours (accounts.RepProfile) toward the deadline.
    business_hours_only = models.BooleanField(default=False)
    warn_before_minutes = models.PositiveIntegerField(default=240)
    escalate_after_minutes = models.PositiveIntegerField(default=240)

    class Meta:
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["team"], condition=Q(team__isnull=True), name="one_default_sla_policy"),
            models.UniqueConstraint(fields=["team"], condition=Q(team__isnull=False), name="one_sla_policy_per_team"),
        ]

    def __str__(self) -> str:
        return f"SLA {self.first_contact_hours}h for {self.team or 'everyone'}"


class SlaEvent(models.Model):
    class Kind(models.TextChoices):
        WARNING = "warning", "Warning"
        BREACH = "breach", "Breach"
        ESCALATION = "escalation", "Escalation"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="sla_events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="sla_events")
    # Identifies the clock: a reassignment starts a new one.
    assigned_at = models.DateTimeField()
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A sweep run twice, or on two workers, records each event once.
            models.UniqueConstraint(fields=["lead", "kind", "assigned_at"], name="one_sla_event_per_clock"),
        ]
        indexes = [models.Index(fields=["rep", "kind", "created_at"], name="sla_event_rep_idx")]


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            )
        ]
