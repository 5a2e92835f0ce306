"""Every message the app sends, written in the transaction that decided to send it.

Delivery (outbox.services.outbox_deliver) runs after commit and again every
minute for retries, so a crash between the decision and the send loses nothing
and a rollback sends nothing. Each message carries a stable id (`key`, also its
Message-ID) so a receiver can drop a repeat: delivery is at least once.
Email today; webhooks reuse it with another `channel`.
"""

from django.db import models
from django.db.models import Q


class Message(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    # Unique per message: who writes one twice gets the first (ON CONFLICT DO NOTHING).
    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    # Empty until sent; the delivery claims due rows with SKIP LOCKED.
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    # Given up after too many attempts; kept for the admin to see and retry.
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_idx",
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}: {self.subject}"

    @property
    def message_id(self) -> str:
        """The same for every attempt: receivers drop a repeat by it."""
        return f"<{self.key}@leadhandoff>"
