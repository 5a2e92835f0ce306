from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from leadhandoff.api import ErrorSerializer

from .authentication import token_expires_at
from .services import api_token_issue


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
