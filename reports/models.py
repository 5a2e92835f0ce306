from django.conf import settings
from django.db import models


class ComparisonReport(models.Model):
    """A built cherry-pick comparison: marketing-qualified against rep-sourced leads.

    Built by a Celery job (progress in processed/total steps); the figures are kept
    as JSON so a report reads the same tomorrow as the day it was built.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    period_start = models.DateField()
    period_end = models.DateField()
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    data = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
