from django.urls import path

from . import views

# Included by reports.urls (app_name "reports").
urlpatterns = [
    path("cherry-pick/", views.cherry_pick, name="cherry_pick"),
    path("credit/", views.credit, name="credit"),
    path("cycle/", views.cycle, name="cycle"),
    path("analyses/<int:analysis_id>/histogram/<int:bin>/", views.cycle_leads, name="cycle_bin_leads"),
    path("analyses/<int:analysis_id>/trend/<str:by>/<str:key>/<str:month>/", views.cycle_leads, name="cycle_leads"),
    path("analyses/build/<str:kind>/", views.analysis_build, name="analysis_build"),
    path("analyses/<int:analysis_id>/", views.analysis_detail, name="analysis_detail"),
    path("analyses/<int:analysis_id>/status/", views.analysis_status, name="analysis_status"),
    path("analyses/<int:analysis_id>/export.csv", views.analysis_export, name="analysis_export"),
    path("analyses/<int:analysis_id>/reps/<int:rep_id>/<str:outcome>/", views.analysis_leads, name="analysis_leads"),
]
