import datetime
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    REP = "rep", "Sales rep"
    MANAGER = "manager", "Sales manager"
    ADMIN = "admin", "Admin"


# Django group each role maps to; the group carries the model permissions
# (used by the admin site), the role field gives views a query-free check.
ROLE_GROUPS = {
    Role.MARKETING: "Marketing",
    Role.REP: "Sales rep",
    Role.MANAGER: "Sales manager",
    Role.ADMIN: "Admin",
}


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_marketing(self) -> bool:
        return self.role == Role.MARKETING

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_sales(self) -> bool:
        """Reps and managers: the side that must never see the nurture pool."""
        return self.role in (Role.REP, Role.MANAGER)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams")
    # Catches leads no routing rule sends anywhere else (leads.routing.services).
    is_fallback = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_fallback"], condition=Q(is_fallback=True), name="one_fallback_team")
        ]

    def __str__(self) -> str:
        return self.name


def _weekdays_default() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday


class RepProfile(models.Model):
    """What routing and the SLA clock need to know about a rep."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="rep_profile")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reps")
    timezone = models.CharField(max_length=64, default="UTC")
    work_start = models.TimeField(default=datetime.time(9, 0))
    work_end = models.TimeField(default=datetime.time(17, 0))
    work_days = models.JSONField(default=_weekdays_default, help_text="ISO weekdays, Monday = 0")
    # Maximum open leads not yet contacted (leads.routing.services respects it).
    capacity = models.PositiveIntegerField(default=25)
    # Relative share in weighted round robin.
    routing_weight = models.PositiveSmallIntegerField(default=1)
    out_of_office = models.BooleanField(default=False)
    # A manager's pause: no new leads routed, existing ones stay.
    paused = models.BooleanField(default=False)
    # Position in the team's round robin (last time a lead was routed here).
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # Running credit of smooth weighted round robin (leads.routing.services): kept between
    # routing calls so a 3:1 weight holds across many small promotions, not just
    # within one batch.
    routing_credit = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["team", "last_assigned_at"], name="rep_round_robin_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(work_start__lt=models.F("work_end")), name="work_start_before_end"),
            models.CheckConstraint(condition=Q(routing_weight__gte=1), name="routing_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.team})"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def is_working_at(self, moment: datetime.datetime) -> bool:
        local = moment.astimezone(self.tz)
        return local.weekday() in self.work_days and self.work_start <= local.time() < self.work_end

    @property
    def available(self) -> bool:
        return self.user.is_active and not self.out_of_office and not self.paused


class IntegrationKey(models.Model):
    """An API key for a system (marketing automation, a webhook bridge), not a person.

    Unlike a user's token it does not expire; it is limited to its scopes and
    revoked by an admin. Only a SHA-256 of the key is stored: the key itself is
    shown once, when it is created (accounts.services.integration_key_create).
    A random 256-bit key needs no slow hash: there is nothing to guess.
    """

    class Scope(models.TextChoices):
        LEADS_WRITE = "leads:write", "Create and update leads"
        EVENTS_WRITE = "events:write", "Record engagement events"

    name = models.CharField(max_length=100)
    # The user the integration acts as: its role decides what the key may reach
    # (a marketing service account for lead and event intake).
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="integration_keys")
    prefix = models.CharField(max_length=12, help_text="First characters of the key, to recognise it.")
    # Looked up on every request by accounts.authentication.IntegrationKeyAuthentication.
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
