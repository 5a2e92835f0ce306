"""The comparison reports (reports.urls, reports.api_urls): every role may open them;
a snapshot of a team is seen by marketing, admins, the team's manager and its reps
(404 for another team's rep); sales build only for their own team."""

from reports.models import ComparisonReport

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


def _report(leads) -> dict:
    """A done snapshot of the cast's team (East)."""
    team_id = leads.rep_owned.team_id
    report = ComparisonReport.objects.create(
        team_id=team_id,
        params={"group_by": "origin", "team_id": team_id},
        state="done",
        data={"params": {"group_by": "origin", "team_id": team_id}, "groups": {}, "total": None, "verdict": {}},
    )
    return {"report_id": report.pk}


def _group(leads) -> dict:
    return _report(leads) | {"group": "mql:v1"}


def built(leads, kwargs, user):
    assert ComparisonReport.objects.filter(requested_by=user).exists()


# Without a team: marketing and admins build for everyone; sales must choose one of their teams (400).
MARKETING_BUILDS = {"anonymous": ANON, "marketer": 302, "rep": 400, "other_rep": 400, "manager": 400, "admin": 302}

ROUTES = [
    Route("reports:report_list", _expect(200)),
    Route("reports:report_detail", _expect(200, other_rep=404), kwargs=_report),
    Route("reports:report_status", _expect(200, other_rep=404), kwargs=_report),
    Route("reports:report_export", _expect(200, other_rep=404), kwargs=_report),
    Route("reports:report_group_leads", _expect(200, other_rep=404), kwargs=_group),
    Route("reports:report_build", _expect(405)),  # GET never builds
    Route("reports:report_build", MARKETING_BUILDS, method="post", data={"group_by": "origin"}, effect=built),
    Route("api-reports", _expect(200, anonymous=API_ANON), api=True),
    Route(
        "api-reports",
        MARKETING_BUILDS | {"anonymous": API_ANON, "marketer": 202, "admin": 202},
        method="post",
        data={"group_by": "origin"},
        api=True,
        effect=built,
    ),
    Route("api-report-detail", _expect(200, other_rep=404, anonymous=API_ANON), kwargs=_report, api=True),
]
