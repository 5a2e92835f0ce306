"""The roster import (accounts.roster): its page and endpoint are for admins only."""

from accounts.models import User

from . import Route

ANON = 302  # pages send anonymous users to the login page


def _admin_only(status: int, anonymous: int = ANON) -> dict[str, int]:
    return {"anonymous": anonymous, "marketer": 403, "rep": 403, "other_rep": 403, "manager": 403, "admin": status}


def roster_imported(leads, kwargs, user):
    assert User.objects.filter(username="matrix.rep", rep_profile__team__name="Matrix Team").exists()


ROUTES = [
    Route("roster", _admin_only(200)),
    Route("roster", _admin_only(400), method="post", data={}),  # no file: the form says so
    Route(
        "roster_import",
        _admin_only(302),
        method="post",
        data={"name": "roster.csv", "text": "rep,team\nMatrix Rep,Matrix Team\n"},
        effect=roster_imported,
    ),
    Route("roster_import", _admin_only(400), method="post", data={}),  # nothing previewed to import
    Route("roster_import", _admin_only(405)),  # GET never imports
    Route("api-roster-import", _admin_only(400, anonymous=401), method="post", data={}, api=True),  # no file
]
