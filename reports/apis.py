"""REST API v1 for the comparison reports: build one (202, then poll), list and read snapshots.

Same access as the pages (reports.selectors): marketing and admins everything,
managers their teams' snapshots, reps their team's, shaped to what they may see.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.models import Role
from leadhandoff.api import ApplicationError, validated
from leads.figures import CYCLE_STARTS

from . import selectors, services
from .models import ComparisonReport

READERS = (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)


class ReportOutputSerializer(serializers.ModelSerializer):
    data = serializers.SerializerMethodField()

    class Meta:
        model = ComparisonReport
        fields = ["id", "state", "progress", "error", "params", "nightly", "team", "created_at", "started_at"]
        fields += ["finished_at", "data"]

    def get_data(self, report: ComparisonReport) -> dict:
        """The figures as this user may see them (empty until the build is done)."""
        return selectors.report_for_user(report=report, user=self.context["request"].user)


class ReportListApi(APIView):
    """GET: the newest snapshots this user may read. POST: build a comparison (202; poll the report)."""

    permission_classes = [HasRole(*READERS)]

    class InputSerializer(serializers.Serializer):
        since = serializers.DateField(required=False, allow_null=True)
        until = serializers.DateField(required=False, allow_null=True)
        cohort = serializers.BooleanField(required=False, default=False)
        group_by = serializers.ChoiceField(choices=selectors.GROUP_BYS, required=False, default="origin")
        cycle_from = serializers.ChoiceField(choices=tuple(CYCLE_STARTS), required=False, allow_null=True)
        team = serializers.IntegerField(required=False, allow_null=True)
        region = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)
        rep = serializers.IntegerField(required=False, allow_null=True)
        version = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        source = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)
        campaign = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=150)

    @extend_schema(responses={200: ReportOutputSerializer(many=True)})
    def get(self, request):
        reports = selectors.reports_visible_to(user=request.user)[:50]
        return Response(ReportOutputSerializer(reports, many=True, context={"request": request}).data)

    @extend_schema(request=InputSerializer, responses={202: ReportOutputSerializer})
    def post(self, request):
        d = validated(self.InputSerializer(data=request.data))
        if d.get("since") and d.get("until") and d["since"] > d["until"]:
            raise ApplicationError("The period ends before it starts.", fields={"until": ["Before since."]})
        params = selectors.ComparisonParams(
            since=d.get("since"),
            until=d.get("until"),
            cohort=d.get("cohort", False),
            group_by=d.get("group_by") or "origin",
            cycle_from=d.get("cycle_from") or None,
            team_id=d.get("team"),
            region=d.get("region") or None,
            rep_id=d.get("rep"),
            version=d.get("version"),
            source=d.get("source") or None,
            campaign=d.get("campaign") or None,
        )
        report = services.comparison_request(params=params, actor=request.user, now=timezone.now())
        body = ReportOutputSerializer(report, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ReportDetailApi(APIView):
    """A snapshot's parameters, state, progress and, when done, its figures."""

    permission_classes = [HasRole(*READERS)]

    @extend_schema(responses={200: ReportOutputSerializer})
    def get(self, request, report_id: int):
        report = selectors.report_get_for_user(user=request.user, report_id=report_id)
        return Response(ReportOutputSerializer(report, context={"request": request}).data)
