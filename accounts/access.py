"""Role checks for views and APIs, enforced on the server.

Pages a role may not use answer 403; objects it may not see answer 404 (the
per-app `<entity>_get_for_user` helpers do that part).
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from .models import Role

MARKETING_SIDE = (Role.MARKETING, Role.ADMIN)
SALES_SIDE = (Role.REP, Role.MANAGER)
MANAGERS = (Role.MANAGER, Role.ADMIN)


def user_has_role(user, roles: Iterable[str]) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.role in roles or (user.is_superuser and Role.ADMIN in roles)


def role_required(*roles: str) -> Callable:
    """View decorator: log in first, then 403 unless the user holds one of `roles`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not user_has_role(request.user, roles):
                raise PermissionDenied("Your role may not use this page.")
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = tuple(roles)  # read by the route permission test
        return wrapped

    return decorator


def HasRole(*roles: str) -> type[BasePermission]:  # noqa: N802 - reads like a class in permission_classes
    """DRF permission class allowing only `roles`."""

    class _HasRole(BasePermission):
        message = "Your role may not use this endpoint."
        allowed_roles = tuple(roles)

        def has_permission(self, request, view) -> bool:
            return user_has_role(request.user, roles)

    _HasRole.__name__ = "HasRole_" + "_".join(roles)
    return _HasRole
