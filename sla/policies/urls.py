from django.urls import path

from sla.policies import views

app_name = "policies"

urlpatterns = [
    path("", views.policy_list, name="list"),
    path("default/", views.policy_default_edit, name="default"),
    path("teams/<int:team_id>/", views.team_policy, name="team"),
    path("teams/<int:team_id>/own/", views.team_policy_own, name="team_own"),
    path("teams/<int:team_id>/remove/", views.team_policy_remove, name="team_remove"),
    path("teams/<int:team_id>/closed-dates/", views.closed_date_add, name="closed_date_add"),
    path(
        "teams/<int:team_id>/closed-dates/<int:closed_date_id>/delete/",
        views.closed_date_remove,
        name="closed_date_remove",
    ),
    path("reps/<int:rep_id>/working-hours/", views.rep_schedule, name="rep_schedule"),
]
