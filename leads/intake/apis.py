"""REST API v1 for leads and engagement events.

Every read goes through leads.selectors (leads_visible_to for lists,
lead_get_for_user for one lead): a rep lists only their own leads, a manager
their teams', and neither ever sees the nurture pool (a pool lead is a 404).
Writes go through leads.intake.services.
"""

from django.db.models import F
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import MARKETING_SIDE, HasRole
from leadhandoff.api import ErrorSerializer, validated
from leadhandoff.pagination import ApiPagination
from leadhandoff.parsers import EventJSONParser
from leads.intake import services as intake
from leads.models import LEAD_PROFILE_FIELDS, EngagementEvent, EventKind, Lead, Origin, RepSourceChannel
from leads.pool.filters import LeadApiFilter
from leads.pool.selectors import LeadsInScoreOrder
from leads.selectors import lead_get_for_user, leads_visible_to

# --- Shared shapes ----------------------------------------------------------


class StrictSerializer(serializers.Serializer):
    """Refuses field names it does not declare, naming them (a typo must not vanish silently)."""

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, dict):
            for name in data.keys() - self.fields.keys():
                errors[name] = [
                    intake.WORKFLOW_FIELD_MESSAGE if name in intake.WORKFLOW_FIELDS else intake.UNKNOWN_FIELD_MESSAGE
                ]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**errors, **exc.detail}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return value


# --- Leads ------------------------------------------------------------------


class LeadInputSerializer(StrictSerializer):
    """A lead from a source system. Give `email` or `external_id` (or both) as its key.

    Fields left out keep their stored value; `attributes` merges into the stored ones.
    Status, owner, team and scores belong to the workflow and are refused.
    """

    email = serializers.EmailField(max_length=254, required=False, allow_null=True, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    company_size = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False, allow_null=True)
    annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True)
    source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    campaign = serializers.CharField(max_length=150, required=False, allow_blank=True)
    origin = serializers.ChoiceField(choices=Origin.choices, required=False)
    rep_source_channel = serializers.ChoiceField(choices=RepSourceChannel.choices, required=False, allow_blank=True)
    attributes = serializers.DictField(
        required=False, help_text="Declared custom fields are checked by their kind; other keys are kept as sent."
    )
    do_not_email = serializers.BooleanField(required=False)
    do_not_call = serializers.BooleanField(required=False)
    unsubscribed = serializers.BooleanField(required=False)
    consent_source = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="Why consent changed (default: API)."
    )

    def validate(self, attrs):
        if not (attrs.get("email") or attrs.get("external_id")):
            raise serializers.ValidationError({"email": [intake.KEY_MISSING_MESSAGE]})
        return attrs


class LeadOwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class LeadTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LeadOutputSerializer(serializers.ModelSerializer):
    owner = LeadOwnerSerializer(read_only=True, allow_null=True)
    team = LeadTeamSerializer(read_only=True, allow_null=True)
    # Read from lead.scorecard (Lead's properties); declared so the schema knows their types.
    # Blank for marketing leads: documented as part of the enum ("" is a value the API returns).
    rep_source_channel = serializers.ChoiceField(choices=RepSourceChannel.choices, allow_blank=True, read_only=True)
    score = serializers.IntegerField(read_only=True, allow_null=True)
    fit_score = serializers.IntegerField(read_only=True, allow_null=True)
    behaviour_score = serializers.IntegerField(read_only=True, allow_null=True)
    passes_gates = serializers.BooleanField(read_only=True, allow_null=True)
    scored_version = serializers.IntegerField(read_only=True, allow_null=True)
    scored_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Lead
        fields = (
            "id",
            *LEAD_PROFILE_FIELDS,
            "rep_source_channel",
            "status",
            "owner",
            "team",
            "score",
            "fit_score",
            "behaviour_score",
            "passes_gates",
            "scored_version",
            "scored_at",
            "last_activity_at",
            "created_at",
            "updated_at",
            "promoted_at",
            "assigned_at",
            "sla_due_at",
            "first_contact_at",
            "closed_at",
        )
        read_only_fields = fields


class LeadScoreExplanationSerializer(serializers.Serializer):
    """Why a lead scored what it did against the definition version named. Empty until scored."""

    class ExplanationGateSerializer(serializers.Serializer):
        id = serializers.CharField()
        label = serializers.CharField()
        passed = serializers.BooleanField()

    class ExplanationRuleSerializer(serializers.Serializer):
        id = serializers.CharField()
        label = serializers.CharField()
        type = serializers.CharField()
        points = serializers.IntegerField()

    version = serializers.IntegerField(required=False)
    total = serializers.IntegerField(required=False)
    fit = serializers.IntegerField(required=False)
    behaviour = serializers.IntegerField(required=False)
    threshold = serializers.IntegerField(required=False)
    gates = ExplanationGateSerializer(many=True, required=False)
    rules = ExplanationRuleSerializer(many=True, required=False)


class LeadDetailOutputSerializer(LeadOutputSerializer):
    score_explanation = LeadScoreExplanationSerializer(read_only=True)
    attributes = serializers.DictField(read_only=True)

    class Meta(LeadOutputSerializer.Meta):
        fields = (
            *LeadOutputSerializer.Meta.fields,
            "score_explanation",
            "attributes",
            "do_not_email",
            "do_not_call",
            "unsubscribed",
            "consent_changed_at",
            "consent_source",
        )
        read_only_fields = fields


class LeadListCreateApi(generics.ListCreateAPIView):
    """GET: the leads you may see (a rep their own, a manager their teams', never the nurture pool).

    POST (marketing, admin): create or update a lead by its key.
    """

    queryset = Lead.objects.none()  # the real one is per user (get_queryset)
    serializer_class = LeadOutputSerializer
    pagination_class = ApiPagination
    filterset_class = LeadApiFilter
    search_fields = ("first_name", "last_name", "email", "company", "external_id")
    ordering_fields = ("created_at", "updated_at", "score", "last_activity_at", "company", "id")
    ordering = ("-created_at", "-id")

    def get_permissions(self):
        if self.request.method == "POST":
            return [HasRole(*MARKETING_SIDE)()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lead.objects.none()
        # `score` orders by the scorecard's total (the score is not a column of Lead).
        return (
            leads_visible_to(user=self.request.user)
            .select_related("owner", "team", "scorecard")
            .alias(score=F("scorecard__total"))
        )

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # By score alone: highest (or lowest) first, unscored leads last, read from the
        # score index rather than by sorting every lead the caller may see.
        ordering = self.request.query_params.get("ordering", "").strip()
        if ordering in ("score", "-score"):
            return LeadsInScoreOrder(queryset, descending=ordering == "-score")
        return queryset

    @extend_schema(
        summary="Create or update a lead by its key",
        request=LeadInputSerializer,
        responses={
            201: OpenApiResponse(LeadDetailOutputSerializer, description="Created"),
            200: OpenApiResponse(LeadDetailOutputSerializer, description="Updated (same key, same id)"),
            400: OpenApiResponse(ErrorSerializer, description="A field is wrong or unknown; nothing was saved"),
            409: OpenApiResponse(ErrorSerializer, description="The keys name two different leads"),
        },
        examples=[
            OpenApiExample(
                "New webinar lead",
                request_only=True,
                value={"email": "ana@acme.com", "first_name": "Ana", "company": "Acme", "source": "webinar"},
            )
        ],
    )
    def post(self, request, *args, **kwargs):
        data = validated(LeadInputSerializer(data=request.data), "The lead was not saved: fix the fields named.")
        lead, created = intake.lead_upsert(data=data, actor=request.user, now=timezone.now())
        lead = Lead.objects.select_related("owner", "team", "scorecard__legend").get(pk=lead.pk)
        return Response(
            LeadDetailOutputSerializer(lead).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class LeadDetailApi(APIView):
    """One lead you may see, with the explanation of its score; 404 otherwise."""

    @extend_schema(
        summary="A lead with its score explanation",
        responses={
            200: LeadDetailOutputSerializer,
            404: OpenApiResponse(ErrorSerializer, description="Not found"),
        },
    )
    def get(self, request, lead_id: int):
        lead = lead_get_for_user(user=request.user, lead_id=lead_id, with_score=True)
        return Response(LeadDetailOutputSerializer(lead).data)


# --- Events -----------------------------------------------------------------


class LeadEventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = EngagementEvent
        fields = ("id", "kind", "occurred_at", "properties", "external_id", "received_at")
        read_only_fields = fields


class LeadEventsApi(generics.ListAPIView):
    """A lead's engagement events, newest first (the lead must be one you may see)."""

    queryset = EngagementEvent.objects.none()
    serializer_class = LeadEventOutputSerializer
    pagination_class = ApiPagination
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EngagementEvent.objects.none()
        lead = lead_get_for_user(user=self.request.user, lead_id=self.kwargs["lead_id"])
        return EngagementEvent.objects.filter(lead=lead).order_by("-occurred_at", "-id")


class EventInputSerializer(serializers.Serializer):
    """One engagement event. Name its lead by `email` (an unknown email creates the
    nurture lead) or `lead_external_id` (must exist). `external_id` is the event's own
    id in the sending system: a retried batch does not store it twice."""

    kind = serializers.ChoiceField(choices=EventKind.choices)
    occurred_at = serializers.DateTimeField(
        help_text="From 1990-01-01 on, and not in the future (5 minutes of clock drift allowed)."
    )
    properties = serializers.DictField(required=False)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    email = serializers.EmailField(max_length=254, required=False, allow_null=True)
    lead_external_id = serializers.CharField(max_length=100, required=False, allow_null=True)


class EventRejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in the batch (0 for a single event)")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class EventIngestOutputSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    accepted = serializers.IntegerField(help_text="Valid events: newly stored plus already stored duplicates")
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Events whose external_id was already stored")
    leads_created = serializers.IntegerField()
    rejected = EventRejectionSerializer(many=True)
    detail = serializers.CharField(required=False)
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For a single event: the field messages of its rejection",
    )


class EventIngestRefusalSerializer(ErrorSerializer):
    """A refused post: the batch itself (not JSON, empty, over 1,000: `detail` and `fields` only)
    or every event in it (with the counts and each event's rejection)."""

    received = serializers.IntegerField(required=False)
    accepted = serializers.IntegerField(required=False)
    stored = serializers.IntegerField(required=False)
    duplicates = serializers.IntegerField(required=False)
    leads_created = serializers.IntegerField(required=False)
    rejected = EventRejectionSerializer(many=True, required=False)


class EventIngestApi(APIView):
    """Engagement events in: one event object or a list of up to 1,000 (marketing, admin).

    Valid events are stored even when others in the batch are refused; the answer
    lists each refused event by its index with field messages.
    """

    permission_classes = [HasRole(*MARKETING_SIDE)]
    parser_classes = [EventJSONParser]

    @extend_schema(
        summary="Post one engagement event or a batch of up to 1,000",
        request=PolymorphicProxySerializer(
            component_name="EventOrBatch",
            serializers=[EventInputSerializer, EventInputSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: OpenApiResponse(EventIngestOutputSerializer, description="At least one new event stored"),
            200: OpenApiResponse(EventIngestOutputSerializer, description="Every valid event was already stored"),
            400: OpenApiResponse(
                EventIngestRefusalSerializer,
                description="No event was valid, or the batch itself was refused (not a list, empty, over 1,000)",
            ),
        },
        examples=[
            OpenApiExample(
                "A batch",
                request_only=True,
                value=[
                    {
                        "kind": "pricing_page_view",
                        "occurred_at": "2025-03-01T10:15:00Z",
                        "email": "ana@acme.com",
                        "external_id": "evt-1001",
                        "properties": {"url": "/pricing"},
                    }
                ],
            )
        ],
    )
    def post(self, request):
        payload = request.data
        single = isinstance(payload, dict)
        result = intake.events_ingest(events=[payload] if single else payload, actor=request.user, now=timezone.now())
        body = {
            "received": result.received,
            "accepted": result.accepted,
            "stored": result.stored,
            "duplicates": result.duplicates,
            "leads_created": result.leads_created,
            "rejected": result.rejected,
        }
        if not result.accepted:
            body["detail"] = "No event was stored: fix the fields named."
            if single:
                body["fields"] = result.rejected[0]["fields"]
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED if result.stored else status.HTTP_200_OK)
