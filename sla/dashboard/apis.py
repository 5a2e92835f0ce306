"""REST API v1 for the SLA dashboard's figures and the free-to-cold-call status.

Same permissions as the pages: the dashboard for managers (their teams; another
team is a 404), admins and marketing; free-to-cold-call for a rep (their own),
a manager (their teams' reps) and admins.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.models import Role
from leadhandoff.api import ApplicationError, ErrorSerializer
from leads.clock.selectors import free_to_cold_call_many
from sla.dashboard.forms import PERIOD_CHOICES, DashboardFilterForm
from sla.dashboard.selectors import DASHBOARD_ROLES, dashboard_team_get, free_reps_for, sla_dashboard_cached


class FiguresSerializer(serializers.Serializer):
    class Meta:
        ref_name = "SlaFigures"

    came_due = serializers.IntegerField(help_text="Clocks that came due: met, or past the deadline.")
    met = serializers.IntegerField(help_text="Clocks whose first contact came at or before the deadline.")
    missed = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True, help_text="met / came_due; null when none came due.")
    contacted = serializers.IntegerField(help_text="Clocks with a first contact (the times below are over these).")
    median_seconds = serializers.FloatField(allow_null=True, help_text="percentile_cont(0.5), wall clock.")
    p90_seconds = serializers.FloatField(allow_null=True, help_text="percentile_cont(0.9), wall clock.")
    median_business_seconds = serializers.FloatField(allow_null=True, help_text="In the policy's working time.")
    p90_business_seconds = serializers.FloatField(allow_null=True)
    median_words = serializers.CharField()
    p90_words = serializers.CharField()
    median_business_words = serializers.CharField()
    p90_business_words = serializers.CharField()
    open_breaches = serializers.IntegerField(
        allow_null=True, help_text="Open clocks past their deadline now (whatever the period); null for a week."
    )
    warnings = serializers.IntegerField(help_text="Warnings the sweep sent in the period.")
    reassignments = serializers.IntegerField(help_text="Reassignments after a breach in the period.")


class FreeSerializer(serializers.Serializer):
    class Meta:
        ref_name = "SlaFreeToColdCall"

    rep = serializers.IntegerField()
    username = serializers.CharField()
    team = serializers.IntegerField(allow_null=True)
    free = serializers.BooleanField()
    compliance = serializers.FloatField(allow_null=True)
    met = serializers.IntegerField()
    came_due = serializers.IntegerField()
    days = serializers.IntegerField(help_text="The policy's period for the compliance figure.")
    min_percent = serializers.IntegerField()
    open_breaches = serializers.ListField(child=serializers.IntegerField(), help_text="Overdue lead ids.")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why not free, in words.")


class TeamFiguresSerializer(FiguresSerializer):
    class Meta:
        ref_name = "SlaTeamFigures"

    id = serializers.IntegerField()
    name = serializers.CharField()


class RepFiguresSerializer(FiguresSerializer):
    class Meta:
        ref_name = "SlaRepFigures"

    id = serializers.IntegerField()
    username = serializers.CharField()
    team = serializers.IntegerField(allow_null=True)
    free_to_cold_call = serializers.BooleanField(allow_null=True)


class WeekFiguresSerializer(FiguresSerializer):
    class Meta:
        ref_name = "SlaWeekFigures"

    week = serializers.DateField(help_text="The Monday, in your time zone.")


class BinSerializer(serializers.Serializer):
    class Meta:
        ref_name = "SlaHistogramBin"

    label = serializers.CharField()
    count = serializers.IntegerField()


class PeriodSerializer(serializers.Serializer):
    class Meta:
        ref_name = "SlaPeriod"

    key = serializers.CharField(help_text='"7", "30", "90" or "custom".')
    start = serializers.DateTimeField(help_text="Deadlines from this instant…")
    end = serializers.DateTimeField(help_text="…to this one, excluded.")


def _free_dict(rep, team_id, status) -> dict:
    return {
        "rep": rep.id,
        "username": rep.username,
        "team": team_id,
        "free": status.free,
        "compliance": status.compliance.rate,
        "met": status.compliance.met,
        "came_due": status.compliance.came_due,
        "days": status.days,
        "min_percent": status.min_percent,
        "open_breaches": [lead.id for lead in status.open_breaches],
        "reasons": status.reasons,
    }


class SlaDashboardApi(APIView):
    """The SLA dashboard's figures for a period: all, per team, per rep, per week, and the histogram."""

    permission_classes = [HasRole(*DASHBOARD_ROLES)]

    class QuerySerializer(serializers.Serializer):
        class Meta:
            ref_name = "SlaDashboardQuery"

        period = serializers.ChoiceField(choices=PERIOD_CHOICES, required=False, help_text="Default 30.")
        start = serializers.DateField(required=False, help_text="First day (custom period), your time zone.")
        end = serializers.DateField(required=False, help_text="Last day, included (custom period).")
        team = serializers.IntegerField(required=False, help_text="One of your teams; another team is a 404.")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SlaDashboard"

        period = PeriodSerializer()
        as_of = serializers.DateTimeField(help_text="When these figures were computed (cached for up to a minute).")
        overall = FiguresSerializer()
        teams = TeamFiguresSerializer(many=True)
        reps = RepFiguresSerializer(many=True)
        weeks = WeekFiguresSerializer(many=True)
        distribution = BinSerializer(many=True, help_text="Contacted clocks per wall-clock time to first contact.")

    @extend_schema(
        parameters=[QuerySerializer],
        responses={200: OutputSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request):
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            fields = {
                ("non_field_errors" if name == "__all__" else name): [e["message"] for e in errors]
                for name, errors in form.errors.get_json_data().items()
            }
            raise ApplicationError("The period is not valid.", fields=fields)
        team_id = form.cleaned_data.get("team")
        if team_id is not None:
            dashboard_team_get(user=request.user, team_id=team_id)
        now = timezone.now()
        period = form.chosen_period(now=now, tz=request.user.tz)
        data = sla_dashboard_cached(user=request.user, period=period, now=now, team_id=team_id)
        period = data.period

        payload = {
            "period": {"key": period.key, "start": period.start, "end": period.end},
            "as_of": data.now,
            "overall": data.overall.as_dict(),
            "teams": [{"id": r.team.id, "name": r.team.name, **r.figures.as_dict()} for r in data.team_rows],
            "reps": [
                {
                    "id": r.rep.id,
                    "username": r.rep.username,
                    "team": r.team.id if r.team else None,
                    "free_to_cold_call": None if r.free is None else r.free.free,
                    **r.figures.as_dict(),
                }
                for r in data.rep_rows
            ],
            # "Overdue now" is a figure of the present, not of a past week.
            "weeks": [{"week": r.week, **r.figures.as_dict(), "open_breaches": None} for r in data.week_rows],
            "distribution": [{"label": label, "count": n} for label, n in data.histogram],
        }
        return Response(self.OutputSerializer(payload).data)


class FreeToColdCallApi(APIView):
    """Free to cold-call, and why not: a rep their own status, a manager their teams' reps, admins all."""

    permission_classes = [HasRole(Role.REP, Role.MANAGER, Role.ADMIN)]

    @extend_schema(
        parameters=[OpenApiParameter("team", int, required=False, description="Only this team's reps.")],
        responses={200: FreeSerializer(many=True), 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request):
        profiles = free_reps_for(user=request.user)
        team = request.query_params.get("team")
        if team is not None:
            if not team.isdigit():
                raise ApplicationError("Give a team id.", fields={"team": ["Give a whole number."]})
            profiles = profiles.filter(team_id=int(team))
        profiles = list(profiles)
        statuses = free_to_cold_call_many(rep_teams={p.user_id: p.team_id for p in profiles}, now=timezone.now())
        return Response([_free_dict(p.user, p.team_id, statuses[p.user_id]) for p in profiles])
