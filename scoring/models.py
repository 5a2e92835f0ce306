from django.conf import settings
from django.db import models
from django.db.models import Q

from leadhandoff.jobs import Job


class DefinitionVersion(models.Model):
    """One version of the qualified-lead definition.

    draft -> proposed -> active -> retired. A proposed version becomes active only
    when a Marketing user and a Sales user (two different people) approved it
    (scoring.services.definition_approve). Exactly one version is active.
    """

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=150, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    # JSON list of rules; schema and validation in scoring.rules.
    rules = models.JSONField(default=list, blank=True)
    threshold = models.IntegerField(default=50)
    # Optimistic lock: every save bumps it; a save against an older revision is a conflict.
    revision = models.PositiveIntegerField(default=1)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    proposed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # How rescoring with this version went (scoring.scoring): when a whole-pool
    # rescore with it last finished, and when rescoring with it last failed and why
    # (cleared when a whole-pool rescore finishes). While the active version's
    # rescoring fails it stays active, and new leads are scored with the last
    # version that worked (scoring.scoring.fallback_version).
    scoring_ok_at = models.DateTimeField(null=True, blank=True)
    scoring_failed_at = models.DateTimeField(null=True, blank=True)
    scoring_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            # Exactly one active version: activation (scoring.services) relies on it.
            models.UniqueConstraint(fields=["state"], condition=Q(state="active"), name="one_active_definition"),
        ]

    def __str__(self) -> str:
        return f"v{self.number}" + (f" {self.title}" if self.title else "")


class Approval(models.Model):
    class Side(models.TextChoices):
        MARKETING = "marketing", "Marketing"
        SALES = "sales", "Sales"

    version = models.ForeignKey(DefinitionVersion, on_delete=models.CASCADE, related_name="approvals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=16, choices=Side.choices)
    # The revision approved; an edit after it withdraws the approval.
    revision = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "user"], condition=Q(withdrawn_at__isnull=True), name="one_live_approval_per_user"
            )
        ]


class Comment(models.Model):
    """The discussion thread of a version; state changes and edits are entries too (kind "event")."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        EVENT = "event", "Event"

    version = models.ForeignKey(DefinitionVersion, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMMENT)
    # For events: {"event": "edited", "from_revision": 3, "to_revision": 4, "before": {...}, "changes": [...]}.
    # The "before" snapshots let a refused save show what the other person changed (scoring.services).
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at"]


class Preview(Job):
    """What a proposed version would do, against the active one; a job (scoring.preview)."""

    task_name = "scoring.tasks.definition_preview_build"
    lock_namespace = 0x5C1

    version = models.ForeignKey(DefinitionVersion, on_delete=models.CASCADE, related_name="previews")
    revision = models.PositiveIntegerField()
    data = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]


class PoolRescore(Job):
    """One whole-pool rescore (after an activation, or beat's decay run), with its progress.

    A job (scoring.scoring.pool_rescore_tracked) whose progress is written as its
    chunks commit, so the definition page can show how far a million-lead rescore
    has come. started_at is set when the row is made (the history's clock) and
    again when a run claims it.
    """

    task_name = "scoring.tasks.rescore_pool"
    lock_namespace = 0x5C2

    version = models.PositiveIntegerField(null=True, blank=True)  # set once the run knows which is active
    changed = models.PositiveIntegerField(default=0)
    promoted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["-started_at"], name="poolrescore_started_idx")]

    def __str__(self) -> str:
        return f"Pool rescore {self.pk} ({self.state}, {self.progress}%)"

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at and self.started_at else None
