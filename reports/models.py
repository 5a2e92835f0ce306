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
