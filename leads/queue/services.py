"""Writes of the sales queue: touches, stages, rejections to marketing, rep-sourced leads.

Every function is keyword-only, runs in one transaction, locks the lead it
changes (leads.selectors.lead_get_for_user(write=True)) and writes a history
row for every transition. Only the lead's owner works it: a lead that is not
(or no longer) in the caller's queue is a 404 (NotInQueueError), another role
on a lead it may see is a 403.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404

from accounts.models import User
from leadhandoff.api import ApplicationError, ConflictError
from leads import history
from leads.clock.selectors import free_to_cold_call
from leads.clock.services import clock_stop, clocks_end
from leads.models import (
    CLOSED_STATUSES,
    CONTACT_ATTEMPT_KINDS,
    ClockOutcome,
    Lead,
    Origin,
    RejectReason,
    RepSourceChannel,
    Status,
    Touch,
    TouchKind,
    TouchOutcome,
)
from leads.selectors import lead_get_for_user
from leads.services import status_change

# Statuses a rep works a lead in; queued leads have no owner yet.
WORKABLE_STATUSES = [Status.ASSIGNED, Status.CONTACTED, Status.WORKING, Status.OPPORTUNITY]
# Forward order of the open stages; won and lost close the lead.
STAGE_ORDER = {Status.ASSIGNED: 0, Status.CONTACTED: 1, Status.WORKING: 2, Status.OPPORTUNITY: 3}
# Stages a rep may move a lead to by hand (contacted comes with the first contact touch too).
STAGE_TARGETS = [Status.CONTACTED, Status.WORKING, Status.OPPORTUNITY, Status.WON, Status.LOST]
# A touch may be logged a little ahead of the server clock (a phone's clock runs fast).
CLOCK_SKEW = datetime.timedelta(minutes=2)
MAX_DEAL_VALUE = Decimal("999999999999.99")

NOT_IN_QUEUE = "This lead is not in your queue: it may have been reassigned or sent back to marketing."
ALREADY_KNOWN = "This contact is already known to LeadHandoff; ask your manager."
IN_NURTURE_POOL = "This contact is in the nurture pool; ask marketing."
ALREADY_YOURS = "This contact is already in your queue."


class AlreadyKnownError(ApplicationError):
    """A prospect whose email a lead has: `own_lead_id` when that lead is the caller's own."""

    def __init__(self, message: str, *, own_lead_id: int | None = None):
        super().__init__(message, fields={"email": [message]})
        self.own_lead_id = own_lead_id


def _already_known(*, user: User, email: str) -> AlreadyKnownError | None:
    """Why a prospect's email cannot be added, in the rep's words: their own lead (linked),
    the nurture pool (marketing's), or someone else's lead (nothing of it said)."""
    known = Lead.objects.filter(email__iexact=email).values("pk", "owner_id", "status").first()
    if known is None:
        return None
    if known["owner_id"] == user.pk and known["status"] != Status.NURTURE:
        return AlreadyKnownError(ALREADY_YOURS, own_lead_id=known["pk"])
    if known["status"] == Status.NURTURE:
        return AlreadyKnownError(IN_NURTURE_POOL)
    return AlreadyKnownError(ALREADY_KNOWN)


class NotInQueueError(ApplicationError):
    """The lead is not the caller's (any more): a 404 with a message that says why."""

    status_code = 404

    def __init__(self, message: str = NOT_IN_QUEUE):
        super().__init__(message)


def _lead_to_work(*, user: User, lead_id: int) -> Lead:
    """Lock the caller's own lead; 404 when they cannot see it, 403 when they see it but do not own it."""
    try:
        lead = lead_get_for_user(user=user, lead_id=lead_id, write=True)
    except Http404:
        raise NotInQueueError() from None
    if lead.status == Status.NURTURE:
        # Marketing and admins can see pool leads, but nobody works them from the queue.
        raise NotInQueueError()
    if lead.owner_id != user.pk:
        raise PermissionDenied("Only the rep who owns this lead works it.")
    return lead


def _require_open(lead: Lead) -> None:
    if lead.status in CLOSED_STATUSES:
        raise ApplicationError(f"This lead is already closed ({lead.get_status_display().lower()}).")
    if lead.status not in WORKABLE_STATUSES:
        raise ApplicationError(f"A lead in status {lead.get_status_display().lower()} cannot be worked.")


def _status_label(status: str) -> str:
    return Status(status).label.lower()


# Which consent flag refuses which touch (issue 14); the rep may override it explicitly.
CONSENT_REFUSES = {TouchKind.CALL: "do_not_call", TouchKind.EMAIL: "do_not_email"}
CONSENT_REFUSAL_MESSAGES = {
    "do_not_call": "This lead asked not to be called: tick “Override consent” to log the call anyway.",
    "do_not_email": "This lead asked not to be emailed: tick “Override consent” to log the email anyway.",
}


@transaction.atomic
def touch_log(
    *,
    user: User,
    lead_id: int,
    kind: str,
    outcome: str = TouchOutcome.NONE,
    notes: str = "",
    occurred_at: datetime.datetime | None = None,
    consent_override: bool = False,
    override_reason: str = "",
    now: datetime.datetime,
) -> Touch:
    """Log a call, email, meeting, social message or note on the caller's lead.

    A call to a do-not-call lead or an email to a do-not-email lead is refused
    unless `consent_override` says so explicitly; the override is written to history.

    The first contact attempt (not a note) records first contact, stops the
    first-contact clock (sla_due_at cleared) and moves an assigned lead to
    contacted, with history rows for both.
    """
    errors: dict[str, list[str]] = {}
    if kind not in TouchKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(TouchKind.values)}."]
    if outcome not in TouchOutcome.values:
        errors["outcome"] = [f"Choose one of: {', '.join(TouchOutcome.values)}."]
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        errors["occurred_at"] = ["A touch cannot be in the future."]
    if errors:
        raise ApplicationError("The touch was not logged.", fields=errors)

    lead = _lead_to_work(user=user, lead_id=lead_id)
    _require_open(lead)
    refused_by = CONSENT_REFUSES.get(kind)
    if refused_by and getattr(lead, refused_by):
        if not consent_override:
            message = CONSENT_REFUSAL_MESSAGES[refused_by]
            raise ApplicationError(
                "The touch was not logged.", fields={"kind": [message], "consent_override": [message]}
            )
        history.consent_overridden(kind=kind, flag=refused_by, reason=override_reason.strip()[:500]).write(
            lead=lead, at=now, actor=user
        )
    occurred_at = min(occurred_at, now)
    if lead.origin == Origin.MARKETING and lead.assigned_at and occurred_at < lead.assigned_at:
        # Otherwise a back-dated call could stop a clock that had not started.
        raise ApplicationError(
            "The touch was not logged.",
            fields={"occurred_at": ["A touch cannot be before the lead was assigned to you."]},
        )

    touch = Touch.objects.create(
        lead=lead, rep=user, kind=kind, outcome=outcome, occurred_at=occurred_at, notes=notes.strip()
    )
    update_fields = ["touch_count", "last_activity_at", "updated_at"]
    if lead.last_activity_at is None or occurred_at > lead.last_activity_at:
        lead.last_activity_at = occurred_at
    if kind in CONTACT_ATTEMPT_KINDS:
        if lead.first_contact_at is None:
            lead.first_contact_at = occurred_at
            history.first_contact(
                at=occurred_at,
                kind=kind,
                kind_label=touch.get_kind_display(),
                outcome_label=touch.get_outcome_display(),
                touch_id=touch.pk,
                sla_due_at=lead.sla_due_at.isoformat() if lead.sla_due_at else None,
                within_sla=None if lead.sla_due_at is None else occurred_at <= lead.sla_due_at,
            ).write(lead=lead, at=occurred_at, actor=user)
            update_fields.append("first_contact_at")
        # The clock stops on the touch its policy counts: under "conversation only" a
        # voicemail is a first contact but the clock runs on.
        if clock_stop(lead=lead, kind=kind, outcome=outcome, at=occurred_at) is not None:
            lead.sla_due_at = None
            update_fields.append("sla_due_at")
        if lead.status == Status.ASSIGNED:
            status_change(
                lead=lead,
                new_status=Status.CONTACTED,
                at=occurred_at,
                actor=user,
                note=f"First contact: {touch.get_kind_display().lower()}",
            )
            update_fields.append("status")
    # F(): two touches logged at once on one lead both count. An unknown count (imported
    # history without one) stays unknown: NULL + 1 is NULL, as the touches before the
    # import were never counted; the touches logged here are still listed on the brief.
    lead.touch_count = F("touch_count") + 1
    lead.save(update_fields=update_fields)
    lead.refresh_from_db(fields=["touch_count"])
    return touch


def _stage_errors(
    *, lead: Lead, to_status: str, value: Decimal | None, reason: str
) -> tuple[str, dict[str, list[str]]]:
    """Why a stage change is refused ("" and {} when it is allowed)."""
    if to_status not in STAGE_TARGETS:
        return "Unknown stage.", {"status": [f"Choose one of: {', '.join(STAGE_TARGETS)}."]}
    if lead.status == to_status:
        return f"The lead is already {_status_label(to_status)}.", {}
    if value is not None and (value < 0 or value > MAX_DEAL_VALUE):
        return "The value is out of range.", {"value": ["Enter a value of zero or more."]}
    if to_status == Status.LOST:
        if not reason.strip():
            return "Say why the lead was lost.", {"reason": ["A lost lead needs a reason."]}
        return "", {}
    if to_status in STAGE_ORDER and STAGE_ORDER[to_status] < STAGE_ORDER[lead.status]:
        return (
            f"A lead cannot move back from {_status_label(lead.status)} to {_status_label(to_status)}.",
            {"status": ["Stages only move forward (or to lost)."]},
        )
    if lead.first_contact_at is None and lead.status == Status.ASSIGNED:
        return (
            "Log the first contact (a call, email, meeting or social message) before moving this lead on.",
            {"status": ["The lead has not been contacted yet."]},
        )
    if to_status == Status.OPPORTUNITY and value is None:
        return "An opportunity needs its value.", {"value": ["Enter the opportunity's value."]}
    if to_status == Status.WON and value is None and lead.deal_value is None:
        return "A won deal needs its value.", {"value": ["Enter the value won."]}
    return "", {}


@transaction.atomic
def lead_stage_change(
    *,
    user: User,
    lead_id: int,
    to_status: str,
    value: Decimal | None = None,
    reason: str = "",
    note: str = "",
    expected_status: str | None = None,
    now: datetime.datetime,
) -> Lead:
    """Move the caller's lead along contacted → working → opportunity → won, or to lost.

    Forward moves only, once contacted; lost from any open stage (with a
    reason); opportunity and won need a value (won reuses the opportunity's).
    Closing sets closed_at and stops any running clock. `expected_status` is
    the stage the caller saw: if the lead moved meanwhile, a 409.
    """
    lead = _lead_to_work(user=user, lead_id=lead_id)
    if expected_status and lead.status != expected_status:
        raise ConflictError(
            f"The lead moved to {lead.get_status_display().lower()} meanwhile; reload and try again.",
            fields={"status": [f"The lead is now {lead.get_status_display().lower()}."]},
        )
    _require_open(lead)
    if value is not None and abs(value) <= MAX_DEAL_VALUE:
        value = Decimal(value).quantize(Decimal("0.01"))
    message, fields = _stage_errors(lead=lead, to_status=to_status, value=value, reason=reason)
    if message:
        raise ApplicationError(message, fields=fields)

    update_fields = ["status", "last_activity_at", "updated_at"]
    if value is not None and value != lead.deal_value:
        history.updated(field="deal_value", old=lead.deal_value, new=value).write(lead=lead, at=now, actor=user)
        lead.deal_value = value
        update_fields.append("deal_value")
    if to_status == Status.LOST:
        lead.lost_reason = reason.strip()[:200]
        update_fields.append("lost_reason")
    if to_status in CLOSED_STATUSES:
        lead.closed_at = now
        update_fields.append("closed_at")
        clocks_end(lead_ids=[lead.id], outcome=ClockOutcome.CLOSED, now=now)
        if lead.sla_due_at is not None:
            lead.sla_due_at = None
            update_fields.append("sla_due_at")
    status_change(
        lead=lead,
        new_status=to_status,
        at=now,
        actor=user,
        note="; ".join(part for part in (reason.strip(), note.strip()) if part),
    )
    lead.last_activity_at = now
    lead.save(update_fields=update_fields)
    return lead


@transaction.atomic
def lead_reject(*, user: User, lead_id: int, reason: str, note: str = "", now: datetime.datetime) -> Lead:
    """Send a marketing lead back to the nurture pool with a structured reason.

    It leaves the rep's queue (no owner, no team, no clock), keeps the version
    of the definition that promoted it for marketing's rejection report, and
    clears this cycle's assignment so a later promotion starts a fresh one
    (the history keeps the old times).
    """
    note = note.strip()
    if reason not in RejectReason.values:
        raise ApplicationError(
            "Choose a reason.", fields={"reason": [f"Choose one of: {', '.join(RejectReason.values)}."]}
        )
    if reason == RejectReason.OTHER and not note:
        raise ApplicationError("Say why in a note.", fields={"note": ["A note is required when the reason is other."]})
    lead = _lead_to_work(user=user, lead_id=lead_id)
    _require_open(lead)
    if lead.origin != Origin.MARKETING:
        raise ApplicationError(
            "Only leads from marketing go back to marketing; close a lead you sourced yourself as lost.",
            fields={"reason": ["This lead is rep-sourced."]},
        )
    old_status = lead.status
    history.rejected(
        old=old_status,
        note=note,
        reason=reason,
        version=lead.promoted_version,
        owner_id=lead.owner_id,
        team_id=lead.team_id,
        assigned_at=lead.assigned_at.isoformat() if lead.assigned_at else None,
        first_contact_at=lead.first_contact_at.isoformat() if lead.first_contact_at else None,
    ).write(lead=lead, at=now, actor=user)
    clocks_end(lead_ids=[lead.id], outcome=ClockOutcome.CLOSED, now=now)
    lead.status = Status.NURTURE
    lead.owner = None
    lead.team = None
    lead.sla_due_at = None
    lead.assigned_at = None
    lead.first_contact_at = None
    lead.rejected_at = now
    lead.rejected_by = user
    lead.reject_reason = reason
    lead.reject_note = note
    lead.rejected_version = lead.promoted_version
    lead.recycled_count = F("recycled_count") + 1
    lead.last_activity_at = now
    lead.save(
        update_fields=[
            "status",
            "owner",
            "team",
            "sla_due_at",
            "assigned_at",
            "first_contact_at",
            "rejected_at",
            "rejected_by",
            "reject_reason",
            "reject_note",
            "rejected_version",
            "recycled_count",
            "last_activity_at",
            "updated_at",
        ]
    )
    lead.refresh_from_db(fields=["recycled_count"])
    return lead


def _rep_team(user: User):
    profile = getattr(user, "rep_profile", None)
    if profile is None:
        raise PermissionDenied("Only reps with a team add prospects.")
    return profile.team


@transaction.atomic
def rep_sourced_create(
    *,
    user: User,
    email: str,
    channel: str,
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    title: str = "",
    phone: str = "",
    now: datetime.datetime,
) -> Lead:
    """A rep adds their own prospect: straight into their queue, assigned, with no first-contact clock.

    A contact already known (any lead with that email) is refused: the rep's own
    lead is named (the form links to it), the nurture pool is named (marketing's to
    hand over), anyone else's lead is not described. A rep who is not free to cold-call is
    warned (on the form) but never refused: the prospect is flagged instead.
    """
    if not user.is_rep:
        raise PermissionDenied("Only reps add prospects.")
    email = (email or "").strip()
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = ["An email is required."]
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    if channel not in RepSourceChannel.values:
        errors["channel"] = [f"Choose one of: {', '.join(RepSourceChannel.values)}."]
    if errors:
        raise ApplicationError("The prospect was not added.", fields=errors)
    team = _rep_team(user)
    if known := _already_known(user=user, email=email):
        raise known
    try:
        # A savepoint: the unique index (lead_email_ci_unique) catches a race with intake.
        with transaction.atomic():
            lead = Lead.objects.create(
                email=email,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                company=company.strip(),
                title=title.strip(),
                phone=phone.strip(),
                origin=Origin.REP_SOURCED,
                rep_source_channel=channel,
                status=Status.ASSIGNED,
                owner=user,
                team=team,
                created_at=now,
                assigned_at=now,
                sla_due_at=None,
                last_activity_at=now,
                created_while_not_free=not free_to_cold_call(rep=user, now=now).free,
            )
    except IntegrityError:
        raise (_already_known(user=user, email=email) or AlreadyKnownError(ALREADY_KNOWN)) from None
    note = f"Rep-sourced ({RepSourceChannel(channel).label.lower()})"
    if lead.created_while_not_free:
        note += ", added while not free to cold-call"
    history.created(
        note=note, origin=Origin.REP_SOURCED, channel=channel, created_while_not_free=lead.created_while_not_free
    ).write(lead=lead, at=now, actor=user)
    history.assigned(owner=user, team_id=team.pk, sla=False).write(lead=lead, at=now, actor=user)
    return lead
