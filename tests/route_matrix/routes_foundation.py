from . import Route

ANON = 302  # pages send anonymous users to the login page

ROUTES = [
    Route(
        "leads:pool", {"anonymous": ANON, "marketer": 200, "rep": 403, "other_rep": 403, "manager": 403, "admin": 200}
    ),
    Route(
        "leads:my_queue",
        {"anonymous": ANON, "marketer": 403, "rep": 200, "other_rep": 200, "manager": 403, "admin": 403},
    ),
    Route(
        "leads:team_dashboard",
        {"anonymous": ANON, "marketer": 403, "rep": 403, "other_rep": 403, "manager": 200, "admin": 200},
    ),
]
