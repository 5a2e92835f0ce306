from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy

from .forms import LoginForm, StyledPasswordChangeForm
from .models import Role

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
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)
