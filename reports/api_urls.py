from django.urls import path

from . import apis
from .analyses import apis as analysis_apis

urlpatterns = [
    path("reports/", apis.ReportListApi.as_view(), name="api-reports"),
    path("reports/<int:report_id>/", apis.ReportDetailApi.as_view(), name="api-report-detail"),
    path("reports/analyses/", analysis_apis.AnalysisListApi.as_view(), name="api-analyses"),
    path("reports/analyses/<int:analysis_id>/", analysis_apis.AnalysisDetailApi.as_view(), name="api-analysis-detail"),
]
