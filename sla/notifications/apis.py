"""REST API v1 of notifications: the caller's own list, marking read, and preferences.

Same rules as the pages: any signed-in user, only their own notifications
(another user's is a 404).
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from leadhandoff.api import ErrorSerializer, validated
from leadhandoff.pagination import ApiPagination
from sla.models import Channel, EventKind
from sla.notifications import services
from sla.notifications.selectors import notifications_for_user, preferences_for_user, unread_count


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    message = serializers.CharField()
    lead_id = serializers.IntegerField(allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(APIView):
    """The caller's in-app notifications, newest first, with the unread count."""

    pagination_class = ApiPagination  # read by the schema: the list is documented as pages

    @extend_schema(responses={200: NotificationSerializer(many=True), 400: ErrorSerializer})
    def get(self, request):
        paginator = ApiPagination()
        page = paginator.paginate_queryset(notifications_for_user(user=request.user), request, view=self)
        response = paginator.get_paginated_response(NotificationSerializer(page, many=True).data)
        response.data["unread"] = unread_count(user=request.user)
        return response


class NotificationReadApi(APIView):
    """Mark one of the caller's notifications read."""

    @extend_schema(request=None, responses={200: NotificationSerializer})
    def post(self, request, notification_id: int):
        notification = services.notification_mark_read(
            user=request.user, notification_id=notification_id, now=timezone.now()
        )
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllApi(APIView):
    """Mark every unread notification of the caller read."""

    class OutputSerializer(serializers.Serializer):
        marked = serializers.IntegerField()

    @extend_schema(request=None, responses={200: OutputSerializer})
    def post(self, request):
        return Response({"marked": services.notifications_mark_all_read(user=request.user, now=timezone.now())})


class NotificationPreferencesApi(APIView):
    """GET: the caller's channel for each kind. PUT: change some or all of them."""

    class PreferencesSerializer(serializers.Serializer):
        warning = serializers.ChoiceField(choices=Channel.choices, required=False)
        breach = serializers.ChoiceField(choices=Channel.choices, required=False)
        escalation = serializers.ChoiceField(choices=Channel.choices, required=False)
        reassignment = serializers.ChoiceField(choices=Channel.choices, required=False)

    @extend_schema(responses={200: PreferencesSerializer})
    def get(self, request):
        return Response(preferences_for_user(user=request.user))

    @extend_schema(request=PreferencesSerializer, responses={200: PreferencesSerializer, 400: ErrorSerializer})
    def put(self, request):
        data = validated(self.PreferencesSerializer(data=request.data), "Some preferences are not valid.")
        return Response(services.preferences_set(user=request.user, channels=dict(data)))
