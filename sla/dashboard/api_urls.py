from django.urls import path

from sla.dashboard import apis

urlpatterns = [
    path("sla/dashboard/", apis.SlaDashboardApi.as_view(), name="api-sla-dashboard"),
    path("sla/free-to-cold-call/", apis.FreeToColdCallApi.as_view(), name="api-sla-free-to-cold-call"),
]
