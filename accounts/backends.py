"""How a signed-in browser's user is loaded on each request."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from leadhandoff.json_rows import instance_from_json, row_json

from .models import RepProfile

UserModel = get_user_model()

# The user and their rep profile, as select_related("rep_profile") reads them, in a statement
# written once: every page loads the signed-in user, and compiling the ORM's join cost more
# CPU than running it. tests/accounts/test_auth.py holds it equal to the ORM's.
_USER_SQL = f"""
    SELECT {row_json(UserModel, "u")}, {row_json(RepProfile, "p")}
    FROM {UserModel._meta.db_table} u
    LEFT JOIN {RepProfile._meta.db_table} p ON p.{RepProfile.user.field.column} = u.id
    WHERE u.id = %s
"""  # noqa: S608 - table names from the models; the id is a parameter


class UserWithProfileBackend(ModelBackend):
    """Django's ModelBackend, loading a rep's profile (team, working hours) with the user.

    Every sales page asks for the rep's team (free to cold-call, the queue, the brief):
    one join here instead of one more query on each of them.
    """

    def get_user(self, user_id):
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        with connection.cursor() as cursor:
            cursor.execute(_USER_SQL, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user, profile = instance_from_json(UserModel, row[0]), instance_from_json(RepProfile, row[1])
        # Cached as select_related caches it: user.rep_profile is no query (nor a missing one).
        UserModel.rep_profile.related.set_cached_value(user, profile)
        if profile is not None:
            RepProfile.user.field.set_cached_value(profile, user)
        return user if self.user_can_authenticate(user) else None
