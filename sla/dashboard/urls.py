from django.urls import path

from sla.dashboard import views

app_name = "sla_dashboard"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("leads/", views.drill_down, name="leads"),
    path("export.csv", views.export, name="export"),
]
