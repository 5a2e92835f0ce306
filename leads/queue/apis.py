"""REST API v1 of the sales queue: the caller's queue, touches, stages, rejections
and rep-sourced prospects. Same permissions as the pages: a rep works only their
own leads; another rep's lead or any pool lead is a 404.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import MARKETING_SIDE, HasRole
from accounts.models import Role
from leadhandoff.api import ErrorSerializer, validated
from leadhandoff.pagination import ApiPagination
from leads.models import Origin, RejectReason, RepSourceChannel, TouchKind, TouchOutcome
from leads.queue import services as queue_services
from leads.queue.forms import QUEUE_STATUS_CHOICES
from leads.queue.selectors import (
    QUEUE_STATUS_OPEN,
    QueueFilters,
    RejectionFilters,
    brief_lead_get,
    lead_touches,
    my_queue,
    rejection_counts,
    rejections,
)

BRIEF_ROLES = (Role.REP, Role.MANAGER, Role.ADMIN)


def _paginated(request, view, queryset, serializer_class, **extra) -> Response:
    paginator = ApiPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    response = paginator.get_paginated_response(serializer_class(page, many=True).data)
    response.data.update(extra)
    return response


class LeadStateSerializer(serializers.Serializer):
    """A lead as the queue sees it."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")
    email = serializers.EmailField(allow_null=True)
    company = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    origin = serializers.CharField()
    rep_source_channel = serializers.CharField()
    source = serializers.CharField()
    campaign = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    sla_due_at = serializers.DateTimeField(allow_null=True)
    assigned_at = serializers.DateTimeField(allow_null=True)
    first_contact_at = serializers.DateTimeField(allow_null=True)
    last_activity_at = serializers.DateTimeField(allow_null=True)
    touch_count = serializers.IntegerField(
        allow_null=True, help_text="Touches so far; null when unknown (imported history without a touch count)."
    )
    deal_value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class QueueApi(APIView):
    """The caller's own queue, most urgent first-contact deadline first."""

    pagination_class = ApiPagination  # read by the schema: the list is documented as pages

    permission_classes = [HasRole(Role.REP)]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=QUEUE_STATUS_CHOICES, required=False, default=QUEUE_STATUS_OPEN)
        source = serializers.CharField(max_length=100, required=False, default="")
        origin = serializers.ChoiceField(choices=Origin.choices, required=False, default="")
        overdue = serializers.BooleanField(required=False, default=False)
        q = serializers.CharField(max_length=100, required=False, default="")

    class OutputSerializer(LeadStateSerializer):
        overdue = serializers.SerializerMethodField()

        def get_overdue(self, lead) -> bool:
            return lead.sla_due_at is not None and lead.sla_due_at < self.context["now"]

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True), 400: ErrorSerializer})
    def get(self, request):
        data = validated(self.FilterSerializer(data=request.query_params), "Invalid filters.")
        now = timezone.now()
        leads = my_queue(user=request.user, filters=QueueFilters(**data), now=now)
        paginator = ApiPagination()
        page = paginator.paginate_queryset(leads, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True, context={"now": now}).data)


class TouchOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead_id = serializers.IntegerField()
    kind = serializers.CharField()
    outcome = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    notes = serializers.CharField()
    rep_id = serializers.IntegerField(allow_null=True)
    rep = serializers.CharField(source="rep.username", default=None)


class LeadTouchesApi(APIView):
    """GET: a lead's touches (whoever may read its brief). POST: log a touch (its owner)."""

    pagination_class = ApiPagination  # read by the schema: the list is documented as pages

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=TouchKind.choices)
        outcome = serializers.ChoiceField(choices=TouchOutcome.choices, required=False, default=TouchOutcome.NONE)
        notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
        consent_override = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Log a call to a do-not-call lead or an email to a do-not-email lead anyway (kept in history).",
        )
        override_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    class CreateOutputSerializer(serializers.Serializer):
        touch = TouchOutputSerializer()
        lead = LeadStateSerializer()

    def get_permissions(self):
        roles = (Role.REP,) if self.request.method == "POST" else BRIEF_ROLES
        return [HasRole(*roles)()]

    @extend_schema(responses={200: TouchOutputSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, lead_id: int):
        lead = brief_lead_get(user=request.user, lead_id=lead_id)
        return _paginated(request, self, lead_touches(lead=lead), TouchOutputSerializer)

    @extend_schema(
        request=InputSerializer,
        responses={201: CreateOutputSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request, lead_id: int):
        data = validated(self.InputSerializer(data=request.data), "The touch was not logged.")
        touch = queue_services.touch_log(user=request.user, lead_id=lead_id, now=timezone.now(), **data)
        body = self.CreateOutputSerializer({"touch": touch, "lead": touch.lead}).data
        return Response(body, status=status.HTTP_201_CREATED)


class LeadStageApi(APIView):
    """Move the caller's lead to another stage (contacted, working, opportunity, won, lost)."""

    permission_classes = [HasRole(Role.REP)]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=queue_services.STAGE_TARGETS)
        value = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, default=None)
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        expected_status = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer,
        responses={
            200: LeadStateSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request, lead_id: int):
        data = validated(self.InputSerializer(data=request.data), "The stage was not changed.")
        lead = queue_services.lead_stage_change(
            user=request.user,
            lead_id=lead_id,
            to_status=data["status"],
            value=data["value"],
            reason=data["reason"],
            note=data["note"],
            expected_status=data["expected_status"] or None,
            now=timezone.now(),
        )
        return Response(LeadStateSerializer(lead).data)


class LeadRejectApi(APIView):
    """Send the caller's marketing lead back to the nurture pool with a reason."""

    permission_classes = [HasRole(Role.REP)]

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=RejectReason.choices)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        reject_reason = serializers.CharField()
        reject_note = serializers.CharField()
        rejected_at = serializers.DateTimeField()
        rejected_version = serializers.IntegerField(allow_null=True)
        recycled_count = serializers.IntegerField()

    @extend_schema(
        request=InputSerializer, responses={200: OutputSerializer, 400: ErrorSerializer, 404: ErrorSerializer}
    )
    def post(self, request, lead_id: int):
        data = validated(self.InputSerializer(data=request.data), "The lead was not sent back.")
        lead = queue_services.lead_reject(user=request.user, lead_id=lead_id, now=timezone.now(), **data)
        return Response(self.OutputSerializer(lead).data)


class RejectionListApi(APIView):
    """Leads reps sent back to marketing, filtered by reason and definition version, with counts per reason."""

    pagination_class = ApiPagination  # read by the schema: the list is documented as pages

    permission_classes = [HasRole(*MARKETING_SIDE)]

    class FilterSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=RejectReason.choices, required=False, default="")
        version = serializers.IntegerField(min_value=1, required=False, default=None)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField(source="full_name")
        email = serializers.EmailField(allow_null=True)
        company = serializers.CharField()
        status = serializers.CharField()
        reject_reason = serializers.CharField()
        reject_note = serializers.CharField()
        rejected_at = serializers.DateTimeField()
        rejected_by = serializers.CharField(source="rejected_by.username", default=None)
        rejected_version = serializers.IntegerField(allow_null=True)
        recycled_count = serializers.IntegerField()

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True), 400: ErrorSerializer})
    def get(self, request):
        data = validated(self.FilterSerializer(data=request.query_params), "Invalid filters.")
        filters = RejectionFilters(**data)
        counts = {
            row["reject_reason"]: row["n"] for row in rejection_counts(user=request.user, version=filters.version)
        }
        return _paginated(
            request,
            self,
            rejections(user=request.user, filters=filters),
            self.OutputSerializer,
            counts_by_reason=counts,
        )


class ProspectCreateApi(APIView):
    """A rep adds their own prospect: assigned to them, no first-contact clock."""

    permission_classes = [HasRole(Role.REP)]

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        channel = serializers.ChoiceField(choices=RepSourceChannel.choices)
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        title = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
        phone = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer,
        responses={201: LeadStateSerializer, 400: ErrorSerializer},
    )
    def post(self, request):
        data = validated(self.InputSerializer(data=request.data), "The prospect was not added.")
        lead = queue_services.rep_sourced_create(user=request.user, now=timezone.now(), **data)
        return Response(LeadStateSerializer(lead).data, status=status.HTTP_201_CREATED)
