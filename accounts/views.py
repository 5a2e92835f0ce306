from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from leadhandoff.api import ApplicationError
from leadhandoff.forms import form_errors_add

from .forms import LoginForm, ScheduleForm, StyledPasswordChangeForm
from .models import RepProfile, Role
from .services import user_api_tokens_revoke, user_schedule_update

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


@login_required
def my_schedule(request: HttpRequest) -> HttpResponse:
    """Every user's own time zone; a rep's working hours too."""
    user = request.user
    profile = RepProfile.objects.filter(user=user).first()
    return schedule_page(request, subject=user, profile=profile, back_url=reverse_lazy("home"), own=True)


def schedule_page(request: HttpRequest, *, subject, profile: RepProfile | None, back_url: str, own: bool):
    """The time zone and working hours form, for oneself or (sla.policies.views) a manager's rep."""
    with_hours = profile is not None
    initial = ScheduleForm.initial_for(user=subject, working_hours=profile.working_hours if profile else None)
    form = ScheduleForm(request.POST or None, initial=initial, with_hours=with_hours)
    if request.method == "POST" and form.is_valid():
        try:
            user_schedule_update(user=subject, **form.schedule_values())
        except ApplicationError as error:
            form_errors_add(form, error)
        else:
            whose = "Your" if own else f"{subject}'s"
            messages.success(
                request,
                f"{whose} {'time zone and working hours' if with_hours else 'time zone'} saved. "
                "Clocks started from now on use them; running clocks keep their deadlines.",
            )
            return redirect(request.get_full_path())
    status = 400 if form.errors else 200
    context = {"form": form, "subject": subject, "with_hours": with_hours, "own": own, "back_url": back_url}
    return render(request, "accounts/schedule.html", context, status=status)


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
