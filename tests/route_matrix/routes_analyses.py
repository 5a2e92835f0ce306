"""The cherry-pick index, credit and cycle-length pages (reports.analyses): every role may open them; a snapshot of
a team is seen by marketing, admins, the team's manager and its reps (404 for another team's rep);
sales build only for their own team; a rep drills down only into their own row."""

import datetime

from reports.models import Analysis

from . import Route

ANON, API_ANON = 302, 401


def _expect(status: int, *, other_rep: int | None = None, anonymous: int = ANON) -> dict[str, int]:
    return {
        "anonymous": anonymous,
        "marketer": status,
        "rep": status,
        "other_rep": status if other_rep is None else other_rep,
        "manager": status,
        "admin": status,
    }


def _analysis(leads, kind=Analysis.Kind.CHERRY_PICK) -> dict:
    """A done snapshot of the cast's team (East)."""
    team_id = leads.rep_owned.team_id
    day = datetime.date(2026, 1, 1)
    analysis = Analysis.objects.create(
        kind=kind, team_id=team_id, period_start=day, period_end=day, state="done", data={"reps": [], "total": {}}
    )
    return {"analysis_id": analysis.pk}


def _credit(leads) -> dict:
    return _analysis(leads, Analysis.Kind.CREDIT)


def _cycle(leads) -> dict:
    return _analysis(leads, Analysis.Kind.CYCLE)


def _drill(leads) -> dict:
    return _analysis(leads) | {"rep_id": leads.rep_owned.owner_id, "outcome": "never"}


def built(leads, kwargs, user):
    assert Analysis.objects.filter(requested_by=user).exists()


PERIOD = {"since": "2026-01-01", "until": "2026-03-31"}
# Without a team: marketing and admins build for everyone; sales must choose one of their teams (400).
MARKETING_BUILDS = {"anonymous": ANON, "marketer": 302, "rep": 400, "other_rep": 400, "manager": 400, "admin": 302}

ROUTES = [
    Route("reports:cherry_pick", _expect(200)),
    Route("reports:credit", _expect(200)),
    Route("reports:cycle", _expect(200)),
    Route("reports:analysis_detail", _expect(200, other_rep=404), kwargs=_cycle),
    Route("reports:analysis_export", _expect(200, other_rep=404), kwargs=_cycle),
    Route("reports:cycle_bin_leads", _expect(200, other_rep=404), kwargs=lambda leads: _cycle(leads) | {"bin": 0}),
    Route(
        "reports:cycle_leads",
        _expect(200, other_rep=404),
        kwargs=lambda leads: _cycle(leads) | {"by": "origin", "key": "mql", "month": "2026-01"},
    ),
    Route("reports:analysis_detail", _expect(200, other_rep=404), kwargs=_analysis),
    Route("reports:analysis_detail", _expect(200, other_rep=404), kwargs=_credit),
    Route("reports:analysis_status", _expect(200, other_rep=404), kwargs=_analysis),
    Route("reports:analysis_export", _expect(200, other_rep=404), kwargs=_analysis),
    Route("reports:analysis_export", _expect(200, other_rep=404), kwargs=_credit),
    Route("reports:analysis_leads", _expect(200, other_rep=404), kwargs=_drill),
    Route("reports:analysis_build", _expect(405), kwargs=lambda leads: {"kind": "cherry_pick"}),  # GET never builds
    Route(
        "reports:analysis_build",
        MARKETING_BUILDS,
        method="post",
        kwargs=lambda leads: {"kind": "cherry_pick"},
        data=PERIOD,
        effect=built,
    ),
    Route(
        "reports:analysis_build",
        MARKETING_BUILDS,
        method="post",
        kwargs=lambda leads: {"kind": "credit"},
        data=PERIOD,
        effect=built,
    ),
    Route("api-analyses", _expect(200, anonymous=API_ANON), api=True),
    Route(
        "api-analyses",
        MARKETING_BUILDS | {"anonymous": API_ANON, "marketer": 202, "admin": 202},
        method="post",
        data={"kind": "credit", **PERIOD},
        api=True,
        effect=built,
    ),
    Route("api-analysis-detail", _expect(200, other_rep=404, anonymous=API_ANON), kwargs=_analysis, api=True),
]
