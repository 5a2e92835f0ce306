"""REST API v1 for custom fields and event kinds.

Every signed-in role reads them (a lead's attributes are labelled by them);
marketing and admins declare, change and delete them (403 for sales). Bad input
is a 400 with a message per field.
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import MARKETING_SIDE, HasRole
from leadhandoff.api import ErrorSerializer, validated
from leads.models import CustomField, CustomFieldKind, EventKind, EventKindDefinition

from . import selectors, services


class CustomFieldOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CustomField"

    id = serializers.IntegerField()
    name = serializers.CharField(help_text="Rules and files name it as attributes.<name>.")
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=CustomFieldKind.choices)
    choices = serializers.ListField(child=serializers.CharField())
    personal = serializers.BooleanField(help_text="Personal data: erased, never filtered on by sales.")


class CustomFieldInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    label = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=CustomFieldKind.choices)
    choices = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    personal = serializers.BooleanField(required=False, default=False)


class CustomFieldUpdateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=CustomFieldKind.choices, required=False)
    choices = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    personal = serializers.BooleanField(required=False, default=False)


class CustomFieldListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CustomFieldOutputSerializer(many=True))
    def get(self, request):
        return Response(CustomFieldOutputSerializer(selectors.custom_fields_list(), many=True).data)


class CustomFieldCreateApi(APIView):
    permission_classes = [HasRole(*MARKETING_SIDE)]

    @extend_schema(
        request=CustomFieldInputSerializer,
        responses={201: CustomFieldOutputSerializer, 400: OpenApiResponse(ErrorSerializer)},
    )
    def post(self, request):
        data = validated(CustomFieldInputSerializer(data=request.data))
        field = services.custom_field_create(**data, now=timezone.now())
        return Response(CustomFieldOutputSerializer(field).data, status=status.HTTP_201_CREATED)


class CustomFieldDetailApi(APIView):
    permission_classes = [HasRole(*MARKETING_SIDE)]

    @extend_schema(
        request=CustomFieldUpdateSerializer,
        responses={200: CustomFieldOutputSerializer, 400: OpenApiResponse(ErrorSerializer)},
    )
    def put(self, request, field_id: int):
        field = get_object_or_404(CustomField, pk=field_id)
        data = validated(CustomFieldUpdateSerializer(data=request.data))
        field = services.custom_field_update(field=field, **data)
        return Response(CustomFieldOutputSerializer(field).data)

    @extend_schema(responses={204: None, 400: OpenApiResponse(ErrorSerializer)})
    def delete(self, request, field_id: int):
        services.custom_field_delete(field=get_object_or_404(CustomField, pk=field_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventKindSerializer(serializers.Serializer):
    class Meta:
        ref_name = "EventKindDefinition"

    id = serializers.IntegerField(read_only=True, allow_null=True, help_text="null for a built-in kind.")
    name = serializers.CharField(max_length=32)
    label = serializers.CharField(max_length=100)
    built_in = serializers.BooleanField(read_only=True, default=False)


class EventKindListApi(APIView):
    """GET: every event kind (the seven built in, then marketing's)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=EventKindSerializer(many=True))
    def get(self, request):
        # The marketers' kinds read once (event_kind_choices would read them again).
        custom = list(selectors.event_kinds_custom())
        return Response(
            [{"id": None, "name": name, "label": label, "built_in": True} for name, label in EventKind.choices]
            + [{"id": k.pk, "name": k.name, "label": k.label, "built_in": False} for k in custom]
        )


class EventKindCreateApi(APIView):
    permission_classes = [HasRole(*MARKETING_SIDE)]

    @extend_schema(
        request=EventKindSerializer, responses={201: EventKindSerializer, 400: OpenApiResponse(ErrorSerializer)}
    )
    def post(self, request):
        data = validated(EventKindSerializer(data=request.data))
        kind = services.event_kind_create(name=data["name"], label=data["label"], now=timezone.now())
        return Response(EventKindSerializer(kind).data, status=status.HTTP_201_CREATED)


class EventKindDeleteApi(APIView):
    permission_classes = [HasRole(*MARKETING_SIDE)]

    @extend_schema(responses={204: None, 400: OpenApiResponse(ErrorSerializer)})
    def delete(self, request, kind_id: int):
        services.event_kind_delete(kind=get_object_or_404(EventKindDefinition, pk=kind_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
