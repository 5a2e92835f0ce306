"""Comparison snapshots: built by Celery on the shared job model, read by pages, the API and CSV,
each role seeing what it may."""

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.urls import reverse

from leads.models import Lead, Status
from reports import services
from reports.models import ComparisonReport
from reports.selectors import ComparisonParams, report_for_user
from tests.factories import LeadFactory
from tests.reports.test_figures import NOW, cold_call, mql

pytestmark = pytest.mark.django_db


def _history(cast):
    for i in range(3):
        mql(cast.rep, status=Status.WON, assigned=0, closed=10 + i, value=100, touches=4)
    mql(cast.teammate, status=Status.LOST, assigned=0, closed=4)
    cold_call(cast.rep, status=Status.WON, created=0, closed=40, value=500)
    mql(cast.other_rep, status=Status.WON, assigned=0, closed=99, value=7)


def _built(params, *, actor=None, cast=None, now=NOW):
    report = services.comparison_request(params=params, actor=actor, now=now)
    return services.comparison_build(report_id=report.pk, now=now)


def test_a_request_is_queued_and_sent_on_commit_and_a_build_stores_figures_with_parameters(
    cast, django_capture_on_commit_callbacks
):
    _history(cast)
    params = ComparisonParams(team_id=cast.team.id, group_by="rep")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = services.comparison_request(params=params, actor=cast.manager, now=NOW)
        again = services.comparison_request(params=params, actor=cast.manager, now=NOW)
    assert again.pk == report.pk and len(callbacks) == 1  # a double click builds once
    assert (report.state, report.team_id, report.params["group_by"]) == ("queued", cast.team.id, "rep")

    built = services.comparison_build(report_id=report.pk, now=NOW)
    assert built.state == ComparisonReport.State.DONE and built.progress == 100
    assert built.data["params"] == params.as_json()
    assert built.data["groups"]["rep1"]["won"] == 4 and "rep3" not in built.data["groups"]
    assert built.data["build_seconds"] >= 0
    # A second delivery of the task finds the job done and does nothing.
    assert services.comparison_build(report_id=report.pk, now=NOW) is None


def test_the_nightly_build_queues_a_snapshot_for_everyone_and_each_team(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ids = services.comparison_nightly(now=NOW)
    reports = ComparisonReport.objects.filter(pk__in=ids)
    assert reports.count() == 3 == len(callbacks)  # everyone, East, West
    assert set(reports.values_list("team_id", flat=True)) == {None, cast.team.id, cast.other_team.id}
    assert all(r.nightly and r.period_end == datetime.date(2026, 6, 30) for r in reports)
    assert reports.first().period_start == datetime.date(2026, 6, 30) - datetime.timedelta(days=364)
    entry = settings.CELERY_BEAT_SCHEDULE["comparison-reports-nightly"]
    assert entry["task"] == "reports.tasks.comparison_reports_nightly"


def test_sales_build_only_for_their_own_team(cast):
    from leadhandoff.api import ApplicationError

    with pytest.raises(ApplicationError):
        services.comparison_request(params=ComparisonParams(), actor=cast.manager, now=NOW)
    with pytest.raises(ApplicationError):
        services.comparison_request(params=ComparisonParams(team_id=cast.other_team.id), actor=cast.rep, now=NOW)
    assert services.comparison_request(params=ComparisonParams(team_id=cast.team.id), actor=cast.rep, now=NOW)


def test_the_page_shows_the_verdict_the_age_and_unknown_for_figures_the_data_cannot_give(client, cast):
    _history(cast)
    report = _built(ComparisonParams(team_id=cast.team.id))
    client.force_login(cast.manager)
    html = client.get(reverse("reports:report_detail", args=[report.pk])).content.decode()
    assert 'data-testid="verdict">Too few closed deals to tell' in html
    assert "Snapshot built" in html and " ago" in html
    assert 'data-group="mql:v1"' in html and 'data-group="total"' in html
    assert "unknown" in html  # e.g. the Kaplan–Meier median of a group without won deals
    assert 'id="report-charts"' in html and "js/reports.js" in html
    # The figure sits in the snapshot: new history does not change it until a new build.
    mql(cast.rep, status=Status.WON, assigned=0, closed=5)
    assert ComparisonReport.objects.get(pk=report.pk).data["groups"]["mql:v1"]["won"] == 3


def test_a_touch_count_unknown_in_every_won_deal_shows_as_unknown(cast):
    mql(cast.rep, status=Status.WON, assigned=0, closed=3, touches=4)
    report = _built(ComparisonParams())
    assert report.data["groups"]["mql:v1"]["median_touches_won"] == 4
    if Lead._meta.get_field("touch_count").null:  # once imported touch counts may be unknown (issue 12.4)
        Lead.objects.update(touch_count=None)
        report = _built(ComparisonParams(group_by="version"))
        assert report.data["groups"]["v1"]["median_touches_won"] is None


def test_the_csv_export_has_every_row_through_the_one_csv_writer(client, cast):
    mql(cast.rep, status=Status.WON, assigned=0, closed=3, value=10, source="=HYPERLINK()")
    report = _built(ComparisonParams(group_by="source"))
    client.force_login(cast.marketer)
    response = client.get(reverse("reports:report_export", args=[report.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Group", "Leads", "Contacted", "Won"]
    assert rows[1][0] == "'=HYPERLINK()"  # neutralised by leadhandoff.csv_files
    assert rows[-1][0] == "All leads" and rows[-1][3] == "1"
    assert "Conversion" not in rows[0]  # close-date mode


def test_managers_see_their_teams_reps_their_own_figures_and_the_team_total(client, cast, api):
    _history(cast)
    team_report = _built(ComparisonParams(team_id=cast.team.id, group_by="rep"))
    other_report = _built(ComparisonParams(team_id=cast.other_team.id))
    everyone = _built(ComparisonParams())

    client.force_login(cast.manager)
    assert client.get(reverse("reports:report_detail", args=[team_report.pk])).status_code == 200
    assert client.get(reverse("reports:report_detail", args=[other_report.pk])).status_code == 404
    assert client.get(reverse("reports:report_detail", args=[everyone.pk])).status_code == 404

    shown = report_for_user(report=team_report, user=cast.rep)
    assert set(shown["groups"]) == {"rep1"}  # not rep2's row
    assert shown["total"]["won"] == 4  # the team's aggregate
    assert report_for_user(report=team_report, user=cast.manager)["groups"].keys() == {"rep1", "rep2"}
    assert set(report_for_user(report=team_report, user=cast.marketer)["groups"]) == {"rep1", "rep2"}

    body = api.as_user(cast.rep).get(reverse("api-report-detail", args=[team_report.pk])).json()
    assert set(body["data"]["groups"]) == {"rep1"}
    assert api.as_user(cast.other_rep).get(reverse("api-report-detail", args=[team_report.pk])).status_code == 404
    listed = api.as_user(cast.manager).get(reverse("api-reports")).json()
    assert {r["id"] for r in listed} == {team_report.pk}


def test_drill_downs_go_through_the_access_door_for_leads(client, cast):
    _history(cast)
    report = _built(ComparisonParams(team_id=cast.team.id))
    url = reverse("reports:report_group_leads", args=[report.pk, "mql:v1"])
    client.force_login(cast.rep)
    rep_html = client.get(url).content.decode()
    client.force_login(cast.manager)
    manager_html = client.get(url).content.decode()
    assert rep_html.count('data-testid="group-lead"') == 3  # rep1's own won deals, not rep2's lost one
    assert manager_html.count('data-testid="group-lead"') == 4


def test_recycled_mql_figures_for_sales_respect_the_minimum_group(cast):
    team = cast.team
    for _ in range(3):
        LeadFactory(origin="marketing", promoted_version=1, status=Status.NURTURE, recycled_count=1)
    mql(cast.rep, status=Status.WON, assigned=0, closed=5, recycled_count=1)
    report = _built(ComparisonParams(cohort=True))
    assert report.data["groups"]["recycled_mql"]["leads"] == 4
    report.team = team
    report.save(update_fields=["team"])
    shown = report_for_user(report=report, user=cast.manager)["groups"]["recycled_mql"]
    assert shown["leads"] is None and shown["won"] is None and shown["win_rate"] is None  # fewer than the minimum
    assert report_for_user(report=report, user=cast.marketer)["groups"]["recycled_mql"]["leads"] == 4
    for _ in range(12):
        LeadFactory(origin="marketing", promoted_version=1, status=Status.NURTURE, recycled_count=1)
    report = _built(ComparisonParams(cohort=True, group_by="origin", source="webinar"))
    report.team = team
    report.save(update_fields=["team"])
    shown = report_for_user(report=report, user=cast.manager)["groups"]["recycled_mql"]
    assert shown["leads"] == 10 and shown["conversion"] == round(1 / 16, 6)  # 16 rounded down to tens


def test_building_from_the_page_redirects_to_the_snapshot_with_its_progress(client, cast):
    client.force_login(cast.manager)
    response = client.post(reverse("reports:report_build"), {"group_by": "origin", "team": cast.team.id})
    report = ComparisonReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:report_detail", args=[report.pk])
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="report-progress"' in html and "hx-get" in html
    services.comparison_build(report_id=report.pk, now=NOW)
    status = client.get(reverse("reports:report_status", args=[report.pk]), HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true"


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_comparison_is_built_by_a_real_worker(cast, api, celery_worker):
    _history(cast)
    response = api.as_user(cast.marketer).post(reverse("api-reports"), {"cohort": True}, format="json")
    assert response.status_code == 202
    report_id = response.json()["id"]
    assert celery_worker.wait_for(lambda: ComparisonReport.objects.get(pk=report_id).state == "done")
    body = api.as_user(cast.marketer).get(reverse("api-report-detail", args=[report_id])).json()
    assert body["data"]["total"]["leads"] == 6 and body["data"]["mode"] == "cohort"
    assert body["data"]["groups"]["mql:v1"]["conversion"] == round(4 / 5, 6)
