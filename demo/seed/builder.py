"""The generator: a lead and its children planned in memory (a Plan), before ids exist."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import User
from demo.seed.cast import EAST, WEST, Cast, Person
from demo.seed.constants import DAY, DEMO_PREFIX, HISTORY_DAYS, HOUR, LIVE_PREFIX, MINUTE, SLA_HOURS
from demo.seed.definition import (
    EAST_COUNTRIES,
    OTHER_INDUSTRIES,
    PERSONAL_DOMAINS,
    SERVED_COUNTRIES,
    TARGET_INDUSTRIES,
    UNSERVED_COUNTRIES,
)
from demo.seed.names import (
    CAMPAIGNS,
    COMPANY_PREFIXES,
    COMPANY_SUFFIXES,
    FIRST_NAMES,
    LAST_NAMES,
    LOST_REASONS,
    QUALIFIED_TITLES,
    SOURCES,
    STREET_TITLES,
)
from leads import history
from leads.models import (
    EventKind,
    Lead,
    LeadScore,
    Origin,
    RejectReason,
    RepSourceChannel,
    Status,
    Touch,
    TouchKind,
    TouchOutcome,
)
from scoring.legend import lead_score_from_result
from scoring.rules import Definition

# --- Plans: a lead and its children, before ids exist ------------------------------


@dataclass
class Plan:
    lead: Lead
    events: list[tuple[str, datetime.datetime]] = field(default_factory=list)
    touches: list[Touch] = field(default_factory=list)
    history: list[tuple[history.Entry, datetime.datetime, int | None]] = field(default_factory=list)
    # The first-contact clock of the lead's assignment: rep, team, started_at, due_at, and
    # contacted_at or closed_at once it stopped (demo.seed.writer makes the row and its events).
    clock: dict | None = None
    score: LeadScore | None = None  # its lead_id is set once the lead is written

    def note(self, entry: history.Entry, at: datetime.datetime, actor_id: int | None = None) -> None:
        self.history.append((entry, at, actor_id))


# --- Scoring ------------------------------------------------------------------------


def _score(lead: Lead, events: list[tuple[str, datetime.datetime]], definition: Definition, at: datetime.datetime):
    """Score through the scoring engine (scoring.engine), as the product would."""
    from scoring.engine import LeadFacts, evaluate

    facts = LeadFacts.of(
        events=[(kind, when) for kind, when in events if when <= at],
        email=lead.email,
        title=lead.title,
        company=lead.company,
        industry=lead.industry,
        company_size=lead.company_size,
        country=lead.country,
        source=lead.source,
        campaign=lead.campaign,
    )
    return evaluate(facts, definition, at)


def _apply_score(plan: Plan, result, definition: Definition, at: datetime.datetime) -> None:
    """The lead's stored score (a LeadScore row, compact as scoring writes it), replacing any earlier one."""
    plan.score = lead_score_from_result(result, definition, at=at)


# --- The generator -----------------------------------------------------------------------


class Builder:
    def __init__(self, *, rng: random.Random, cast: Cast, definition: Definition, anchor, now):
        self.rng = rng
        self.cast = cast
        self.definition = definition
        self.anchor = anchor
        self.now = now
        self.start = anchor - datetime.timedelta(days=HISTORY_DAYS)
        self.emails: set[str] = set()
        self.serial = 0

    # -- small helpers
    def _days(self, low: float, high: float) -> datetime.timedelta:
        return datetime.timedelta(seconds=self.rng.uniform(low, high) * 86400)

    def _daytime(self, day: datetime.datetime) -> datetime.datetime:
        """A moment in the field's working day (13:30-23:30 UTC covers US and EU office hours)."""
        midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + datetime.timedelta(seconds=self.rng.randint(13 * 3600 + 1800, 23 * 3600 + 1800))

    def _external_id(self, prefix: str = DEMO_PREFIX) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:05d}"

    def _person(self, *, qualified: bool, personal_email: bool = False) -> dict:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        prefix, suffix = rng.choice(COMPANY_PREFIXES), rng.choice(COMPANY_SUFFIXES)
        company = f"{prefix} {suffix}"
        domain = rng.choice(PERSONAL_DOMAINS) if personal_email else f"{prefix}{suffix}.com".lower()
        local = f"{first}.{last}".lower()
        email = f"{local}@{domain}"
        n = 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        if qualified:
            industry = rng.choice(TARGET_INDUSTRIES)
            size = rng.choice([rng.randint(50, 500), rng.randint(200, 5000)])
            title = rng.choice(QUALIFIED_TITLES)
            country = rng.choices(SERVED_COUNTRIES, weights=[45, 10, 15, 10, 5, 5, 3, 3, 4])[0]
        else:
            industry = rng.choice(TARGET_INDUSTRIES + OTHER_INDUSTRIES)
            size = rng.choice([rng.randint(1, 49), rng.randint(50, 5000), rng.randint(5001, 40000), None])
            title = rng.choice(STREET_TITLES)
            country = rng.choice(SERVED_COUNTRIES + SERVED_COUNTRIES + UNSERVED_COUNTRIES)
        return {
            "email": email,
            "first_name": first,
            "last_name": last,
            "company": company,
            "industry": industry,
            "company_size": size,
            "title": title,
            "country": country,
            "website": f"https://{prefix}{suffix}.com".lower(),
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        }

    def _marketing_lead(
        self, *, created: datetime.datetime, qualified: bool, personal_email: bool = False, prefix: str = DEMO_PREFIX
    ) -> Lead:
        fields = self._person(qualified=qualified, personal_email=personal_email)
        return Lead(
            external_id=self._external_id(prefix),
            origin=Origin.MARKETING,
            source=self.rng.choice(SOURCES),
            campaign=self.rng.choice(CAMPAIGNS),
            created_at=created,
            status=Status.NURTURE,
            **fields,
        )

    def _events(
        self, plan: Plan, *, since: datetime.datetime, until: datetime.datetime, mix: dict[str, int], extra: int
    ) -> None:
        """`mix` events of each kind plus `extra` page views and email clicks between since and until."""
        span = max((until - since).total_seconds(), 3600.0)
        for kind, count in mix.items():
            for _ in range(count):
                plan.events.append((kind, since + datetime.timedelta(seconds=self.rng.uniform(0, span))))
        for _ in range(extra):
            kind = EventKind.PAGE_VIEW if self.rng.random() < 0.7 else EventKind.EMAIL_CLICK
            plan.events.append((kind, since + datetime.timedelta(seconds=self.rng.uniform(0, span))))
        plan.events.sort(key=lambda e: e[1])

    def _pick_rep(self, team: str, at: datetime.datetime) -> tuple[User, Person]:
        reps = self.cast.reps_by_team[team]
        # The rep on leave got nothing in the last fortnight; rep1's recent leads are the live ones.
        reps = [
            (u, p)
            for u, p in reps
            if not (p.out_of_office and at > self.anchor - 14 * DAY) and not (p.model and at > self.anchor - 5 * DAY)
        ]
        return self.rng.choices(reps, weights=[p.routing_weight for _, p in reps])[0]

    def _touch(self, plan: Plan, rep: User, at: datetime.datetime, *, cold: bool, first: bool = False) -> None:
        rng = self.rng
        if cold:
            kind = rng.choices([TouchKind.CALL, TouchKind.EMAIL, TouchKind.SOCIAL], weights=[75, 15, 10])[0]
        elif first:
            kind = rng.choices([TouchKind.CALL, TouchKind.EMAIL], weights=[60, 40])[0]
        else:
            kind = rng.choices([TouchKind.CALL, TouchKind.EMAIL, TouchKind.MEETING], weights=[35, 40, 25])[0]
        if kind == TouchKind.CALL:
            connect = 0.15 if cold else 0.45
            outcome = rng.choices(
                [TouchOutcome.CONNECTED, TouchOutcome.LEFT_VOICEMAIL, TouchOutcome.NO_ANSWER],
                weights=[connect, 0.3, 0.7 - connect],
            )[0]
        elif kind == TouchKind.MEETING:
            outcome = rng.choice([TouchOutcome.CONNECTED, TouchOutcome.MEETING_BOOKED])
        else:
            outcome = TouchOutcome.REPLIED if rng.random() < (0.12 if cold else 0.35) else TouchOutcome.SENT
        plan.touches.append(Touch(rep=rep, kind=kind, outcome=outcome, occurred_at=at))

    # -- the sales part of a lead's life, truncated at the anchor (or live clock)
    def _work(
        self,
        plan: Plan,
        rep: User,
        *,
        first_contact: datetime.datetime,
        touches: int,
        cycle_days: float,
        won: bool,
        cold: bool,
        until: datetime.datetime,
    ) -> None:
        rng, lead = self.rng, plan.lead
        closed = first_contact + datetime.timedelta(days=cycle_days)
        times = [first_contact]
        if touches > 1:
            between = sorted(
                self._daytime(first_contact + (closed - first_contact) * rng.random()) for _ in range(touches - 2)
            )
            times += [min(max(t, first_contact + HOUR), closed - HOUR) for t in between]
            times.append(closed - datetime.timedelta(hours=rng.uniform(1, 20)))
        value = Decimal(round(rng.lognormvariate(10.0 if not cold else 9.8, 0.5), -2))
        stages: list[tuple[str, datetime.datetime]] = [(Status.CONTACTED, first_contact)]
        stages.append((Status.WORKING, times[1] if len(times) > 1 else first_contact + HOUR))
        if won or rng.random() < 0.4:
            stages.append((Status.OPPORTUNITY, first_contact + (closed - first_contact) * 0.6))
        stages.append((Status.WON if won else Status.LOST, closed))

        kept = [t for t in times if t <= until]
        for i, at in enumerate(kept):
            self._touch(plan, rep, at, cold=cold, first=i == 0)
        lead.touch_count = len(kept)
        if kept:
            lead.first_contact_at = first_contact
            due = lead.sla_due_at
            lead.sla_due_at = None
            if plan.clock is not None:
                plan.clock["contacted_at"] = first_contact
            first_touch = plan.touches[-len(kept)]
            entry = history.first_contact(
                at=first_contact,
                kind=first_touch.kind,
                kind_label=first_touch.get_kind_display(),
                outcome_label=first_touch.get_outcome_display(),
                sla_due_at=due.isoformat() if due else None,
                within_sla=None if due is None else first_contact <= due,
            )
            plan.note(entry, first_contact, rep.id)
        previous = lead.status
        for status, at in stages:
            if at > until:
                break
            note = ""
            if status == Status.LOST:
                lead.lost_reason = rng.choice(LOST_REASONS)
                note = lead.lost_reason
            if status in (Status.OPPORTUNITY, Status.WON):
                lead.deal_value = value
            plan.note(history.status_changed(old=previous, new=status, note=note), at, rep.id)
            previous = status
            lead.status = status
            if status in (Status.WON, Status.LOST):
                lead.closed_at = at
        activity = kept + [at for _, at in plan.events]
        lead.last_activity_at = max(activity) if activity else lead.created_at

    # -- the three populations
    def nurture_lead(self) -> Plan:
        rng = self.rng
        created = self.start + self._days(0, HISTORY_DAYS - 0.1)
        lead = self._marketing_lead(created=created, qualified=rng.random() < 0.35, personal_email=rng.random() < 0.15)
        plan = Plan(lead)
        mix = {
            EventKind.CONTENT_DOWNLOAD: rng.choice([0, 0, 1, 1, 2]),
            EventKind.WEBINAR_ATTENDED: rng.choice([0, 0, 0, 1]),
            EventKind.PRICING_PAGE_VIEW: rng.choice([0, 0, 0, 1]),
            EventKind.FORM_SUBMISSION: rng.choice([0, 0, 1]),
            EventKind.DEMO_REQUEST: 1 if rng.random() < 0.03 else 0,
        }
        self._events(plan, since=created, until=self.anchor, mix=mix, extra=rng.randint(1, 11))
        plan.note(history.created(note=f"From {lead.source}", source=lead.source), created)
        lead.last_activity_at = plan.events[-1][1] if plan.events else created
        result = _score(lead, plan.events, self.definition, self.anchor)
        if result.qualifies:
            # It would have been promoted already: keep it in the pool with a personal address.
            local = lead.email.split("@")[0]
            lead.email = f"{local}.{lead.external_id}@gmail.com"
            result = _score(lead, plan.events, self.definition, self.anchor)
        if rng.random() < 0.85:  # the rest arrived since the last rescore
            _apply_score(plan, result, self.definition, self.anchor)
        return plan

    def qualified_lead(
        self, *, live_due: datetime.timedelta | None = None, live_rep: str = "rep1", queued: str | None = None
    ) -> Plan:
        """A marketing lead that met the definition, was promoted and (usually) routed."""
        rng = self.rng
        live = live_due is not None or queued is not None
        if live:
            promoted = self.now - (SLA_HOURS * HOUR - live_due) if live_due is not None else self.now
            promoted -= datetime.timedelta(minutes=rng.randint(3, 40))
        else:
            promoted = self.anchor - self._days(0.05, HISTORY_DAYS - 8)
        created = max(self.start, promoted - self._days(3, 40))
        lead = self._marketing_lead(created=created, qualified=True, prefix=LIVE_PREFIX if live else DEMO_PREFIX)
        if live:
            if live_due is not None or queued == EAST:
                lead.country = "US"  # rep1's, rep4's and East's queue: routed to East by rule
            elif queued == WEST:
                lead.country = "GB"
        plan = Plan(lead)
        # The behaviour that qualified it, ending with the event that tipped it over.
        if rng.random() < 0.65:
            mix, trigger = {EventKind.PRICING_PAGE_VIEW: rng.randint(0, 3)}, EventKind.DEMO_REQUEST
        else:
            mix = {EventKind.PRICING_PAGE_VIEW: rng.randint(1, 3), EventKind.CONTENT_DOWNLOAD: rng.randint(1, 3)}
            trigger = EventKind.WEBINAR_ATTENDED
        mix[EventKind.CONTENT_DOWNLOAD] = mix.get(EventKind.CONTENT_DOWNLOAD, 0) + rng.randint(0, 2)
        self._events(
            plan, since=max(created, promoted - 25 * DAY), until=promoted - HOUR, mix=mix, extra=rng.randint(5, 16)
        )
        plan.events.append((trigger, promoted - datetime.timedelta(minutes=rng.randint(1, 50))))
        result = _score(lead, plan.events, self.definition, promoted)
        if not result.qualifies:
            # A lead without the VP/Director title: one more demo request tips it over.
            plan.events.append((EventKind.DEMO_REQUEST, promoted - 2 * MINUTE))
            result = _score(lead, plan.events, self.definition, promoted)
        _apply_score(plan, result, self.definition, promoted)
        lead.promoted_at = promoted
        lead.promoted_version = result.version
        lead.promotion_explanation = result.explanation()
        plan.note(history.created(note=f"From {lead.source}", source=lead.source), created)
        entry = history.promoted(
            version=result.version,
            score=result.total,
            threshold=result.threshold,
            explanation=lead.promotion_explanation,
        )
        plan.note(entry, promoted)
        team_name = EAST if lead.country in EAST_COUNTRIES else WEST
        lead.team = self.cast.teams[team_name]
        lead.status = Status.QUEUED
        lead.last_activity_at = plan.events[-1][1]
        if queued is not None:
            return plan  # waiting in the team's unassigned queue for the router

        if live_due is not None:
            rep, person = self.cast.users[live_rep], None
            assigned = self.now - (SLA_HOURS * HOUR - live_due)
        else:
            rep, person = self._pick_rep(team_name, promoted)
            assigned = promoted + datetime.timedelta(minutes=rng.randint(1, 30))
            if rng.random() < 0.1:  # promoted out of hours: waited in the team queue overnight
                assigned += datetime.timedelta(hours=rng.uniform(4, 14))
        lead.owner, lead.team, lead.assigned_at = rep, self.cast.teams[team_name], assigned
        lead.status = Status.ASSIGNED
        lead.sla_due_at = assigned + SLA_HOURS * HOUR
        plan.clock = {"rep": rep, "team": lead.team, "started_at": assigned, "due_at": lead.sla_due_at}
        entry = history.assigned(
            owner=rep,
            note="Routed by rule" if team_name == EAST else "Routed to the fallback team",
            team_id=lead.team.id,
            sla_due_at=lead.sla_due_at.isoformat(),
        )
        plan.note(entry, assigned)
        if live_due is not None:
            return plan  # rep1's live queue: assigned, not contacted yet

        skipper = person.skips
        roll = rng.random()
        if person.model and roll < 0.13:
            roll = 0.5  # the showcase rep neither skips nor calls late
        if skipper and roll < 0.22 or (not skipper and roll < 0.01):
            # Never contacted: the clock ran out long ago and nobody called.
            return plan
        if skipper and roll < 0.36 or (not skipper and roll < 0.045):
            self._reject(plan, rep)
            return plan
        late = (skipper and roll < 0.66) or (not skipper and roll < 0.13)
        if late:
            delay = datetime.timedelta(hours=rng.uniform(SLA_HOURS + 1, SLA_HOURS * (8 if skipper else 3)))
        else:
            delay = datetime.timedelta(hours=rng.choice([rng.uniform(0.1, 3), rng.uniform(0.5, 20)]))
        first_contact = assigned + delay
        won = rng.random() < (0.14 if late else 0.34)
        touches = rng.choice([3, 4, 4, 5, 5, 5, 6, 6, 7, 8]) if won else rng.randint(2, 8)
        cycle = rng.uniform(14, 38) if won else rng.uniform(6, 32)
        if first_contact > self.anchor:
            return plan  # not contacted yet
        self._work(
            plan,
            rep,
            first_contact=first_contact,
            touches=touches,
            cycle_days=cycle,
            won=won,
            cold=False,
            until=self.anchor,
        )
        return plan

    def _reject(self, plan: Plan, rep: User) -> None:
        rng, lead = self.rng, plan.lead
        at = lead.assigned_at + datetime.timedelta(hours=rng.uniform(0.5, 96))
        if at > self.anchor:
            return
        reason = rng.choices(
            [RejectReason.NOT_A_FIT, RejectReason.TOO_EARLY, RejectReason.NO_BUDGET, RejectReason.BAD_DATA],
            weights=[40, 30, 20, 10],
        )[0]
        note = rng.choice(["", "Not a buyer, just researching.", "Student project.", "Wrong contact, no budget."])
        entry = history.rejected(
            old=lead.status,
            note=note,
            reason=reason,
            version=lead.promoted_version,
            owner_id=rep.id,
            team_id=lead.team.id,
            assigned_at=lead.assigned_at.isoformat(),
            first_contact_at=None,
        )
        plan.note(entry, at, rep.id)
        plan.clock["closed_at"] = at
        lead.status = Status.NURTURE
        lead.owner = lead.team = lead.sla_due_at = lead.assigned_at = None
        lead.rejected_at, lead.rejected_by, lead.reject_reason, lead.reject_note = at, rep, reason, note
        lead.rejected_version = lead.promoted_version
        lead.recycled_count = 1
        lead.last_activity_at = at
        # Back in the pool it is scored like any pool lead; it qualifies again only after new activity.
        _apply_score(plan, _score(lead, plan.events, self.definition, self.anchor), self.definition, self.anchor)

    def rep_sourced_lead(self, reps: list[tuple[User, Person]]) -> Plan:
        rng = self.rng
        rep, person = rng.choices(reps, weights=[p.prospecting for _, p in reps])[0]
        created = self._daytime(self.start + self._days(0, HISTORY_DAYS - 1))
        if created > self.anchor:
            created -= DAY
        fields = self._person(qualified=rng.random() < 0.3)
        channel = rng.choices(
            [RepSourceChannel.COLD_CALL, RepSourceChannel.SOCIAL, RepSourceChannel.REFERRAL, RepSourceChannel.EVENT],
            weights=[70, 12, 10, 8],
        )[0]
        team = self.cast.teams[person.team]
        lead = Lead(
            external_id=self._external_id(),
            origin=Origin.REP_SOURCED,
            rep_source_channel=channel,
            source="rep_sourced",
            created_at=created,
            assigned_at=created,
            status=Status.ASSIGNED,
            owner=rep,
            team=team,
            **fields,
        )
        plan = Plan(lead)
        label = RepSourceChannel(channel).label.lower()
        plan.note(
            history.created(note=f"Rep-sourced ({label})", origin=Origin.REP_SOURCED, channel=channel), created, rep.id
        )
        plan.note(history.assigned(owner=rep, team_id=team.id, sla=False), created, rep.id)
        won = rng.random() < 0.13
        touches = rng.randint(18, 33) if won else rng.randint(14, 36)
        cycle = rng.uniform(55, 125) if won else rng.uniform(25, 110)
        self._work(
            plan, rep, first_contact=created, touches=touches, cycle_days=cycle, won=won, cold=True, until=self.anchor
        )
        return plan

    def build(self, *, total: int) -> list[Plan]:
        # rep1 keeps every promise (free to cold-call) with four leads due soon; rep4 has one overdue,
        # one whose deadline passes two minutes after the seed and one whose second warning (90% of
        # 24 h) comes three minutes after it: a newcomer sees the bell ring and the dashboard move.
        live_dues = [("rep1", due) for due in (45 * MINUTE, 3 * HOUR, 7 * HOUR, 20 * HOUR)]
        live_dues += [("rep4", -2 * HOUR), ("rep4", 2 * MINUTE), ("rep4", SLA_HOURS * HOUR / 10 + 3 * MINUTE)]
        queued = [EAST, EAST, WEST, WEST]
        pool = round(total * 0.49)
        rep_sourced = round(total * 0.2)
        qualified = total - pool - rep_sourced - len(live_dues) - len(queued)
        all_reps = self.cast.reps_by_team[EAST] + self.cast.reps_by_team[WEST]
        plans = [self.nurture_lead() for _ in range(pool)]
        plans += [self.qualified_lead() for _ in range(qualified)]
        plans += [self.rep_sourced_lead(all_reps) for _ in range(rep_sourced)]
        plans += [self.qualified_lead(live_due=due, live_rep=rep) for rep, due in live_dues]
        plans += [self.qualified_lead(queued=team) for team in queued]
        return plans
