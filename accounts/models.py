import datetime
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone


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


def timezone_names() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)
    # Every user's own: a rep's working hours are read in it, a digest is sent at 08:00 in it.
    timezone = models.CharField(max_length=64, default="UTC")
    # API tokens issued before it are refused (accounts.authentication).
    password_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def set_password(self, raw_password) -> None:
        # A change, not a first password: only then can tokens issued under the old one exist.
        changing = bool(self.password) and self.has_usable_password()
        super().set_password(raw_password)
        # Every way of changing a password passes here (pages, admin, `manage.py changepassword`).
        if changing:
            self.password_changed_at = django_timezone.now()

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

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams")
    # A regional office or territory the reports group by (e.g. "Central", "East", "West").
    region = models.CharField(max_length=100, blank=True)
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
    # Referenced by migration 0001 only (the field it was the default of is gone).
    return [0, 1, 2, 3, 4]


def _working_hours_default() -> list[dict]:
    return [{"day": day, "start": "09:00", "end": "17:00"} for day in range(5)]  # Monday to Friday


class RepProfile(models.Model):
    """What routing and the SLA clock need to know about a rep."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="rep_profile")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reps")
    # Windows of the week in the user's time zone, several a day allowed (a lunch break):
    # [{"day": 0-6 (Monday = 0), "start": "09:00", "end": "12:30"}, ...]
    # (accounts.business_time.working_hours_clean).
    working_hours = models.JSONField(default=_working_hours_default)
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
            models.CheckConstraint(condition=Q(routing_weight__gte=1), name="routing_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.team})"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return self.user.tz

    def is_working_at(self, moment: datetime.datetime) -> bool:
        local = moment.astimezone(self.tz)
        now = local.strftime("%H:%M")
        day = local.weekday()
        # "24:00" ends a window at midnight; it sorts after every "HH:MM" of the day.
        return any(w["day"] == day and w["start"] <= now < w["end"] for w in self.working_hours)

    @property
    def available(self) -> bool:
        return self.user.is_active and not self.out_of_office and not self.paused


class FirstContactPolicy(models.Model):
    """How long a rep has for first contact, counted how, and what happens when it lapses.

    One default (no team) and at most one per team. A clock copies what it needs
    when it starts (leads.FirstContactClock), so a change applies to clocks
    started after it.
    """

    class Calendar(models.TextChoices):
        ALWAYS = "always", "Around the clock"
        BUSINESS = "business", "Business time: the rep's working hours, holidays skipped"

    class StopOn(models.TextChoices):
        ATTEMPT = "attempt", "Any contact attempt"
        CONVERSATION = "conversation", "Only a conversation (connected, replied, meeting booked)"

    team = models.OneToOneField(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="first_contact_policy"
    )
    window_minutes = models.PositiveIntegerField(default=24 * 60)
    calendar = models.CharField(max_length=16, choices=Calendar.choices, default=Calendar.ALWAYS)
    # Public holidays from the `holidays` package (ISO country, optional subdivision).
    country = models.CharField(max_length=2, blank=True)
    subdivision = models.CharField(max_length=8, blank=True)
    stop_on = models.CharField(max_length=16, choices=StopOn.choices, default=StopOn.ATTEMPT)
    # Percent of the window elapsed at which the rep is warned, ascending, each below 100.
    warn_at_percent = models.JSONField(default=list)
    reassign_on_breach = models.BooleanField(default=False)
    max_reassignments = models.PositiveSmallIntegerField(default=2)
    # Still untouched this long after the breach (in the policy's time): manager and admins are told.
    escalate_after_minutes = models.PositiveIntegerField(null=True, blank=True, default=4 * 60)
    # "Free to cold-call": no breached lead open and compliance over the last N days at least X%.
    free_days = models.PositiveSmallIntegerField(default=30)
    free_min_compliance = models.PositiveSmallIntegerField(default=90)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "first-contact policies"
        constraints = [
            models.UniqueConstraint(fields=["team"], condition=Q(team__isnull=True), name="one_default_policy"),
            models.CheckConstraint(condition=Q(window_minutes__gte=1), name="policy_window_positive"),
            models.CheckConstraint(
                condition=Q(free_min_compliance__lte=100), name="policy_free_compliance_is_a_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"First contact within {self.window_minutes} min for {self.team or 'everyone'}"

    @property
    def is_business_time(self) -> bool:
        return self.calendar == self.Calendar.BUSINESS


class ClosedDate(models.Model):
    """A team's own day off (a company holiday, an offsite): no business time counts on it."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="closed_dates")
    date = models.DateField()
    label = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["team", "date"], name="one_closed_date_per_team_day")]

    def __str__(self) -> str:
        return f"{self.team}: {self.date} {self.label}".strip()


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
