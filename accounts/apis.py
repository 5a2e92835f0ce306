from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from leadhandoff.api import ErrorSerializer, validated

from .authentication import token_expires_at
from .services import api_token_issue, user_schedule_update


class TokenCreateApi(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    # Its own rate ("token" in DEFAULT_THROTTLE_RATES), per address: slower than
    # the API's, since every call here checks a password.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        role = serializers.CharField()
        expires_at = serializers.DateTimeField()

    # 429: this endpoint's throttle, or a django-axes lockout after repeated wrong passwords.
    @extend_schema(
        request=InputSerializer, responses={200: OutputSerializer, 400: ErrorSerializer, 429: ErrorSerializer}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: django-axes flags a lockout on it
        # and its middleware answers with accounts.views.locked_out.
        user = authenticate(request._request, **data.validated_data)
        if user is None:
            return Response(
                {
                    "detail": "Unable to log in with the username and password given.",
                    "fields": {"password": ["Wrong username or password."]},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        token = api_token_issue(user=user)
        return Response(
            self.OutputSerializer(
                {"token": token.key, "role": user.role, "expires_at": token_expires_at(token.created)}
            ).data
        )


class ScheduleSerializer(serializers.Serializer):
    """A user's time zone and, for a rep, working hours (windows of the week in that time zone)."""

    class Meta:
        ref_name = "Schedule"

    class WindowSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkingWindow"

        day = serializers.IntegerField(help_text="0 is Monday, 6 Sunday.")
        start = serializers.CharField(help_text="HH:MM in the user's time zone.")
        end = serializers.CharField(help_text="HH:MM, after start; 24:00 is midnight at the end of the day.")

    timezone = serializers.CharField(help_text="An IANA time zone name, e.g. Europe/Berlin.")
    working_hours = WindowSerializer(
        many=True,
        allow_null=True,
        required=False,
        help_text="Reps only (null for other roles). Several windows a day make a lunch break; overlaps are refused.",
    )


def schedule_data(user) -> dict:
    profile = getattr(user, "rep_profile", None)
    return {"timezone": user.timezone, "working_hours": profile.working_hours if profile else None}


def schedule_put(request, user) -> Response:
    """PUT of a schedule (one's own, or a manager's rep's): validate, save, answer the new schedule."""
    data = validated(ScheduleSerializer(data=request.data), "Your changes were not saved.")
    hours = data.get("working_hours")
    user_schedule_update(user=user, timezone=data["timezone"], working_hours=None if hours is None else hours)
    user.refresh_from_db()
    if hasattr(user, "rep_profile"):
        user.rep_profile.refresh_from_db()
    return Response(ScheduleSerializer(schedule_data(user)).data)


class MyScheduleApi(APIView):
    """Your own time zone and, if you are a rep, your working hours."""

    @extend_schema(responses={200: ScheduleSerializer})
    def get(self, request):
        return Response(ScheduleSerializer(schedule_data(request.user)).data)

    @extend_schema(request=ScheduleSerializer, responses={200: ScheduleSerializer, 400: ErrorSerializer})
    def put(self, request):
        return schedule_put(request, request.user)
