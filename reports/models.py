from django.conf import settings
from django.db import models

from leadhandoff.jobs import Job


class ComparisonReport(Job):
    """A built cherry-pick comparison: marketing-qualified against rep-sourced leads.

    A job of the shared model (leadhandoff.jobs); the figures are kept as JSON so
    a report reads the same tomorrow as the day it was built. No builder task
    exists yet: until it does (task_name empty) beat's recovery leaves these rows alone.
    """

    lock_namespace = 0x7E9

    period_start = models.DateField()
    period_end = models.DateField()
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE)
    data = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
