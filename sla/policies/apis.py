"""REST API v1 for first-contact policies, teams' closed dates and a lead's clocks.

The same permissions as the pages: managers read the default and change their
own teams' policies and closed dates (another team is a 404), admins change
every one and the default; reps and marketing get a 403. A lead's clocks go
through the lead brief's door (leads.queue.selectors.brief_lead_get). Bad input
is a 400 with a message per field.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import MANAGERS, HasRole
from accounts.apis import ScheduleSerializer, schedule_data, schedule_put
from accounts.models import FirstContactPolicy, Role
from accounts.selectors import policy_default
from leadhandoff.api import ErrorSerializer, validated
from leads.queue.selectors import brief_lead_get
from sla.policies import selectors, services

BRIEF_ROLES = (Role.REP, Role.MANAGER, Role.ADMIN)


class PolicyOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "FirstContactPolicy"  # a unique name in the OpenAPI schema

    team = serializers.IntegerField(allow_null=True, help_text="The team's id; null for the default policy.")
    team_name = serializers.CharField(allow_null=True)
    own = serializers.BooleanField(
        help_text="The team has its own policy (false: it uses the default, shown here). Always true for the default."
    )
    window_minutes = serializers.IntegerField(help_text="The first-contact window, in minutes of the calendar's time.")
    calendar = serializers.ChoiceField(
        choices=FirstContactPolicy.Calendar.choices,
        help_text="always: around the clock; business: the rep's working hours in their time zone, holidays skipped.",
    )
    country = serializers.CharField(
        help_text="Public holidays of this country (ISO code, `holidays` package); empty: none."
    )
    subdivision = serializers.CharField()
    stop_on = serializers.ChoiceField(choices=FirstContactPolicy.StopOn.choices)
    warn_at_percent = serializers.ListField(child=serializers.IntegerField())
    reassign_on_breach = serializers.BooleanField()
    max_reassignments = serializers.IntegerField()
    escalate_after_minutes = serializers.IntegerField(allow_null=True, help_text="null: no escalation.")
    free_days = serializers.IntegerField()
    free_min_compliance = serializers.IntegerField()
    saved = serializers.BooleanField(help_text="false: the default as seeded from settings, never saved.")
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.IntegerField(allow_null=True)


def _policy_data(policy: FirstContactPolicy, *, team=None, own: bool = True) -> dict:
    return {
        "team": team.id if team else None,
        "team_name": team.name if team else None,
        "own": own,
        **services.policy_values_of(policy),
        "saved": policy.pk is not None,
        "updated_at": policy.updated_at if policy.pk else None,
        "updated_by": policy.updated_by_id,
    }


def _team_data(current: selectors.TeamPolicy) -> dict:
    return _policy_data(current.policy, team=current.team, own=current.own)


class PolicyInputSerializer(serializers.Serializer):
    """Every field for PUT; any of them for PATCH (the rest stay as they are)."""

    class Meta:
        ref_name = "FirstContactPolicyInput"

    window_minutes = serializers.IntegerField()
    calendar = serializers.ChoiceField(choices=FirstContactPolicy.Calendar.choices)
    country = serializers.CharField(allow_blank=True, max_length=2)
    subdivision = serializers.CharField(allow_blank=True, max_length=8)
    stop_on = serializers.ChoiceField(choices=FirstContactPolicy.StopOn.choices)
    warn_at_percent = serializers.ListField(child=serializers.IntegerField(), allow_empty=True, max_length=20)
    reassign_on_breach = serializers.BooleanField()
    max_reassignments = serializers.IntegerField()
    escalate_after_minutes = serializers.IntegerField(allow_null=True)
    free_days = serializers.IntegerField()
    free_min_compliance = serializers.IntegerField()


def _values(request, current: FirstContactPolicy, *, partial: bool) -> dict:
    data = validated(PolicyInputSerializer(data=request.data, partial=partial), "The policy was not saved.")
    return {**services.policy_values_of(current), **data}


_POLICY_WRITE_RESPONSES = {200: PolicyOutputSerializer, 400: ErrorSerializer, 403: ErrorSerializer}


class PolicyListApi(APIView):
    """The default policy and the policy of each team you manage (admins: every team)."""

    permission_classes = [HasRole(*MANAGERS)]

    @extend_schema(responses={200: PolicyOutputSerializer(many=True)})
    def get(self, request):
        default, teams = selectors.team_policies_for_user(user=request.user)
        rows = [_policy_data(default), *(_team_data(t) for t in teams)]
        return Response(PolicyOutputSerializer(rows, many=True).data)


class PolicyDefaultApi(APIView):
    """The default policy: managers read it, admins change it. A change applies to clocks started after it."""

    permission_classes = [HasRole(*MANAGERS)]

    def _may_edit(self, request) -> None:
        if not selectors.policy_may_edit_default(user=request.user):
            raise PermissionDenied("Only admins change the default policy.")

    @extend_schema(responses={200: PolicyOutputSerializer})
    def get(self, request):
        return Response(PolicyOutputSerializer(_policy_data(policy_default())).data)

    @extend_schema(request=PolicyInputSerializer, responses=_POLICY_WRITE_RESPONSES)
    def put(self, request):
        return self._save(request, partial=False)

    @extend_schema(request=PolicyInputSerializer, responses=_POLICY_WRITE_RESPONSES)
    def patch(self, request):
        return self._save(request, partial=True)

    def _save(self, request, *, partial: bool):
        self._may_edit(request)
        values = _values(request, policy_default(), partial=partial)
        policy = services.policy_save(actor=request.user, team=None, values=values)
        return Response(PolicyOutputSerializer(_policy_data(policy)).data)


class TeamPolicyApi(APIView):
    """A team's policy. PUT or PATCH gives a team using the default its own (PATCH starts from the
    default's values); DELETE returns it to the default. Changes apply to clocks started after them."""

    permission_classes = [HasRole(*MANAGERS)]

    @extend_schema(responses={200: PolicyOutputSerializer, 404: ErrorSerializer})
    def get(self, request, team_id: int):
        current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
        return Response(PolicyOutputSerializer(_team_data(current)).data)

    @extend_schema(request=PolicyInputSerializer, responses={**_POLICY_WRITE_RESPONSES, 404: ErrorSerializer})
    def put(self, request, team_id: int):
        return self._save(request, team_id, partial=False)

    @extend_schema(request=PolicyInputSerializer, responses={**_POLICY_WRITE_RESPONSES, 404: ErrorSerializer})
    def patch(self, request, team_id: int):
        return self._save(request, team_id, partial=True)

    def _save(self, request, team_id: int, *, partial: bool):
        current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
        values = _values(request, current.policy, partial=partial)
        policy = services.policy_save(actor=request.user, team=current.team, values=values)
        return Response(PolicyOutputSerializer(_policy_data(policy, team=current.team)).data)

    @extend_schema(responses={204: None, 404: ErrorSerializer})
    def delete(self, request, team_id: int):
        current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
        services.team_policy_remove(actor=request.user, team=current.team)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClosedDateOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ClosedDate"

    id = serializers.IntegerField()
    date = serializers.DateField()
    label = serializers.CharField()


class ClosedDateListCreateApi(APIView):
    """A team's closed dates (days business time skips, besides public holidays)."""

    permission_classes = [HasRole(*MANAGERS)]

    class InputSerializer(serializers.Serializer):
        date = serializers.DateField()
        label = serializers.CharField(allow_blank=True, default="", max_length=services.LABEL_MAX_LENGTH)

    @extend_schema(responses={200: ClosedDateOutputSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, team_id: int):
        current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
        dates = selectors.closed_dates_of_team(team=current.team)
        return Response(ClosedDateOutputSerializer(dates, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: ClosedDateOutputSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request, team_id: int):
        current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
        data = validated(self.InputSerializer(data=request.data), "The closed date was not added.")
        closed = services.closed_date_add(actor=request.user, team=current.team, **data)
        return Response(ClosedDateOutputSerializer(closed).data, status=status.HTTP_201_CREATED)


class ClosedDateDeleteApi(APIView):
    """Remove one of a team's closed dates: it is a working day again for clocks started after."""

    permission_classes = [HasRole(*MANAGERS)]

    @extend_schema(responses={204: None, 404: ErrorSerializer})
    def delete(self, request, team_id: int, closed_date_id: int):
        current = selectors.team_policy_get_for_user(user=request.user, team_id=team_id)
        closed = selectors.closed_date_get(team=current.team, closed_date_id=closed_date_id)
        services.closed_date_remove(actor=request.user, team=current.team, closed_date_id=closed.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeadClocksApi(APIView):
    """A lead's first-contact clocks, newest first: one per assignment, with its deadline and outcome."""

    permission_classes = [HasRole(*BRIEF_ROLES)]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FirstContactClock"

        id = serializers.IntegerField()
        rep = serializers.IntegerField(source="rep_id")
        rep_name = serializers.CharField(source="rep.__str__")
        team = serializers.IntegerField(source="team_id", allow_null=True)
        business_time = serializers.BooleanField(
            help_text="Counted over the rep's working hours (else around the clock)."
        )
        stop_on = serializers.CharField()
        window_minutes = serializers.IntegerField()
        reassignment = serializers.IntegerField(
            help_text="0 for the first assignment, n after n reassignments on breach."
        )
        started_at = serializers.DateTimeField()
        due_at = serializers.DateTimeField()
        warn_at = serializers.ListField(child=serializers.DateTimeField())
        warnings_sent = serializers.IntegerField()
        escalate_at = serializers.DateTimeField(allow_null=True)
        next_action = serializers.CharField(
            help_text="What happens next if nobody touches the lead: warning, breach, escalation."
        )
        next_action_at = serializers.DateTimeField(allow_null=True)
        outcome = serializers.CharField(help_text="Empty while running: met, breached, reassigned or closed.")
        contacted_at = serializers.DateTimeField(allow_null=True)
        seconds_to_contact = serializers.IntegerField(allow_null=True)
        business_seconds_to_contact = serializers.IntegerField(allow_null=True)
        breached_at = serializers.DateTimeField(allow_null=True)
        escalated_at = serializers.DateTimeField(allow_null=True)
        ended_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(
        responses={200: OutputSerializer(many=True), 404: OpenApiResponse(ErrorSerializer, description="Not found")}
    )
    def get(self, request, lead_id: int):
        lead = brief_lead_get(user=request.user, lead_id=lead_id)
        return Response(self.OutputSerializer(selectors.lead_clocks(lead=lead), many=True).data)


class RepScheduleApi(APIView):
    """A rep's time zone and working hours, for their manager (another team's rep is a 404) and admins."""

    permission_classes = [HasRole(*MANAGERS)]

    @extend_schema(responses={200: ScheduleSerializer, 404: ErrorSerializer})
    def get(self, request, rep_id: int):
        profile = selectors.rep_profile_get_for_user(user=request.user, rep_id=rep_id)
        return Response(ScheduleSerializer(schedule_data(profile.user)).data)

    @extend_schema(
        request=ScheduleSerializer, responses={200: ScheduleSerializer, 400: ErrorSerializer, 404: ErrorSerializer}
    )
    def put(self, request, rep_id: int):
        profile = selectors.rep_profile_get_for_user(user=request.user, rep_id=rep_id)
        return schedule_put(request, profile.user)
