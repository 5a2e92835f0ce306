from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import FirstContactPolicy, Team
from leadhandoff.jobs import Job


class Origin(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    REP_SOURCED = "rep_sourced", "Rep-sourced"


class RepSourceChannel(models.TextChoices):
    COLD_CALL = "cold_call", "Cold call"
    SOCIAL = "social", "Social"
    REFERRAL = "referral", "Referral"
    EVENT = "event", "Event"


class Status(models.TextChoices):
    NURTURE = "nurture", "Nurture"
    QUEUED = "queued", "Queued (unassigned)"
    ASSIGNED = "assigned", "Assigned"
    CONTACTED = "contacted", "Contacted"
    WORKING = "working", "Working"
    OPPORTUNITY = "opportunity", "Opportunity"
    WON = "won", "Won"
    LOST = "lost", "Lost"


# Statuses sales may see; everything else (the nurture pool) is invisible to them.
SALES_VISIBLE_STATUSES = [s for s in Status.values if s != Status.NURTURE]
OPEN_STATUSES = [Status.QUEUED, Status.ASSIGNED, Status.CONTACTED, Status.WORKING, Status.OPPORTUNITY]
CLOSED_STATUSES = [Status.WON, Status.LOST]


class RejectReason(models.TextChoices):
    NOT_A_FIT = "not_a_fit", "Not a fit"
    BAD_DATA = "bad_data", "Bad data"
    NO_BUDGET = "no_budget", "No budget"
    DUPLICATE = "duplicate", "Duplicate"
    TOO_EARLY = "too_early", "Too early"
    OTHER = "other", "Other"


# The lead's own data (identity, person, company, source), in display order.
# A lead's profile, in groups (the admin's fieldsets). Intake, the API, exports and
# the admin list these; the rest is workflow.
LEAD_IDENTITY_FIELDS: tuple[str, ...] = ("email", "external_id", "first_name", "last_name", "title", "phone")
LEAD_COMPANY_FIELDS: tuple[str, ...] = (
    "company",
    "industry",
    "company_size",
    "annual_revenue",
    "country",
    "region",
    "city",
    "website",
)
LEAD_SOURCE_FIELDS: tuple[str, ...] = ("source", "campaign", "origin")
LEAD_PROFILE_FIELDS: tuple[str, ...] = (*LEAD_IDENTITY_FIELDS, *LEAD_COMPANY_FIELDS, *LEAD_SOURCE_FIELDS)

# The lead's score as read-only properties of Lead (the data is in LeadScore,
# written by scoring only): shown by the admin, refused as input by intake.
LEAD_SCORE_PROPERTIES: tuple[str, ...] = (
    "score",
    "fit_score",
    "behaviour_score",
    "passes_gates",
    "scored_version",
    "scored_at",
    "score_explanation",
)


class Lead(models.Model):
    # Identity: email (case-insensitive) and/or an id from a source system.
    email = models.EmailField(max_length=254, null=True, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True)

    # Person
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=50, blank=True)

    # Company firmographics
    company = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    company_size = models.PositiveIntegerField(null=True, blank=True, help_text="Employees")
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    country = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    website = models.CharField(max_length=200, blank=True)

    # Where it came from
    source = models.CharField(max_length=100, blank=True)
    campaign = models.CharField(max_length=150, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MARKETING)
    rep_source_channel = models.CharField(max_length=16, choices=RepSourceChannel.choices, blank=True)
    # A rep-sourced prospect added while its rep was not free to cold-call (leads.clock.selectors):
    # allowed, and counted by the comparison reports.
    created_while_not_free = models.BooleanField(default=False, db_default=False)

    # Lifecycle
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NURTURE)
    # FK indexes that a composite index already leads with are left out (db_index=False):
    # every index on this table is paid for by each insert, import and event.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads", db_index=False
    )  # covered by lead_team_status_idx
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        db_index=False,  # covered by lead_owner_queue_idx
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Stored deadline for first contact: set at assignment, cleared at first contact.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    deal_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True)
    # Touches logged (or imported from history); kept for the comparison reports.
    # NULL means unknown: imported history whose file gave no touch count (leads.imports.writer).
    # Unknown stays unknown when touches are logged later (leads.queue.services.touch_log):
    # NULL + 1 is NULL, since the touches before the import were never counted.
    touch_count = models.PositiveIntegerField(default=0, null=True, blank=True)

    # The score itself lives in LeadScore (lead.scorecard), a narrow table of its own:
    # rescoring rewrites it wholesale, and this wide, much-indexed row is left alone.
    # Version number and explanation at promotion, frozen for the lead brief.
    promoted_version = models.PositiveIntegerField(null=True, blank=True)
    promotion_explanation = models.JSONField(default=dict, blank=True)

    # Sent back to marketing by a rep
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reject_reason = models.CharField(max_length=16, choices=RejectReason.choices, blank=True)
    reject_note = models.TextField(blank=True)
    rejected_version = models.PositiveIntegerField(null=True, blank=True)
    recycled_count = models.PositiveIntegerField(default=0)

    # Custom fields marketing declared (CustomField) and any other kept columns, by name.
    # Declared fields are validated on the way in (leads.fields.services.attributes_clean).
    attributes = models.JSONField(default=dict, blank=True)

    # Consent: set by imports and the API (leads.fields.services.consent_changes), each
    # change with a history row; a definition gate can require contactability, and a
    # touch of a refused kind needs an explicit override (leads.queue.services.touch_log).
    do_not_email = models.BooleanField(default=False, db_default=False)
    do_not_call = models.BooleanField(default=False, db_default=False)
    unsubscribed = models.BooleanField(default=False, db_default=False)
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=100, blank=True, default="", db_default="")
    # Set when data or activity changed; scoring.tasks.rescore_dirty_leads rescoring
    # picks these up in batches and clears the flag.
    needs_rescore = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Upserts by key (leads.intake.services) rely on these to make one lead, never two.
            models.UniqueConstraint(Lower("email"), name="lead_email_ci_unique", condition=Q(email__isnull=False)),
            models.UniqueConstraint(
                fields=["external_id"], name="lead_external_id_unique", condition=Q(external_id__isnull=False)
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(external_id__isnull=False), name="lead_has_a_key"
            ),
            models.CheckConstraint(
                condition=~Q(status="nurture") | Q(owner__isnull=True), name="nurture_lead_has_no_owner"
            ),
        ]
        indexes = [
            # The nurture pool page and the set-based rescoring scan by status.
            models.Index(fields=["status", "-created_at"], name="lead_status_created_idx"),
            # Indexes only sales reads are partial: a nurture lead (no owner, no team, no
            # outcome) gets no entry in them, so imports and pool activity do not pay for them.
            # My queue: a rep's open leads by first-contact deadline.
            models.Index(
                fields=["owner", "status", "sla_due_at"], name="lead_owner_queue_idx", condition=Q(owner__isnull=False)
            ),
            models.Index(fields=["team", "status"], name="lead_team_status_idx", condition=Q(team__isnull=False)),
            # SLA sweeps (sla.tasks) look only at leads whose clock is running.
            models.Index(fields=["sla_due_at"], name="lead_sla_due_idx", condition=Q(sla_due_at__isnull=False)),
            models.Index(fields=["source"], name="lead_source_idx"),
            models.Index(fields=["campaign"], name="lead_campaign_idx"),
            models.Index(fields=["country"], name="lead_country_idx"),
            models.Index(fields=["industry"], name="lead_industry_idx"),
            # The comparison reports read closed deals only.
            models.Index(
                fields=["origin", "status", "closed_at"],
                name="lead_origin_outcome_idx",
                condition=Q(closed_at__isnull=False),
            ),
            # Two more indexes are raw SQL in leads.migrations.0004 (an expression
            # with gin_trgm_ops, and NULLS LAST): lead_search_trgm_idx, the
            # pool's search box (see leads.search), and lead_activity_sort_idx on
            # (last_activity_at DESC NULLS LAST, id DESC), the pool's activity sort and filter.
            # Incremental rescoring (scoring.tasks.rescore_dirty_leads) reads only flagged leads.
            models.Index(fields=["id"], name="lead_needs_rescore_idx", condition=Q(needs_rescore=True)),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.external_id or f"Lead {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def in_nurture_pool(self) -> bool:
        return self.status == Status.NURTURE

    @property
    def email_domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower() if self.email else ""

    # The stored score, read through lead.scorecard (select_related("scorecard__legend")
    # in lists); None / {} until the lead is first scored.
    @property
    def scorecard_or_none(self) -> LeadScore | None:
        try:
            return self.scorecard
        except LeadScore.DoesNotExist:
            return None

    @property
    def score(self) -> int | None:
        card = self.scorecard_or_none
        return card.total if card else None

    @property
    def fit_score(self) -> int | None:
        card = self.scorecard_or_none
        return card.fit if card else None

    @property
    def behaviour_score(self) -> int | None:
        card = self.scorecard_or_none
        return card.behaviour if card else None

    @property
    def passes_gates(self) -> bool | None:
        card = self.scorecard_or_none
        return card.passes_gates if card else None

    @property
    def scored_version(self) -> int | None:
        card = self.scorecard_or_none
        return card.version if card else None

    @property
    def scored_at(self):
        card = self.scorecard_or_none
        return card.scored_at if card else None

    @property
    def score_explanation(self) -> dict:
        card = self.scorecard_or_none
        return card.explanation() if card else {}


# ScoreLegend and LeadScore are written only by scoring, yet live here, below it: every
# lead page, the queue, the pool's score sort, promotion (leads.pool.services) and the
# lead API read them, and leads may not import scoring (the layers contract).
class ScoreLegend(models.Model):
    """What a definition version's rules are called, in the order LeadScore lists them.

    Written by scoring for each version it scores with. It turns a LeadScore's
    compact per-rule points back into the readable explanation.
    """

    version = models.PositiveIntegerField(primary_key=True)
    threshold = models.IntegerField()
    gates = models.JSONField(default=list)  # [{"id", "label"}], in the order of LeadScore.gates_passed
    rules = models.JSONField(default=list)  # [{"id", "label", "type"}], in the order of LeadScore.rule_points

    def __str__(self) -> str:
        return f"Score legend v{self.version}"


class LeadScore(models.Model):
    """A lead's score against a definition version, written set-based by scoring.

    One narrow row per scored lead, so a whole-pool rescore writes about 100 bytes
    and two index entries per lead instead of rewriting the lead row with its
    dozen indexes. The explanation is stored compactly (points per rule, verdict
    per gate, aligned with the version's ScoreLegend) and rendered by
    explanation(); leads.scores.EXPLANATION_SQL renders the same in SQL.
    """

    # No database foreign key: rows are only ever written from a join on leads_lead,
    # the ORM deletes a lead's score with the lead (on_delete), and the constraint
    # would cost a check per row at every commit (5 s for a million leads, as much
    # as writing them). Lead ids are never reused, so a stray row is inert.
    lead = models.OneToOneField(
        Lead, on_delete=models.CASCADE, primary_key=True, related_name="scorecard", db_constraint=False
    )
    # No foreign-key constraint or index: checking it would cost a lookup per row
    # written, and legends are never deleted (scoring writes one before scoring).
    legend = models.ForeignKey(
        ScoreLegend,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        db_column="version",
        related_name="+",
    )
    total = models.IntegerField()
    fit = models.IntegerField()
    behaviour = models.IntegerField()
    passes_gates = models.BooleanField()
    rule_points = models.JSONField(default=list)  # points per legend rule; null where the rule did not fire
    gates_passed = models.JSONField(default=list)  # true/false per legend gate
    scored_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The pool banded by score (leads.pool.filters) and read in score order, ties by
            # lead, in either direction (leads.pool.selectors.LeadsInScoreOrder).
            models.Index(fields=["total", "lead"], name="leadscore_total_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"Lead {self.lead_id}: {self.total} (v{self.legend_id})"

    @property
    def version(self) -> int:
        return self.legend_id

    def explanation(self) -> dict:
        """The readable explanation (scoring.engine.ScoreResult.explanation's shape)."""
        from leads.scores import explanation_render

        legend = self.legend
        return explanation_render(
            version=self.legend_id,
            threshold=legend.threshold,
            legend_gates=legend.gates,
            legend_rules=legend.rules,
            total=self.total,
            fit=self.fit,
            behaviour=self.behaviour,
            passes_gates=self.passes_gates,
            gates_passed=self.gates_passed,
            rule_points=self.rule_points,
        )


class EventKind(models.TextChoices):
    PAGE_VIEW = "page_view", "Page view"
    PRICING_PAGE_VIEW = "pricing_page_view", "Pricing page view"
    CONTENT_DOWNLOAD = "content_download", "Content download"
    WEBINAR_ATTENDED = "webinar_attended", "Webinar attended"
    EMAIL_CLICK = "email_click", "Email click"
    FORM_SUBMISSION = "form_submission", "Form submission"
    DEMO_REQUEST = "demo_request", "Demo request"


class EngagementEvent(models.Model):
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="events", db_index=False
    )  # covered by event_lead_kind_time_idx
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    # Sender's id: a retried batch does not duplicate events (leads.intake.services).
    external_id = models.CharField(max_length=100, null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], name="event_external_id_unique", condition=Q(external_id__isnull=False)
            )
        ]
        indexes = [
            # Behaviour rules count a lead's events of a kind within a window.
            models.Index(fields=["lead", "kind", "occurred_at"], name="event_lead_kind_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class TouchKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    SOCIAL = "social", "Social message"
    NOTE = "note", "Note"


# A note is not an attempt to reach the lead, so it does not stop the clock.
CONTACT_ATTEMPT_KINDS = [TouchKind.CALL, TouchKind.EMAIL, TouchKind.MEETING, TouchKind.SOCIAL]


class TouchOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    LEFT_VOICEMAIL = "left_voicemail", "Left voicemail"
    NO_ANSWER = "no_answer", "No answer"
    SENT = "sent", "Sent"
    REPLIED = "replied", "Replied"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    NOT_INTERESTED = "not_interested", "Not interested"
    NONE = "none", "No outcome"


class Touch(models.Model):
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="touches", db_index=False
    )  # covered by touch_lead_time_idx
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="touches")
    kind = models.CharField(max_length=16, choices=TouchKind.choices)
    outcome = models.CharField(max_length=16, choices=TouchOutcome.choices, default=TouchOutcome.NONE)
    occurred_at = models.DateTimeField()
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["lead", "occurred_at"], name="touch_lead_time_idx")]
        verbose_name_plural = "touches"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_outcome_display()})"

    @property
    def is_contact_attempt(self) -> bool:
        return self.kind in CONTACT_ATTEMPT_KINDS


# Outcomes of a touch that count as a conversation (a "conversation only" policy stops on these).
CONVERSATION_OUTCOMES = frozenset({TouchOutcome.CONNECTED, TouchOutcome.REPLIED, TouchOutcome.MEETING_BOOKED})


class ClockOutcome(models.TextChoices):
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    REASSIGNED = "reassigned", "Reassigned before the deadline"
    CLOSED = "closed", "Closed without contact"


class ClockAction(models.TextChoices):
    """What the sweep (sla.services) must do next to a clock."""

    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"
    ESCALATION = "escalation", "Escalation"


class FirstContactClock(models.Model):
    """One assignment's first-contact clock: its rep, its deadline and what became of it.

    Started in the transaction that assigns the lead, stopped in the one that
    logs the touch the policy counts (leads.clock.services). The policy's terms
    are copied in at the start, and every instant the sweep acts on is computed
    then (business time needs the rep's calendar; the sweep needs none):
    `next_action_at` is the one indexed column the sweep reads.
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="clocks", db_index=False)
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="first_contact_clocks")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    policy = models.ForeignKey(FirstContactPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The policy's terms when the clock started.
    business_time = models.BooleanField(default=False)
    # The holiday calendar too: a policy edited or removed later must not change how long this clock took.
    holiday_country = models.CharField(max_length=2, blank=True, db_default="")
    holiday_subdivision = models.CharField(max_length=8, blank=True, db_default="")
    stop_on = models.CharField(max_length=16, choices=FirstContactPolicy.StopOn.choices)
    window_minutes = models.PositiveIntegerField()
    reassign_on_breach = models.BooleanField(default=False)
    max_reassignments = models.PositiveSmallIntegerField(default=0)
    # 0 for the clock of a lead's first assignment in this cycle, n after n reassignments on breach.
    reassignment = models.PositiveSmallIntegerField(default=0)

    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    warn_at = ArrayField(models.DateTimeField(), default=list, blank=True)
    warnings_sent = models.PositiveSmallIntegerField(default=0)
    escalate_at = models.DateTimeField(null=True, blank=True)
    next_action = models.CharField(max_length=16, choices=ClockAction.choices, blank=True)
    next_action_at = models.DateTimeField(null=True, blank=True)

    outcome = models.CharField(max_length=16, choices=ClockOutcome.choices, blank=True)
    # The touch that stopped the clock, and how long it took (wall clock and the policy's time).
    contacted_at = models.DateTimeField(null=True, blank=True)
    seconds_to_contact = models.PositiveIntegerField(null=True, blank=True)
    business_seconds_to_contact = models.PositiveIntegerField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # Empty while the clock is open: before its deadline, or breached and still untouched.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "first-contact clock"
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(ended_at__isnull=True), name="one_open_clock_per_lead"
            ),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("started_at")), name="clock_due_after_start"),
        ]
        indexes = [
            # The sweep reads only what is due: its cost follows the due clocks, not the open ones.
            models.Index(
                fields=["next_action_at"], name="clock_next_action_idx", condition=Q(next_action_at__isnull=False)
            ),
            models.Index(fields=["lead", "-started_at"], name="clock_lead_idx"),
            models.Index(fields=["rep", "due_at"], name="clock_rep_due_idx"),
            models.Index(fields=["team", "due_at"], name="clock_team_due_idx"),
            # Open clocks only: "breaches open now" on the SLA dashboard (sla.dashboard.selectors)
            # and the overdue half of free_to_cold_call_many. Without them both read every clock
            # a team or rep ever had with a deadline before now.
            models.Index(fields=["team", "due_at"], name="clock_open_team_due_idx", condition=Q(ended_at__isnull=True)),
            models.Index(fields=["rep", "due_at"], name="clock_open_rep_due_idx", condition=Q(ended_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"Clock on lead {self.lead_id} for rep {self.rep_id}, due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def next_step(self) -> tuple[str, datetime.datetime | None]:
        """What the sweep must do next, and when: the pending warning, the breach, the escalation."""
        if self.ended_at is not None:
            return "", None
        if not self.outcome:
            if self.warnings_sent < len(self.warn_at):
                return ClockAction.WARNING, self.warn_at[self.warnings_sent]
            return ClockAction.BREACH, self.due_at
        if self.outcome == ClockOutcome.BREACHED and self.escalate_at and self.escalated_at is None:
            return ClockAction.ESCALATION, self.escalate_at
        return "", None

    def counts(self, touch_kind: str, touch_outcome: str) -> bool:
        """Does this touch stop the clock under the policy it started with?"""
        if touch_kind not in CONTACT_ATTEMPT_KINDS:
            return False
        return self.stop_on == FirstContactPolicy.StopOn.ATTEMPT or touch_outcome in CONVERSATION_OUTCOMES


class HistoryAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    IMPORTED = "imported", "Imported"
    SCORED = "scored", "Scored"
    PROMOTED = "promoted", "Promoted to sales queue"
    ASSIGNED = "assigned", "Assigned"
    REASSIGNED = "reassigned", "Reassigned"
    STATUS_CHANGED = "status_changed", "Stage changed"
    FIRST_CONTACT = "first_contact", "First contact"
    REJECTED = "rejected", "Rejected to marketing"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breached"
    SLA_ESCALATED = "sla_escalated", "SLA escalated"
    SLA_MET = "sla_met", "First-contact clock stopped"
    CONSENT_CHANGED = "consent_changed", "Consent changed"
    CONSENT_OVERRIDDEN = "consent_override", "Contacted despite consent"


class LeadHistory(models.Model):
    """One row per handoff transition, written in the same transaction as the change."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="history", db_index=False
    )  # covered by history_lead_time_idx
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=24, choices=HistoryAction.choices)
    field = models.CharField(max_length=50, blank=True)
    old_value = models.CharField(max_length=255, blank=True)
    new_value = models.CharField(max_length=255, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "lead history"
        indexes = [
            models.Index(fields=["lead", "-created_at"], name="history_lead_time_idx"),
            # Reports read transitions by kind over a period.
            models.Index(fields=["action", "created_at"], name="history_action_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.old_value} → {self.new_value}".strip()


class CustomFieldKind(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    YES_NO = "yes_no", "Yes/no"
    CHOICE = "choice", "Choice"


class CustomField(models.Model):
    """A field marketing declared, kept in lead.attributes[name] (leads.fields).

    Imports and the API validate its values by kind; the lead page, the pool's
    filters, the CSV export and the definition's rules (as `attributes.<name>`,
    scoring.rules) use it like a built-in field. A personal-data field is removed
    by an erasure and may not be filtered on by sales nor tested for a value by a rule.
    """

    name = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=CustomFieldKind.choices, default=CustomFieldKind.TEXT)
    choices = models.JSONField(default=list, blank=True)
    personal = models.BooleanField("personal data", default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["label", "id"]

    def __str__(self) -> str:
        return self.label


class EventKindDefinition(models.Model):
    """An engagement event kind marketing added beyond the built-in EventKind values."""

    name = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["label", "id"]

    def __str__(self) -> str:
        return self.label


class ImportMapping(models.Model):
    """A named, reusable mapping from a CSV's columns (and values) to lead fields."""

    name = models.CharField(max_length=100, unique=True)
    # {"Column header": "lead_field", ...}
    columns = models.JSONField(default=dict)
    # {"lead_field": {"raw value": "stored value", ...}, ...}
    values = models.JSONField(default=dict, blank=True)
    # Options such as {"create_missing_owners": true, "key": "external_id"}.
    options = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportJob(Job):
    """A browser import (leads.imports.services): uploaded, then run as a job like any other."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"  # before the first start: mapping and preview
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    task_name = "leads.tasks.import_run"
    lock_namespace = 0x1E4D

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    mapping = models.ForeignKey(ImportMapping, null=True, blank=True, on_delete=models.SET_NULL)
    # Snapshot of the mapping used, so a later edit does not rewrite history.
    mapping_snapshot = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    # progress (percent) is written with these as each chunk commits.
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # [{"line": 12, "reason": "..."}, ...]
    rejections = models.JSONField(default=list, blank=True)
    # Won or lost leads written without a close date: stored unknown, left out of cycle figures.
    closed_undated_count = models.PositiveIntegerField(default=0)
    # What the file's owner_team / owner_manager / owner_region columns did to the roster.
    roster_summary = models.TextField(blank=True)
    # Lookup files uploaded with the import (a sales-team file, a closed-deals file):
    # [{"name": "sales_teams.csv", "header": [...], "rows": [{"column": "value", ...}, ...]}]
    # A mapping's lookup names one by its file name (leads.imports.parse.lookups_resolve).
    lookup_files = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.original_name}"

    def lookup_rows(self) -> dict[str, list[dict[str, str]]]:
        """File name -> rows, as Plan.compile takes them."""
        return {f["name"]: f["rows"] for f in self.lookup_files or []}


class EventImportJob(Job):
    """An engagement-events import (leads.events): a CSV turned into events through the events API's
    own path (leads.intake.services.events_ingest), run as a job like any other."""

    task_name = "leads.tasks.event_import_run"
    lock_namespace = 0x1E4E

    file = models.FileField(upload_to="event-imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    # The checked mapping (leads.events.mapping): how rows become events.
    mapping = models.JSONField(default=dict)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    stored_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    leads_created = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # [{"line": 12, "reason": "..."}, ...]
    rejections = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Event import {self.pk}: {self.original_name}"


class AssignmentRule(models.Model):
    """Ordered routing rules: the first enabled rule whose conditions match sends a lead to its team."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        WEIGHTED = "weighted", "Weighted round robin"
        LEAST_LOADED = "least_loaded", "Least loaded"

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    # {"country": ["US", "CA"], "industry": [...], "company_size_min": 50, "company_size_max": 500,
    #  "source": [...], "score_min": 60, "score_max": 100}
    conditions = models.JSONField(default=dict, blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="assignment_rules")
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    skip_outside_working_hours = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name
