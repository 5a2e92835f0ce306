"""REST API v1 for routing: reassign leads, a team's rep loads, pause and unpause a rep.

Managers act on their own teams only (another team's lead, team or rep is a 404),
admins on any; reps and marketing get a 403. A reassignment states the owner the
caller saw for every lead; if any changed since, nothing moves and the answer is
a 409 naming the leads.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import MANAGERS, HasRole
from leadhandoff.api import ApplicationError, ErrorSerializer
from leads.routing import services as routing_services
from leads.routing.selectors import (
    team_get_for_user,
    team_overdue_first_contacts,
    team_rep_loads,
    team_unassigned_queue,
)


class _ReassignLeadSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ReassignLeadInput"  # a unique name in the OpenAPI schema

    id = serializers.IntegerField(min_value=1)
    expected_owner = serializers.IntegerField(
        allow_null=True, help_text="Owner id you saw for this lead; null for an unassigned lead."
    )


class LeadsReassignApi(APIView):
    """Reassign leads to a rep, with a reason; 409 when a lead's owner is no longer the one you saw."""

    permission_classes = [HasRole(*MANAGERS)]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReassignInput"  # a unique name in the OpenAPI schema

        leads = _ReassignLeadSerializer(many=True, allow_empty=False, max_length=1000)
        to_rep = serializers.IntegerField(min_value=1, help_text="User id of the rep who gets the leads.")
        reason = serializers.CharField(max_length=routing_services.REASON_MAX_LENGTH)

    class LeadOutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReassignedLead"  # a unique name in the OpenAPI schema

        id = serializers.IntegerField()
        owner = serializers.IntegerField(source="owner_id")
        team = serializers.IntegerField(source="team_id")
        status = serializers.CharField()
        assigned_at = serializers.DateTimeField(allow_null=True)
        sla_due_at = serializers.DateTimeField(allow_null=True)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReassignOutput"  # a unique name in the OpenAPI schema

        reassigned = serializers.ListField(help_text="The leads that moved (leads already the rep's are left out).")

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="A lead's owner changed since you saw it."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise ApplicationError("The reassignment was not made.", fields=_flatten(data.errors))
        d = data.validated_data
        moved = routing_services.leads_reassign(
            actor=request.user,
            lead_ids=[item["id"] for item in d["leads"]],
            to_rep_id=d["to_rep"],
            reason=d["reason"],
            expected_owners={item["id"]: item["expected_owner"] for item in d["leads"]},
            now=timezone.now(),
        )
        return Response({"reassigned": self.LeadOutputSerializer(moved, many=True).data})


class TeamLoadApi(APIView):
    """Each rep's load on a team, its unassigned queue and overdue first contacts."""

    permission_classes = [HasRole(*MANAGERS)]

    class RepSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TeamLoadRep"  # a unique name in the OpenAPI schema

        id = serializers.IntegerField(source="user_id")
        username = serializers.CharField()
        name = serializers.CharField()
        open_uncontacted = serializers.IntegerField(help_text="Open leads not yet contacted (what capacity limits).")
        open_total = serializers.IntegerField()
        capacity = serializers.IntegerField()
        at_capacity = serializers.BooleanField()
        out_of_office = serializers.BooleanField()
        paused = serializers.BooleanField()
        working_now = serializers.BooleanField()
        available = serializers.BooleanField()

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TeamLoadOutput"  # a unique name in the OpenAPI schema

        team = serializers.DictField()
        reps = serializers.ListField()
        unassigned = serializers.IntegerField()
        overdue_first_contacts = serializers.IntegerField()

    @extend_schema(responses={200: OutputSerializer, 404: ErrorSerializer})
    def get(self, request, team_id: int):
        now = timezone.now()
        team = team_get_for_user(user=request.user, team_id=team_id)
        loads = team_rep_loads(team_ids=[team.id], now=now)
        return Response(
            {
                "team": {"id": team.id, "name": team.name},
                "reps": self.RepSerializer(loads, many=True).data,
                "unassigned": team_unassigned_queue(user=request.user, team_ids=[team.id]).count(),
                "overdue_first_contacts": team_overdue_first_contacts(
                    user=request.user, team_ids=[team.id], now=now
                ).count(),
            }
        )


class _RepPauseBase(APIView):
    permission_classes = [HasRole(*MANAGERS)]
    paused: bool

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RepPauseOutput"  # a unique name in the OpenAPI schema

        id = serializers.IntegerField(source="user_id")
        username = serializers.CharField(source="user.username")
        team = serializers.IntegerField(source="team_id")
        paused = serializers.BooleanField()

    def post(self, request, rep_id: int):
        profile = routing_services.rep_set_paused(actor=request.user, rep_id=rep_id, paused=self.paused)
        return Response(self.OutputSerializer(profile).data)


class RepPauseApi(_RepPauseBase):
    """Pause a rep: no new leads are routed to them; their current leads stay."""

    paused = True

    @extend_schema(request=None, responses={200: _RepPauseBase.OutputSerializer, 404: ErrorSerializer})
    def post(self, request, rep_id: int):
        return super().post(request, rep_id)


class RepUnpauseApi(_RepPauseBase):
    """Unpause a rep: routing sends them leads again (waiting leads are retried at once)."""

    paused = False

    @extend_schema(request=None, responses={200: _RepPauseBase.OutputSerializer, 404: ErrorSerializer})
    def post(self, request, rep_id: int):
        return super().post(request, rep_id)


def _flatten(errors) -> dict[str, list[str]]:
    """DRF's nested errors as one list of readable messages per top-level field."""
    out: dict[str, list[str]] = {}
    for key, value in errors.items():
        messages: list[str] = []
        items = value if isinstance(value, list) else [value]
        for position, item in enumerate(items, start=1):
            if isinstance(item, dict):
                if item:  # a list entry (one lead) with its own field errors
                    details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in item.items())
                    messages.append(f"Item {position}: {details}")
            else:
                messages.append(str(item))
        out[key] = messages
    return out
