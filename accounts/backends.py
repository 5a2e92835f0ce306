"""How a signed-in browser's user is loaded on each request."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

UserModel = get_user_model()


class UserWithProfileBackend(ModelBackend):
    """Django's ModelBackend, loading a rep's profile (team, working hours) with the user.

    Every sales page asks for the rep's team (free to cold-call, the queue, the brief):
    one join here instead of one more query on each of them.
    """

    def get_user(self, user_id):
        try:
            user = UserModel._default_manager.select_related("rep_profile").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
