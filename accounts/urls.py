from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .roster import views as roster

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/roster/", roster.roster, name="roster"),
    path("accounts/roster/import/", roster.roster_import_view, name="roster_import"),
]
