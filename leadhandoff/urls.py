from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from sla.notifications.urls import api_urlpatterns as notification_apis

from . import health

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accounts.api_urls")),
    path("", include("leads.api_urls")),
    path("", include("scoring.api_urls")),
    path("", include("sla.policies.api_urls")),
    path("", include("reports.api_urls")),
    path("", include(notification_apis)),
    path("", include("sla.dashboard.api_urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("healthz/jobs", health.healthz_jobs, name="healthz-jobs"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("", include("accounts.urls")),
    path("leads/", include("leads.urls")),
    path("definition/", include("scoring.urls")),
    path("policies/", include("sla.policies.urls")),
    path("reports/", include("reports.urls")),
    path("notifications/", include("sla.notifications.urls")),
    path("sla/dashboard/", include("sla.dashboard.urls")),
]

# JSON under /api/ (the API's error shape), the pages' templates elsewhere.
handler400 = "leadhandoff.api.bad_request"
handler403 = "leadhandoff.api.permission_denied"
handler404 = "leadhandoff.api.page_not_found"
handler500 = "leadhandoff.api.server_error"
