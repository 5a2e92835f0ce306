"""One application error type for the domain, mapped to JSON by one handler."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular import openapi
from rest_framework import exceptions, status
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


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ApplicationError):
        body = {"detail": exc.message}
        if exc.fields:
            body["fields"] = exc.fields
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)


class AutoSchema(openapi.AutoSchema):
    """Name nested Input/OutputSerializers after their API view.

    Every view nests classes called InputSerializer and OutputSerializer (HackSoft
    style); without this their OpenAPI component names would collide.
    """

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        return qualname.replace(".", "") if "." in qualname else super().get_serializer_name(serializer, direction)
