from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from .forms import LoginForm, StyledPasswordChangeForm
from .models import Role
from .services import user_api_tokens_revoke

# Each role lands on its own home page.
HOME_BY_ROLE = {
    Role.MARKETING: "leads:pool",
    Role.REP: "leads:my_queue",
    Role.MANAGER: "leads:team_dashboard",
    Role.ADMIN: "leads:team_dashboard",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = Role.ADMIN if request.user.is_superuser else request.user.role
    return redirect(HOME_BY_ROLE[Role(role)])


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Django's view saves the new password through the form; the tokens
        # issued under the old password end here, in the same request.
        user_api_tokens_revoke(user=form.user)
        messages.success(self.request, "Your password was changed. Your API token has ended; request a new one.")
        return response


def lockout_message() -> str:
    hours = settings.AXES_COOLOFF_TIME
    wait = f"{round(hours * 60)} minutes" if hours < 2 else f"{hours:g} hours"
    return (
        f"Too many failed logins for this account or from this address. "
        f"Try again in {wait}, or ask an admin to lift the lockout."
    )


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): JSON under /api/, the login page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    return render(request, "accounts/locked_out.html", {"message": lockout_message()}, status=429)
