"""Writes on the qualified-lead definition: drafts, edits, proposal, sign-off, discussion.

The life of a version: draft -> proposed -> active -> retired.

- Anyone who may see the definition (marketing, reps, managers, admins) may start a
  draft, edit a draft or proposed version, propose it and comment on it.
- Editing a *proposed* version keeps it proposed but withdraws every live approval:
  sign-off is for the rules as they are now, so both sides must approve again. (It
  does not go back to draft because nothing about the proposal itself changed; the
  withdrawn approvals and the "edited" entry in the thread make the reset visible.)
- Active and retired versions are frozen; "new draft from this version" copies them.
- A proposed version becomes active when a Marketing user and a Sales user (rep or
  manager), two different people, hold live approvals of its current revision. The
  author may approve their own version. Activation retires the previous active version
  in the same transaction and, on commit, enqueues a full rescore of the pool.
- A version is compiled and run on a sample of leads when it is saved and again when
  it is proposed (scoring.scoring.definition_trial): one the SQL path cannot score
  is refused with the reason, so it never reaches sign-off.
- Every save bumps `revision`; a save against an older revision is refused with a
  DefinitionConflictError that carries the other person's changes (optimistic lock).

Every state change, edit and approval is written to the version's thread as a Comment
of kind "event", in the same transaction as the change.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max

from accounts.models import Role, User
from leadhandoff.api import ApplicationError, ConflictError
from leadhandoff.jobs import job_run_again
from leads.models import ScoreLegend

from .models import Approval, Comment, DefinitionVersion, PoolRescore, Preview
from .rules import EVENT_KINDS, OPERATORS, Definition, rules_dump, rules_parse
from .scoring import DefinitionUnscorableError, definition_trial
from .selectors import rule_catalogue

EDITABLE_STATES = (DefinitionVersion.State.DRAFT, DefinitionVersion.State.PROPOSED)
TITLE_MAX = 150
COMMENT_MAX = 5000
THRESHOLD_LIMIT = 100_000
# Any constant will do: it only has to be the same for every activation (see _activate).
_ACTIVATION_LOCK = 0x5C0_41C7

# Which side of the sign-off a role approves for. Admins run the tool but do not sign off.
APPROVAL_SIDE = {
    Role.MARKETING: Approval.Side.MARKETING,
    Role.REP: Approval.Side.SALES,
    Role.MANAGER: Approval.Side.SALES,
}
# Who may read the definition and take part (draft, edit, propose, comment, preview).
PARTICIPANT_ROLES = (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)
# Who signs off: the roles that approve for a side.
SIGNOFF_ROLES = tuple(APPROVAL_SIDE)


class DefinitionConflictError(ConflictError):
    """Someone saved the version since the caller loaded it.

    `changes` is definition_diff(what the caller started from, what is stored now): the
    other person's change. `current` is the version as stored now.
    """

    def __init__(self, message: str, *, current: DefinitionVersion, changes: list[dict], changed_by: str = ""):
        super().__init__(message, fields={"revision": [message]})
        self.current = current
        self.changes = changes
        self.changed_by = changed_by


# --- validation ------------------------------------------------------------------


def _rules_clean(rules: Any) -> list[dict]:
    try:
        return rules_dump(rules_parse(rules, **rule_catalogue()))
    except ValidationError as exc:
        messages = exc.message_dict.get("rules", exc.messages)
        raise ApplicationError("Some rules are not valid.", fields={"rules": messages}) from exc


def _scoreable_check(rules: list[dict], *, threshold: int, now: datetime.datetime) -> None:
    """Refuse rules the SQL path cannot score: they are compiled and run on a sample of leads first."""
    try:
        parsed = rules_parse(rules, **rule_catalogue(stored_rules=rules))
    except ValidationError as exc:  # stored before a limit existed, or written around the services
        messages = exc.message_dict.get("rules", exc.messages)
        raise ApplicationError("Some rules are not valid.", fields={"rules": messages}) from exc
    try:
        definition_trial(Definition.from_rules(version=0, threshold=threshold, rules=parsed), now=now)
    except DefinitionUnscorableError as exc:
        raise ApplicationError(str(exc), fields={"rules": [str(exc)]}) from exc


def _threshold_clean(threshold: Any) -> int:
    if isinstance(threshold, bool):
        raise ApplicationError("The threshold must be a whole number.", fields={"threshold": ["Enter a whole number."]})
    try:
        value = int(str(threshold).strip())
    except (TypeError, ValueError):
        raise ApplicationError(
            "The threshold must be a whole number.", fields={"threshold": ["Enter a whole number."]}
        ) from None
    if abs(value) > THRESHOLD_LIMIT:
        raise ApplicationError(
            "The threshold is out of range.",
            fields={"threshold": [f"Keep the threshold between -{THRESHOLD_LIMIT} and {THRESHOLD_LIMIT}."]},
        )
    return value


def _title_clean(title: Any) -> str:
    title = str(title or "").strip()
    if len(title) > TITLE_MAX:
        raise ApplicationError("The title is too long.", fields={"title": [f"At most {TITLE_MAX} characters."]})
    return title


def _event(*, version: DefinitionVersion, actor: User | None, at: datetime.datetime, body: str, **data) -> Comment:
    return Comment.objects.create(
        version=version, author=actor, body=body, created_at=at, kind=Comment.Kind.EVENT, data=data
    )


def _move(version: DefinitionVersion, state: str, *, stamp: str, now: datetime.datetime) -> None:
    """Put a version in `state`, stamping when (`stamp`: proposed_at, activated_at or retired_at)."""
    version.state = state
    setattr(version, stamp, now)
    version.updated_at = now
    version.save(update_fields=["state", stamp, "updated_at"])


def _snapshot(version: DefinitionVersion) -> dict:
    return {"title": version.title, "threshold": version.threshold, "rules": version.rules}


# --- drafts ----------------------------------------------------------------------


def definition_number_next() -> int:
    """The number a new version gets: past every version and every number scores were stored under."""
    # Never a number scores were once stored under (leads.ScoreLegend outlives a
    # deleted version): a reused number would explain old scores with new rules.
    highest = max(
        DefinitionVersion.objects.aggregate(n=Max("number"))["n"] or 0,
        ScoreLegend.objects.aggregate(n=Max("version"))["n"] or 0,
    )
    return highest + 1


@transaction.atomic
def definition_draft_create(
    *,
    actor: User,
    now: datetime.datetime,
    rules: Any = None,
    threshold: Any = 50,
    title: str = "",
    based_on: DefinitionVersion | None = None,
) -> DefinitionVersion:
    """Start a new draft version (numbered after the highest so far)."""
    clean_rules = _rules_clean([] if rules is None else rules)
    clean_threshold = _threshold_clean(threshold)
    clean_title = _title_clean(title)
    _scoreable_check(clean_rules, threshold=clean_threshold, now=now)
    # Two people starting drafts at once may pick the same number; the unique
    # constraint refuses the second, which then takes the next one.
    for _attempt in range(5):
        try:
            with transaction.atomic():
                version = DefinitionVersion.objects.create(
                    number=definition_number_next(),
                    title=clean_title,
                    state=DefinitionVersion.State.DRAFT,
                    rules=clean_rules,
                    threshold=clean_threshold,
                    based_on=based_on,
                    author=actor,
                    created_at=now,
                    updated_at=now,
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five collisions in a row
        raise ApplicationError("Could not number the new draft; please try again.")
    body = f"Started draft v{version.number}" + (f" from v{based_on.number}." if based_on else ".")
    _event(version=version, actor=actor, at=now, body=body, event="created", based_on=based_on and based_on.number)
    return version


def version_copy_as_draft(*, version: DefinitionVersion, actor: User, now: datetime.datetime) -> DefinitionVersion:
    """Propose an old (or any) version again: a new draft with its rules, based on it.

    Rule ids are kept so a diff against the original matches rule for rule.
    """
    return definition_draft_create(
        actor=actor, now=now, rules=version.rules, threshold=version.threshold, title=version.title, based_on=version
    )


@transaction.atomic
def definition_update(
    *,
    version: DefinitionVersion,
    rules: Any,
    threshold: Any,
    title: str,
    revision: int,
    actor: User,
    now: datetime.datetime,
) -> DefinitionVersion:
    """Save an edit made against `revision`; withdraw approvals; refuse a stale save.

    The write is a compare-and-set on (id, revision): if someone saved in between,
    no row changes and the caller gets a DefinitionConflictError with their change.
    """
    clean_rules = _rules_clean(rules)
    clean_threshold = _threshold_clean(threshold)
    clean_title = _title_clean(title)
    _scoreable_check(clean_rules, threshold=clean_threshold, now=now)
    try:
        revision = int(revision)
    except (TypeError, ValueError):
        raise ApplicationError("Missing revision.", fields={"revision": ["Give the revision you edited."]}) from None

    before = DefinitionVersion.objects.select_for_update().get(pk=version.pk)
    if before.state not in EDITABLE_STATES:
        raise ApplicationError(
            f"v{before.number} is {before.get_state_display().lower()} and can no longer be edited; "
            "start a new draft from it instead.",
            fields={"state": ["Only draft and proposed versions can be edited."]},
        )
    changes = definition_diff(before, {"title": clean_title, "threshold": clean_threshold, "rules": clean_rules})
    if not changes:
        # Nothing changed (an empty added rule is dropped by the form): not a revision, no post,
        # and the approvals stand. The caller sees the revision unchanged.
        return before
    updated = DefinitionVersion.objects.filter(pk=version.pk, revision=revision, state__in=EDITABLE_STATES).update(
        rules=clean_rules,
        threshold=clean_threshold,
        title=clean_title,
        revision=F("revision") + 1,
        updated_at=now,
    )
    if updated != 1:
        raise _conflict(current=before, base_revision=revision)

    withdrawn = Approval.objects.filter(version_id=version.pk, withdrawn_at__isnull=True).update(withdrawn_at=now)
    summary = "; ".join(c["text"] for c in changes[:5])
    if len(changes) > 5:
        summary += f"; and {len(changes) - 5} more"
    body = f"Edited (revision {revision} → {revision + 1}): {summary}."
    if withdrawn:
        body += f" {withdrawn} approval{'s' if withdrawn != 1 else ''} withdrawn; sign-off starts again."
    _event(
        version=before,
        actor=actor,
        at=now,
        body=body,
        event="edited",
        from_revision=revision,
        to_revision=revision + 1,
        before=_snapshot(before),
        changes=changes,
        withdrawn=withdrawn,
    )
    version.refresh_from_db()
    return version


def _conflict(*, current: DefinitionVersion, base_revision: int, approving: bool = False) -> DefinitionConflictError:
    """Build the refusal of a stale save: what changed since `base_revision`, and who changed it."""
    edits = list(
        Comment.objects.filter(version=current, kind=Comment.Kind.EVENT, data__event="edited")
        .select_related("author")
        .order_by("created_at", "id")
    )
    base = next((e.data["before"] for e in edits if e.data.get("from_revision") == base_revision), None)
    later = [e for e in edits if e.data.get("from_revision", 0) >= base_revision]
    who = sorted({str(e.author) for e in later if e.author}) or ["someone else"]
    changes = definition_diff(base, current) if base is not None else []
    changed_by = ", ".join(who)
    if current.revision < base_revision:
        message = f"Revision {base_revision} of v{current.number} does not exist; reload the version."
    elif approving:
        message = (
            f"{changed_by} edited v{current.number} after you opened it (revision {base_revision} → "
            f"{current.revision}). Nothing was approved: review the changes and approve again."
        )
    else:
        message = (
            f"{changed_by} saved v{current.number} while you were editing (you started from revision "
            f"{base_revision}, it is now at revision {current.revision}). Your changes were not saved; "
            "they are still in the form below next to what changed."
        )
    return DefinitionConflictError(message, current=current, changes=changes, changed_by=changed_by)


# --- proposal and sign-off -------------------------------------------------------


@transaction.atomic
def definition_propose(*, version: DefinitionVersion, actor: User, now: datetime.datetime) -> DefinitionVersion:
    """Put a draft up for sign-off."""
    locked = DefinitionVersion.objects.select_for_update().get(pk=version.pk)
    if locked.state != DefinitionVersion.State.DRAFT:
        raise ApplicationError(
            f"v{locked.number} is {locked.get_state_display().lower()}; only a draft can be proposed.",
            fields={"state": ["Only a draft can be proposed."]},
        )
    if not locked.rules:
        raise ApplicationError(
            "Add at least one rule before proposing.", fields={"rules": ["A definition needs at least one rule."]}
        )
    # Checked again: the sample, the limits or the version may have changed since it was saved.
    _scoreable_check(locked.rules, threshold=locked.threshold, now=now)
    _move(locked, DefinitionVersion.State.PROPOSED, stamp="proposed_at", now=now)
    _event(
        version=locked,
        actor=actor,
        at=now,
        body=f"Proposed v{locked.number} for sign-off by Marketing and Sales.",
        event="proposed",
    )
    return locked


def signoff_status(approvals: list[Approval]) -> dict:
    """Which sides hold live approvals, and whether they add up to sign-off.

    Sign-off needs a Marketing approval and a Sales approval from two different people.
    """
    live = [a for a in approvals if a.withdrawn_at is None]
    marketing = {a.user_id for a in live if a.side == Approval.Side.MARKETING}
    sales = {a.user_id for a in live if a.side == Approval.Side.SALES}
    complete = any(m != s for m in marketing for s in sales)
    return {"marketing": bool(marketing), "sales": bool(sales), "complete": complete}


@transaction.atomic
def definition_approve(
    *, version: DefinitionVersion, actor: User, now: datetime.datetime, revision: int | None = None
) -> Approval:
    """Approve a proposed version for the actor's side; activate it when sign-off is complete.

    `revision` (what the approver looked at) guards against approving rules that were
    edited since; leave it None only where the caller cannot know it.
    """
    side = APPROVAL_SIDE.get(actor.role)
    if side is None:
        raise ApplicationError(
            "Only Marketing and Sales (reps and managers) sign off definitions.",
            fields={"user": ["Your role does not sign off definitions."]},
            status_code=403,
        )
    locked = DefinitionVersion.objects.select_for_update().get(pk=version.pk)
    if locked.state != DefinitionVersion.State.PROPOSED:
        raise ApplicationError(
            f"v{locked.number} is {locked.get_state_display().lower()}; only a proposed version can be approved.",
            fields={"state": ["Only a proposed version can be approved."]},
        )
    if revision is not None and int(revision) != locked.revision:
        raise _conflict(current=locked, base_revision=int(revision), approving=True)
    if Approval.objects.filter(version=locked, user=actor, withdrawn_at__isnull=True).exists():
        raise ApplicationError(
            f"You already approved v{locked.number}.", fields={"user": ["You already approved this revision."]}
        )
    approval = Approval.objects.create(version=locked, user=actor, side=side, revision=locked.revision, created_at=now)
    _event(
        version=locked,
        actor=actor,
        at=now,
        body=f"Approved for {approval.get_side_display()} (revision {locked.revision}).",
        event="approved",
        side=side,
        revision=locked.revision,
    )
    live = list(Approval.objects.filter(version=locked, withdrawn_at__isnull=True))
    if signoff_status(live)["complete"]:
        _activate(version=locked, actor=actor, now=now)
    return approval


def _activate(*, version: DefinitionVersion, actor: User, now: datetime.datetime) -> None:
    # Two sign-offs completing at once would each retire "the" active version and
    # then collide on one_active_definition; the advisory lock makes them take turns,
    # and the second sees the first's result because it reads after the lock.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ACTIVATION_LOCK])
    previous = list(DefinitionVersion.objects.select_for_update().filter(state=DefinitionVersion.State.ACTIVE))
    for old in previous:
        _move(old, DefinitionVersion.State.RETIRED, stamp="retired_at", now=now)
        _event(
            version=old,
            actor=actor,
            at=now,
            body=f"Retired: v{version.number} became the active definition.",
            event="retired",
            replaced_by=version.number,
        )
    _move(version, DefinitionVersion.State.ACTIVE, stamp="activated_at", now=now)
    replaced = ", ".join(f"v{old.number}" for old in previous)
    _event(
        version=version,
        actor=actor,
        at=now,
        body="Signed off by Marketing and Sales: now the active definition"
        + (f" (replaces {replaced})." if replaced else "."),
        event="activated",
        replaced=[old.number for old in previous],
    )
    transaction.on_commit(_enqueue_rescore)


def _enqueue_rescore() -> None:
    from .tasks import rescore_pool  # imported late: the engine's task module

    rescore_pool.delay()


@transaction.atomic
def definition_comment(*, version: DefinitionVersion, actor: User, body: str, now: datetime.datetime) -> Comment:
    text = str(body or "").strip()
    if not text:
        raise ApplicationError("Write something first.", fields={"body": ["The comment is empty."]})
    if len(text) > COMMENT_MAX:
        raise ApplicationError("The comment is too long.", fields={"body": [f"At most {COMMENT_MAX} characters."]})
    return Comment.objects.create(version=version, author=actor, body=text, created_at=now, kind=Comment.Kind.COMMENT)


# --- preview ---------------------------------------------------------------------


@transaction.atomic
def preview_request(*, version: DefinitionVersion, actor: User, now: datetime.datetime) -> Preview:
    """Ask for a preview of `version` against the active one; the work runs in Celery.

    A preview of the same revision already queued or running is reused, so double
    clicks and impatient reloads do not pile up jobs.
    """
    if version.state not in EDITABLE_STATES:
        raise ApplicationError(
            "Previews are for draft and proposed versions.", fields={"state": ["Only draft or proposed."]}
        )
    # A version stored before a check existed (a rule testing an email for a value,
    # issue 16) is refused here with its messages rather than previewed.
    try:
        _rules_clean(version.rules)
    except ApplicationError as exc:
        problems = " ".join(exc.fields.get("rules", []))
        raise ApplicationError(f"Edit v{version.number} before previewing it. {problems}", fields=exc.fields) from exc
    pending = (
        Preview.objects.filter(
            version=version,
            revision=version.revision,
            state__in=[Preview.State.QUEUED, Preview.State.RUNNING],
        )
        .order_by("-created_at")
        .first()
    )
    if pending is not None:
        return pending
    preview = Preview.objects.create(version=version, revision=version.revision, requested_by=actor, created_at=now)
    transaction.on_commit(lambda: _enqueue_preview(preview.pk))
    return preview


def _enqueue_preview(preview_id: int) -> None:
    from .tasks import definition_preview_build

    definition_preview_build.delay(preview_id)


# --- describing and comparing ----------------------------------------------------

RULE_TYPE_LABELS = {"fit": "Fit rule", "behaviour": "Behaviour rule", "gate": "Gate"}
FIELD_LABELS = {
    "type": "type",
    "label": "label",
    "field": "field",
    "op": "operator",
    "value": "value",
    "points": "points",
    "event_kind": "event",
    "min_count": "at least",
    "within_days": "within days",
    "cap": "cap",
    "half_life_days": "half-life (days)",
}
RULE_KEYS = {
    "fit": ("label", "field", "op", "value", "points"),
    "gate": ("label", "field", "op", "value"),
    "behaviour": ("label", "event_kind", "min_count", "within_days", "points", "cap", "half_life_days"),
}


def value_display(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(value_display(v) for v in value)
    return str(value)


def _field_value_display(key: str, value: Any) -> str:
    if key == "op" and value in OPERATORS:
        return OPERATORS[value]
    if key == "event_kind" and value in EVENT_KINDS:
        return value.replace("_", " ")
    return value_display(value)


def rule_describe(rule: dict) -> str:
    """One readable line for a rule, e.g. 'country is one of US, CA: +10'."""
    kind = rule.get("type")
    if kind in ("fit", "gate"):
        op = rule.get("op")
        value = rule.get("value")
        if op == "between" and isinstance(value, (list, tuple)) and len(value) == 2:
            condition_value = f"{value_display(value[0])} and {value_display(value[1])}"
        else:
            condition_value = value_display(value) if value is not None else ""
        field_name = str(rule.get("field") or "").replace("_", " ")
        condition = f"{field_name} {OPERATORS.get(op, op)} {condition_value}".strip()
        if kind == "gate":
            return f"must pass: {condition}"
        points = rule.get("points") or 0
        return f"{condition}: {points:+d}"
    if kind == "behaviour":
        text = (
            f"{str(rule.get('event_kind', '')).replace('_', ' ')} at least {rule.get('min_count')}× "
            f"within {rule.get('within_days')} days: {rule.get('points', 0):+d} each"
        )
        if rule.get("cap") is not None:
            text += f", cap {rule['cap']}"
        if rule.get("half_life_days"):
            text += f", half-life {value_display(rule['half_life_days'])} days"
        return text
    return str(rule)


def _rule_name(rule: dict) -> str:
    label = rule.get("label") or rule_describe(rule)
    return f"{RULE_TYPE_LABELS.get(rule.get('type'), 'Rule')} “{label}”"


def _content(rule: dict) -> tuple:
    return tuple((k, repr(rule.get(k))) for k in ("type",) + RULE_KEYS.get(rule.get("type"), ()) if k != "label")


def _subject(rule: dict) -> tuple:
    return (rule.get("type"), rule.get("field") or rule.get("event_kind"))


def _as_snapshot(side: DefinitionVersion | dict | None) -> dict:
    if side is None:
        return {"title": "", "threshold": None, "rules": []}
    if isinstance(side, DefinitionVersion):
        return _snapshot(side)
    return {"title": side.get("title", ""), "threshold": side.get("threshold"), "rules": side.get("rules") or []}


def definition_diff(a: DefinitionVersion | dict | None, b: DefinitionVersion | dict | None) -> list[dict]:
    """What changes from `a` to `b`, rule by rule, plus threshold and title.

    Rules are matched by id (copies keep ids), then by identical content, then by
    subject (same type and field or event kind); what is left was added or removed.
    Each change: {"change": "added"|"removed"|"changed", "what": "rule"|"threshold"|"title",
    "rule_type", "label", "before", "after", "fields": [{"field", "label", "before", "after"}], "text"}.
    """
    old, new = _as_snapshot(a), _as_snapshot(b)
    changes: list[dict] = []
    if old["title"] != new["title"] and (old["title"] or new["title"]):
        changes.append(
            {
                "change": "changed",
                "what": "title",
                "before": old["title"],
                "after": new["title"],
                "text": f"Title: “{old['title'] or '–'}” → “{new['title'] or '–'}”",
            }
        )
    if old["threshold"] != new["threshold"]:
        changes.append(
            {
                "change": "changed",
                "what": "threshold",
                "before": old["threshold"],
                "after": new["threshold"],
                "text": f"Threshold: {value_display(old['threshold'])} → {value_display(new['threshold'])}",
            }
        )

    old_rules = list(old["rules"])
    new_rules = list(new["rules"])
    pairs: list[tuple[dict, dict]] = []

    def match(key) -> None:
        for o in list(old_rules):
            for n in new_rules:
                if key(o) is not None and key(o) == key(n):
                    pairs.append((o, n))
                    old_rules.remove(o)
                    new_rules.remove(n)
                    break

    match(lambda r: r.get("id"))
    match(_content)
    match(_subject)

    # Keep the order of the newer version, then removed rules in their old order.
    order = {id(r): i for i, r in enumerate(new["rules"])}
    for o, n in sorted(pairs, key=lambda p: order.get(id(p[1]), 0)):
        if o.get("type") != n.get("type"):
            keys: tuple = ("type",) + tuple(
                dict.fromkeys(RULE_KEYS.get(o.get("type"), ()) + RULE_KEYS.get(n.get("type"), ()))
            )
        else:
            keys = RULE_KEYS.get(n.get("type"), ())
        fields = [
            {
                "field": k,
                "label": FIELD_LABELS.get(k, k),
                "before": o.get(k),
                "after": n.get(k),
                "text": f"{FIELD_LABELS.get(k, k)} {_field_value_display(k, o.get(k))} → "
                f"{_field_value_display(k, n.get(k))}",
            }
            for k in keys
            if o.get(k) != n.get(k)
        ]
        if not fields:
            continue
        changes.append(
            {
                "change": "changed",
                "what": "rule",
                "rule_type": n.get("type"),
                "label": n.get("label") or rule_describe(n),
                "before": o,
                "after": n,
                "fields": fields,
                "text": f"{_rule_name(o)} changed: " + "; ".join(f["text"] for f in fields),
            }
        )
    for n in new_rules:
        changes.append(
            {
                "change": "added",
                "what": "rule",
                "rule_type": n.get("type"),
                "label": n.get("label") or rule_describe(n),
                "before": None,
                "after": n,
                "fields": [],
                "text": f"{_rule_name(n)} added: {rule_describe(n)}",
            }
        )
    for o in old_rules:
        changes.append(
            {
                "change": "removed",
                "what": "rule",
                "rule_type": o.get("type"),
                "label": o.get("label") or rule_describe(o),
                "before": o,
                "after": None,
                "fields": [],
                "text": f"{_rule_name(o)} removed: {rule_describe(o)}",
            }
        )
    return changes


def pool_rescore_run_again(*, rescore_id: int) -> bool:
    """ "Run again" on a failed whole-pool rescore: queued afresh, its attempts reset. False unless it failed."""
    return job_run_again(
        PoolRescore, rescore_id, from_states=(PoolRescore.State.FAILED,), fresh={"changed": 0, "promoted": 0}
    )
