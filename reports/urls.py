from django.urls import path

from . import views
from .analyses.urls import urlpatterns as analysis_urlpatterns

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("build/", views.report_build, name="report_build"),
    path("<int:report_id>/", views.report_detail, name="report_detail"),
    path("<int:report_id>/status/", views.report_status, name="report_status"),
    path("<int:report_id>/export.csv", views.report_export, name="report_export"),
    path("<int:report_id>/groups/<str:group>/", views.report_group_leads, name="report_group_leads"),
]

urlpatterns += analysis_urlpatterns
