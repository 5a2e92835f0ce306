from django.urls import path

from . import apis

urlpatterns = [
    path("reports/", apis.ReportListApi.as_view(), name="api-reports"),
    path("reports/<int:report_id>/", apis.ReportDetailApi.as_view(), name="api-report-detail"),
]
