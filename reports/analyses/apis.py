"""REST API v1 for the analyses (cherry-pick index, credit): build one (202, then poll), list and read.

Same access as the pages (reports.analyses.selectors), shaped to what each role may see.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.models import Role
from leadhandoff.api import ApplicationError, validated
from reports.models import Analysis

from . import selectors, services

READERS = (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)


class AnalysisOutputSerializer(serializers.ModelSerializer):
    data = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = ["id", "kind", "state", "progress", "error", "period_start", "period_end", "team", "nightly"]
        fields += ["created_at", "started_at", "finished_at", "data"]

    def get_data(self, analysis: Analysis) -> dict:
        """The figures as this user may see them (empty until the build is done)."""
        return selectors.analysis_for_user(analysis=analysis, user=self.context["request"].user)


class AnalysisListApi(APIView):
    """GET: the newest snapshots this user may read (?kind=). POST: build one (202; poll the snapshot)."""

    permission_classes = [HasRole(*READERS)]

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Analysis.Kind.choices)
        since = serializers.DateField()
        until = serializers.DateField()
        team = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(responses={200: AnalysisOutputSerializer(many=True)})
    def get(self, request):
        kind = request.query_params.get("kind") or None
        if kind is not None and kind not in Analysis.Kind.values:
            raise ApplicationError("No such analysis.", fields={"kind": [f"One of {', '.join(Analysis.Kind.values)}."]})
        analyses = selectors.analyses_visible_to(user=request.user, kind=kind)[:50]
        return Response(AnalysisOutputSerializer(analyses, many=True, context={"request": request}).data)

    @extend_schema(request=InputSerializer, responses={202: AnalysisOutputSerializer})
    def post(self, request):
        d = validated(self.InputSerializer(data=request.data))
        analysis = services.analysis_request(
            kind=d["kind"], since=d["since"], until=d["until"], team_id=d.get("team"), actor=request.user
        )
        body = AnalysisOutputSerializer(analysis, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class AnalysisDetailApi(APIView):
    """A snapshot's parameters, state, progress and, when done, its figures."""

    permission_classes = [HasRole(*READERS)]

    @extend_schema(responses={200: AnalysisOutputSerializer})
    def get(self, request, analysis_id: int):
        analysis = selectors.analysis_get_for_user(user=request.user, analysis_id=analysis_id)
        return Response(AnalysisOutputSerializer(analysis, context={"request": request}).data)
