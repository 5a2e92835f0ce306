"""The SLA dashboard (sla.dashboard): pages and API for managers, admins and marketing;
free-to-cold-call for reps (their own), managers and admins. Read-only: no effects."""

from . import Route

ANON = 302  # pages send anonymous users to the login page
API_ANON = 401  # token authentication answers first
DASHBOARD = {"anonymous": ANON, "marketer": 200, "rep": 403, "other_rep": 403, "manager": 200, "admin": 200}

ROUTES = [
    Route("sla_dashboard:dashboard", DASHBOARD),
    Route("sla_dashboard:leads", DASHBOARD),
    Route("sla_dashboard:export", DASHBOARD),
    Route("api-sla-dashboard", {**DASHBOARD, "anonymous": API_ANON}, api=True),
    Route(
        "api-sla-free-to-cold-call",
        {"anonymous": API_ANON, "marketer": 403, "rep": 200, "other_rep": 200, "manager": 200, "admin": 200},
        api=True,
    ),
]
