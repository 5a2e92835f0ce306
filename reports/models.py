from django.conf import settings
from django.db import models

from leadhandoff.jobs import Job


class ComparisonReport(Job):
    """A built cherry-pick comparison: marketing-qualified against rep-sourced leads.

    A job of the shared model (leadhandoff.jobs); the figures are kept as JSON so
    a report reads the same tomorrow as the day it was built. Built by
    reports.tasks.comparison_report_build (reports.services.comparison_build);
    `params` are the reports.selectors.ComparisonParams it was built with.
    """

    task_name = "reports.tasks.comparison_report_build"
    lock_namespace = 0x7E9

    # The period (UTC days, inclusive); empty: all history. Copied from params for lists and admin.
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # Built by beat every night (True) or asked for by a person or API client.
    nightly = models.BooleanField(default=False)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE)
    data = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class Analysis(Job):
    """A built snapshot of one of the handoff analyses: the cherry-pick index per rep, credit to
    both sides, the cycle-length dashboard (reports.analyses). A job of the shared model, like ComparisonReport; `kind`
    names the analysis, `params` its period and team, `data` the figures as built."""

    class Kind(models.TextChoices):
        CHERRY_PICK = "cherry_pick", "Cherry-pick index"
        CREDIT = "credit", "Credit to both sides"
        CYCLE = "cycle", "Cycle length"

    task_name = "reports.tasks.analysis_build"
    lock_namespace = 0x7EA

    kind = models.CharField(max_length=16, choices=Kind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    params = models.JSONField(default=dict, blank=True)
    nightly = models.BooleanField(default=False)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The pages open on the newest done snapshot of a kind (and team).
        indexes = [models.Index(fields=["kind", "team", "-created_at"], name="analysis_kind_team_idx")]
