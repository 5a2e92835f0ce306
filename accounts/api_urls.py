from django.urls import path

from . import apis
from .roster import apis as roster_apis

urlpatterns = [
    path("auth/token/", apis.TokenCreateApi.as_view(), name="api-token"),
    path("roster/", roster_apis.RosterImportApi.as_view(), name="api-roster-import"),
]
