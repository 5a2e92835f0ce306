"""The permission matrix: every named route, every role, the expected answer.

Each area keeps its routes in a module of its own here (`routes_<area>.py`,
defining `ROUTES: list[Route]`) so features do not edit one shared file.
tests/test_route_permissions.py runs them all and fails when a route exists
in the URLconf without an entry here.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

ROLES = ("anonymous", "marketer", "rep", "other_rep", "manager", "admin")


@dataclass(frozen=True)
class Route:
    name: str
    # Expected status per role name in ROLES; every role must be listed.
    expect: dict[str, int]
    method: str = "get"
    # Builds reverse() kwargs from the `leads` fixture (see tests/conftest.py).
    kwargs: Callable = field(default=lambda leads: {})
    data: dict | None = None
    api: bool = False
    format: str = "multipart"
    # For a write: effect(leads, kwargs, user) asserts the row it created, changed or
    # deleted (kwargs as built for reverse(), user the role's user or None). The matrix
    # checks it fails before the request, holds after an allowed write and still
    # fails after a refused one.
    effect: Callable | None = None

    def allows_write(self, role: str) -> bool:
        """A write the role may make: an API success, or a page's redirect after a
        successful form (a page answering 200 to a POST re-renders the form's errors)."""
        status = self.expect[role]
        if self.method == "get" or role == "anonymous":
            return False
        return status in (201, 202, 204) or status == (200 if self.api else 302)


# URL names that need no permission entry: third-party or framework routes.
EXEMPT_PREFIXES = ("admin:", "api-schema", "api-docs")
# The health checks answer everyone alike, without a login (load balancer, monitoring):
# tests/ops/test_healthz.py and tests/sla/test_sweep_command_and_health.py cover them.
EXEMPT_NAMES = {"login", "logout", "healthz", "healthz-jobs", "api-token", "password_change", "home"}


def all_routes() -> list[Route]:
    routes: list[Route] = []
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("routes_"):
            routes.extend(importlib.import_module(f"{__name__}.{module.name}").ROUTES)
    return routes
