"""The cherry-pick index per rep: its figures against an independent computation over the raw rows
(clocks, touches, history, leads), its snapshot on the shared job model, its access per role."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import random

import pytest
from django.urls import reverse

from leads.models import ClockOutcome, FirstContactClock, LeadHistory, Origin, Status, Touch
from reports.analyses import services
from reports.analyses.cherry_pick import OUTCOMES, cherry_pick_compute
from reports.analyses.selectors import analysis_for_user
from reports.models import Analysis
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 30, 12, 0, tzinfo=datetime.UTC)
SINCE, UNTIL = datetime.date(2026, 5, 1), datetime.date(2026, 6, 30)
H = datetime.timedelta(hours=1)
REASONS = ["not_a_fit", "too_early", "no_budget"]


def _clock(lead, rep, team, start, **fields):
    return FirstContactClock.objects.create(
        lead=lead,
        rep=rep,
        team=team,
        stop_on="attempt",
        window_minutes=1440,
        started_at=start,
        due_at=start + 24 * H,
        **fields,
    )


def _touch(lead, rep, at):
    Touch.objects.create(lead=lead, rep=rep, kind="call", outcome="connected", occurred_at=at)


def _random_history(cast, seed: int, *, skipper=None):
    """MQL assignments with every outcome, touches, rejections and rep-sourced prospects, at random."""
    rng = random.Random(seed)
    reps = [(cast.rep, cast.team), (cast.teammate, cast.team), (cast.other_rep, cast.other_team)]
    start0 = datetime.datetime(2026, 4, 20, tzinfo=datetime.UTC)  # some before the period
    for _ in range(90):
        rep, team = rng.choice(reps)
        start = start0 + datetime.timedelta(hours=rng.uniform(0, 24 * 71))
        lead = LeadFactory(status=Status.ASSIGNED, owner=rep, team=team, assigned_at=start, promoted_version=1)
        weights = [5, 1, 3, 1, 1] if rep == skipper else [6, 2, 1, 1, 1]
        kind = rng.choices(["met", "late", "never", "rejected", "reassigned"], weights=weights)[0]
        if start + 24 * H > NOW and kind == "never":
            _clock(lead, rep, team, start)  # open, not due: waiting
        elif kind == "met":
            at = start + rng.uniform(0.1, 23) * H
            _touch(lead, rep, at)
            _clock(lead, rep, team, start, outcome=ClockOutcome.MET, contacted_at=at, ended_at=at)
        elif kind == "late":
            at = start + rng.uniform(25, 150) * H
            if at < NOW:
                _touch(lead, rep, at)
                _clock(lead, rep, team, start, outcome=ClockOutcome.BREACHED, contacted_at=at, ended_at=at)
            else:
                _clock(lead, rep, team, start, outcome=ClockOutcome.BREACHED)
        elif kind == "never":
            _clock(lead, rep, team, start, outcome=ClockOutcome.BREACHED)
        elif kind == "rejected":
            at = start + rng.uniform(1, 90) * H
            reason = rng.choice(REASONS)
            LeadHistory.objects.create(lead=lead, actor=rep, action="rejected", data={"reason": reason}, created_at=at)
            _clock(lead, rep, team, start, outcome=ClockOutcome.CLOSED, ended_at=at)
        else:
            at = start + rng.uniform(1, 20) * H
            _clock(lead, rep, team, start, outcome=ClockOutcome.REASSIGNED, ended_at=at)
            other = cast.teammate if rep == cast.rep else cast.rep
            _clock(lead, other, team, at)
    for _ in range(30):
        rep, team = rng.choice(reps)
        created = start0 + datetime.timedelta(hours=rng.uniform(0, 24 * 70))
        lead = LeadFactory(
            origin=Origin.REP_SOURCED,
            status=Status.CONTACTED,
            owner=rep,
            team=team,
            created_at=created,
            created_while_not_free=rng.random() < 0.4,
        )
        _touch(lead, rep, created + rng.uniform(0, 5) * H)


def _expected(*, team_id=None):
    """The index computed from the raw rows in plain Python."""
    start = datetime.datetime.combine(SINCE, datetime.time(), tzinfo=datetime.UTC)
    end = datetime.datetime.combine(UNTIL + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
    all_clocks = list(FirstContactClock.objects.all())
    touches = list(Touch.objects.all())
    rejections = list(LeadHistory.objects.filter(action="rejected"))

    def first_touch(c, until=None):
        times = [
            t.occurred_at
            for t in touches
            if t.lead_id == c.lead_id
            and t.rep_id == c.rep_id
            and t.occurred_at >= c.started_at
            and (c.ended_at is None or t.occurred_at <= c.ended_at)
        ]
        return min(times) if times else None

    def rejection(c):
        rows = [
            h
            for h in rejections
            if h.lead_id == c.lead_id
            and h.actor_id == c.rep_id
            and h.created_at >= c.started_at
            and (c.ended_at is None or h.created_at <= c.ended_at)
        ]
        return min(rows, key=lambda h: h.created_at) if rows else None

    def outcome(c):
        if c.outcome == "met":
            return "on_time"
        if c.contacted_at is not None:
            return "late"
        if rejection(c):
            return "rejected"
        later = [
            o for o in all_clocks if o.lead_id == c.lead_id and o.started_at > c.started_at and o.rep_id != c.rep_id
        ]
        if c.outcome == "reassigned" or later:
            return "reassigned"
        if c.ended_at is None and c.due_at > NOW:
            return "waiting"
        return "never"

    clocks = [c for c in all_clocks if start <= c.started_at < end and (team_id is None or c.team_id == team_id)]
    reps = {}
    for rep_id, mine in itertools.groupby(sorted(clocks, key=lambda c: c.rep_id), key=lambda c: c.rep_id):
        mine = list(mine)
        row = dict.fromkeys(OUTCOMES, 0) | {"assigned": len(mine), "rejected_by_reason": {}}
        ordered = []
        for c in mine:
            o = outcome(c)
            row[o] += 1
            if o == "rejected":
                reason = rejection(c).data["reason"]
                row["rejected_by_reason"][reason] = row["rejected_by_reason"].get(reason, 0) + 1
            if o in ("on_time", "late", "rejected", "never"):
                handled = [x for x in (first_touch(c), rejection(c) and rejection(c).created_at) if x]
                ordered.append((c.started_at, min(handled) if handled else None))
        pairs = discordant = 0
        for (sa, ha), (sb, hb) in itertools.permutations(ordered, 2):
            if sa < sb:
                pairs += 1
                inf = datetime.datetime.max.replace(tzinfo=datetime.UTC)
                discordant += (ha or inf) > (hb or inf)
        row |= {"pairs": pairs, "discordant": discordant}
        met = sum(c.outcome == "met" for c in mine)
        came_due = sum(c.outcome in ("met", "breached") or (c.outcome == "" and c.due_at <= NOW) for c in mine)
        row |= {"sla_met": met, "sla_came_due": came_due}
        reps[rep_id] = row
    from leads.models import Lead

    for lead in Lead.objects.filter(origin=Origin.REP_SOURCED):
        if team_id is not None and lead.team_id != team_id:
            continue
        row = reps.setdefault(
            lead.owner_id,
            dict.fromkeys(OUTCOMES, 0)
            | {"assigned": 0, "rejected_by_reason": {}, "pairs": 0, "discordant": 0}
            | {"sla_met": 0, "sla_came_due": 0},
        )
        row.setdefault("sourced", 0)
        row.setdefault("sourced_not_free", 0)
        row.setdefault("sourced_while_waiting", 0)
        if start <= lead.created_at < end:
            row["sourced"] += 1
            row["sourced_not_free"] += lead.created_while_not_free
        t = min(x.occurred_at for x in touches if x.lead_id == lead.id and x.rep_id == lead.owner_id)
        if start <= t < end:
            waiting = False
            for c in all_clocks:
                if c.rep_id != lead.owner_id or not (c.started_at < t and (c.ended_at is None or c.ended_at > t)):
                    continue
                touched = any(
                    x.lead_id == c.lead_id and x.rep_id == c.rep_id and c.started_at <= x.occurred_at <= t
                    for x in touches
                )
                rejected = any(
                    h.lead_id == c.lead_id and h.actor_id == c.rep_id and c.started_at <= h.created_at <= t
                    for h in rejections
                )
                waiting = waiting or not (touched or rejected)
            row["sourced_while_waiting"] += waiting
    for row in reps.values():
        for key in ("sourced", "sourced_not_free", "sourced_while_waiting"):
            row.setdefault(key, 0)
    return reps


KEYS = ("assigned", *OUTCOMES, "pairs", "discordant", "rejected_by_reason", "sla_met", "sla_came_due")
KEYS += ("sourced", "sourced_not_free", "sourced_while_waiting")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_index_equals_an_independent_computation_over_the_raw_rows(cast, seed):
    _random_history(cast, seed, skipper=cast.teammate)
    data = cherry_pick_compute(since=SINCE, until=UNTIL, team_id=None, now=NOW)
    expected = _expected()
    got = {r["rep_id"]: {k: r[k] for k in KEYS} for r in data["reps"]}
    assert got == {rep: {k: row[k] for k in KEYS} for rep, row in expected.items()}
    for r in data["reps"]:
        assert r["out_of_order"] == (r["discordant"] / r["pairs"] if r["pairs"] else None)
        assert sum(w["pairs"] for w in r["weeks"].values()) == r["pairs"]  # the weeks add up
        assert sum(w["assigned"] for w in r["weeks"].values()) == r["assigned"]
    assert data["total"]["assigned"] == sum(r["assigned"] for r in expected.values())
    assert sum(w["never"] for w in data["weeks"].values()) == data["total"]["never"]
    # One team: only its clocks and its prospects.
    team = cherry_pick_compute(since=SINCE, until=UNTIL, team_id=cast.team.id, now=NOW)
    got = {r["rep_id"]: {k: r[k] for k in KEYS} for r in team["reps"]}
    assert got == {rep: {k: row[k] for k in KEYS} for rep, row in _expected(team_id=cast.team.id).items()}


def test_a_rep_who_skips_tops_the_index_and_kendall_counts_skips_as_out_of_order(cast):
    base = datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC)
    # rep: three MQLs touched in the order assigned. teammate: skips the first, touches the next two.
    for rep in (cast.rep, cast.teammate):
        for i in range(3):
            lead = LeadFactory(status=Status.ASSIGNED, owner=rep, team=cast.team, promoted_version=1)
            start = base + i * H
            if rep == cast.teammate and i == 0:
                _clock(lead, rep, cast.team, start, outcome=ClockOutcome.BREACHED)
                continue
            at = start + 2 * H
            _touch(lead, rep, at)
            _clock(lead, rep, cast.team, start, outcome=ClockOutcome.MET, contacted_at=at, ended_at=at)
    data = cherry_pick_compute(since=SINCE, until=UNTIL, team_id=cast.team.id, now=NOW)
    top, second = data["reps"]
    assert (top["username"], top["pairs"], top["discordant"], top["never"]) == ("rep2", 3, 2, 1)
    assert (second["username"], second["out_of_order"]) == ("rep1", 0.0)
    assert top["sla_compliance"] == pytest.approx(2 / 3)


def _built(cast, *, team, actor=None):
    analysis = services.analysis_request(
        kind=Analysis.Kind.CHERRY_PICK, since=SINCE, until=UNTIL, team_id=team.id if team else None, actor=actor
    )
    return services.analysis_build(analysis_id=analysis.pk, now=NOW)


def test_a_snapshot_is_a_job_sent_on_commit_built_once_and_stored(cast, django_capture_on_commit_callbacks):
    _random_history(cast, 4)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        analysis = services.analysis_request(
            kind=Analysis.Kind.CHERRY_PICK, since=SINCE, until=UNTIL, team_id=None, actor=cast.marketer
        )
    assert len(callbacks) == 1 and analysis.state == Analysis.State.QUEUED
    again = services.analysis_request(
        kind=Analysis.Kind.CHERRY_PICK, since=SINCE, until=UNTIL, team_id=None, actor=cast.marketer
    )
    assert again.pk == analysis.pk  # the same parameters queued are reused
    built = services.analysis_build(analysis_id=analysis.pk, now=NOW)
    assert built.state == Analysis.State.DONE and built.data["reps"]
    assert services.analysis_build(analysis_id=analysis.pk, now=NOW) is None  # a second delivery does nothing
    ids = services.analyses_nightly(now=NOW)
    assert Analysis.objects.filter(pk__in=ids, nightly=True).count() == 3 * 3  # 3 kinds x (everyone + 2 teams)


def test_reps_see_their_own_row_and_the_team_aggregate_managers_their_team(cast, client):
    _random_history(cast, 5)
    east = _built(cast, team=cast.team)
    everyone = _built(cast, team=None)
    rep_view = analysis_for_user(analysis=east, user=cast.rep)
    assert [r["username"] for r in rep_view["reps"]] == ["rep1"]
    assert rep_view["total"]["assigned"] == east.data["total"]["assigned"]
    assert {r["username"] for r in analysis_for_user(analysis=east, user=cast.manager)["reps"]} >= {"rep1", "rep2"}
    assert len(analysis_for_user(analysis=everyone, user=cast.marketer)["reps"]) == len(everyone.data["reps"])

    client.force_login(cast.rep)
    page = client.get(reverse("reports:analysis_detail", args=[east.pk]))
    assert page.status_code == 200 and b'data-rep="rep2"' not in page.content and b'data-rep="rep1"' in page.content
    assert client.get(reverse("reports:analysis_detail", args=[everyone.pk])).status_code == 404
    teammate = next(r for r in east.data["reps"] if r["username"] == "rep2")
    drill = reverse("reports:analysis_leads", args=[east.pk, teammate["rep_id"], "never"])
    assert client.get(drill).status_code == 404
    client.force_login(cast.other_rep)
    assert client.get(reverse("reports:analysis_detail", args=[east.pk])).status_code == 404
    client.force_login(cast.manager)
    response = client.post(
        reverse("reports:analysis_build", args=["cherry_pick"]), {"since": "2026-05-01", "until": "2026-06-30"}
    )
    assert response.status_code == 400  # a manager must choose one of their teams
    response = client.post(
        reverse("reports:analysis_build", args=["cherry_pick"]),
        {"since": "2026-06-30", "until": "2026-05-01", "team": cast.team.id},
    )
    assert response.status_code == 400 and "The period ends before it starts." in response.content.decode()


def test_the_drill_down_lists_the_mqls_a_rep_skipped(cast, client):
    _random_history(cast, 6, skipper=cast.teammate)
    east = _built(cast, team=cast.team)
    teammate = next(r for r in east.data["reps"] if r["username"] == "rep2")
    expected = {
        c.lead_id
        for c in FirstContactClock.objects.filter(rep=cast.teammate, team=cast.team)
        if c.contacted_at is None
        and c.started_at.date() >= SINCE
        and (c.outcome == "breached" or (c.outcome == "" and c.due_at <= NOW))
    }
    client.force_login(cast.manager)
    page = client.get(reverse("reports:analysis_leads", args=[east.pk, teammate["rep_id"], "never"]))
    assert page.status_code == 200
    shown = {lead.pk for lead in page.context["leads"]}
    assert shown == expected and len(shown) == teammate["never"]


def test_csv_and_api_serve_the_same_figures(cast, client):
    _random_history(cast, 7)
    east = _built(cast, team=cast.team)
    client.force_login(cast.manager)
    response = client.get(reverse("reports:analysis_export", args=[east.pk]))
    lines = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_rep = {line["rep"]: line for line in lines}
    for r in east.data["reps"]:
        assert int(by_rep[r["username"]]["never"]) == r["never"]
        assert int(by_rep[r["username"]]["discordant"]) == r["discordant"]
    assert int(by_rep["(all)"]["assigned"]) == east.data["total"]["assigned"]
    api = client.get(reverse("api-analysis-detail", args=[east.pk])).json()
    assert (
        api["kind"] == "cherry_pick"
        and api["data"]["reps"] == analysis_for_user(analysis=east, user=cast.manager)["reps"]
    )
    bad = client.post(
        reverse("api-analyses"), {"kind": "cherry_pick", "since": "2026-05-01"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "until" in bad.json()["fields"]


def test_pages_make_a_fixed_number_of_queries(cast, client, django_assert_max_num_queries):
    _random_history(cast, 8)
    east = _built(cast, team=cast.team)
    client.force_login(cast.manager)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("reports:analysis_detail", args=[east.pk])).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("reports:cherry_pick")).status_code == 200
    teammate = next(r for r in east.data["reps"] if r["username"] == "rep2")
    with django_assert_max_num_queries(8):
        page = client.get(reverse("reports:analysis_leads", args=[east.pk, teammate["rep_id"], "never"]))
        assert page.status_code == 200
