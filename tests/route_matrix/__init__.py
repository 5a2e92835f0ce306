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
    # Extra names this entry also covers (e.g. the same view answering several methods).
    format: str = "multipart"


# URL names that need no permission entry: third-party or framework routes.
EXEMPT_PREFIXES = ("admin:", "api-schema", "api-docs")
EXEMPT_NAMES = {"login", "logout", "healthz", "api-token", "password_change", "home"}


def all_routes() -> list[Route]:
    routes: list[Route] = []
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("routes_"):
            routes.extend(importlib.import_module(f"{__name__}.{module.name}").ROUTES)
    return routes
