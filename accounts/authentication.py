"""How API requests authenticate: a user's expiring token or an integration's scoped key."""

import datetime
import hashlib

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.throttling import BaseThrottle

from .models import IntegrationKey

# What an integration key may do, by URL name and method; every other endpoint
# refuses keys. Names are the routes of leads/api_urls.py.
INTEGRATION_KEY_SCOPES = {
    ("api-leads", "POST"): IntegrationKey.Scope.LEADS_WRITE,
    ("api-events", "POST"): IntegrationKey.Scope.EVENTS_WRITE,
}


def client_address(request) -> str:
    """The client's address as the API throttles see it (REST_FRAMEWORK NUM_PROXIES), for django-axes too.

    One reading for both, so a login lockout and an API throttle count the same client.
    """
    return BaseThrottle().get_ident(request)


def token_expires_at(created: datetime.datetime) -> datetime.datetime:
    return created + datetime.timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token, refused once it is older than API_TOKEN_TTL_HOURS or than the
    user's last password change (however the password was changed: the pages delete
    the token at once; `manage.py changepassword` and any other path are caught here)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= token_expires_at(token.created):
            raise exceptions.AuthenticationFailed(
                "Your API token has expired. Request a new one from /api/v1/auth/token/."
            )
        if user.password_changed_at and token.created < user.password_changed_at:
            raise exceptions.AuthenticationFailed(
                "Your password changed after this API token was issued. Request a new one from /api/v1/auth/token/."
            )
        return user, token


class IntegrationKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: an integration's key, only where its scopes allow."""

    keyword = "Api-Key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the key as `Authorization: Api-Key <key>`.")
        try:
            raw = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from exc
        key = IntegrationKey.objects.select_related("user").filter(key_hash=key_hash(raw)).first()
        if key is None or not key.user.is_active:
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        if key.is_revoked:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        match = request._request.resolver_match
        needed = INTEGRATION_KEY_SCOPES.get((match.url_name if match else None, request.method))
        if needed is None:
            raise exceptions.PermissionDenied("API keys are not accepted on this endpoint.")
        if needed not in key.scopes:
            raise exceptions.PermissionDenied(f"This API key lacks the scope {needed}.")
        return key.user, key

    def authenticate_header(self, request):
        return self.keyword


class IntegrationKeySchema(OpenApiAuthenticationExtension):
    """How the OpenAPI schema names the key header (drf-spectacular finds it by target class)."""

    target_class = "accounts.authentication.IntegrationKeyAuthentication"
    name = "integrationKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: an integration's key, limited to its scopes.",
        }
