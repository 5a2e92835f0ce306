"""One application error type for the domain, mapped to JSON by one handler."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from drf_spectacular import openapi
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A domain rule refused the operation. `fields` maps field names to messages."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if status_code:
            self.status_code = status_code


class ConflictError(ApplicationError):
    """Someone else changed the object first (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT


INVALID_INPUT = "Some fields are not valid."


class ErrorSerializer(serializers.Serializer):
    """Every refused request (the OpenAPI schema's "Error"): a message and, where fields are at fault, theirs."""

    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


def validated(serializer: serializers.Serializer, message: str = INVALID_INPUT) -> dict:
    """The serializer's validated data, or its errors in the API's one error shape ({"detail", "fields"})."""
    if not serializer.is_valid():
        raise ApplicationError(message, fields=serializer.errors)
    return serializer.validated_data


def _flat_fields(fields: dict) -> dict[str, list[str]]:
    """Nested serializer errors ({"hours": [{}, {"start": [...]}]}) as the one flat shape the
    schema documents: {"hours.1.start": [...]}, every value a list of strings."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, (list, tuple)):
            if all(not isinstance(item, (dict, list, tuple)) for item in value):
                if value:
                    flat.setdefault(prefix, []).extend(str(item) for item in value)
                return
            for index, item in enumerate(value):
                walk(f"{prefix}.{index}", item)
        elif value not in (None, ""):
            flat.setdefault(prefix, []).append(str(value))

    walk("", fields)
    return flat


def exception_handler(exc, context):
    # Every refusal answers in one shape, {"detail": message, "fields": {name: [messages]}},
    # whoever raised it: a service (ApplicationError), a model's full_clean, a serializer
    # validated with raise_exception, or a django-filter FilterSet on a list.
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = ApplicationError(INVALID_INPUT, fields=fields)
    elif isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        exc = ApplicationError(INVALID_INPUT, fields=fields)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ApplicationError):
        body = {"detail": exc.message}
        if exc.fields:
            body["fields"] = _flat_fields(exc.fields)
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)


class AutoSchema(openapi.AutoSchema):
    """Name nested Input/OutputSerializers after their API view.

    Every view nests classes called InputSerializer and OutputSerializer (HackSoft
    style); without this their OpenAPI component names would collide.
    """

    # Answers any operation may give, in the one error shape: a refused input or
    # paging parameter, no or a bad token, a role refused, an object not found or
    # hidden, a method or media type not served, a throttle.
    COMMON_ERROR_CODES = ("400", "401", "403", "404", "405", "406", "415", "429")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            for code in self.COMMON_ERROR_CODES:
                if code not in responses:
                    responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        return qualname.replace(".", "") if "." in qualname else super().get_serializer_name(serializer, direction)


# --- Errors raised outside DRF (no URL matched, an uncaught exception) ---------------
# Under /api/ they answer in the API's error shape, as JSON; elsewhere the pages'.


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    from django.views import defaults

    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    from leadhandoff import views

    return views.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    from leadhandoff import views

    return views.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Server error: the failure is logged; try again later."}, status=500)
    from leadhandoff import views

    return views.server_error(request)
