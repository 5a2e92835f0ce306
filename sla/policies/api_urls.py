from django.urls import path

from sla.policies import apis

urlpatterns = [
    path("policies/", apis.PolicyListApi.as_view(), name="api-policies"),
    path("policies/default/", apis.PolicyDefaultApi.as_view(), name="api-policy-default"),
    path("teams/<int:team_id>/policy/", apis.TeamPolicyApi.as_view(), name="api-team-policy"),
    path("teams/<int:team_id>/closed-dates/", apis.ClosedDateListCreateApi.as_view(), name="api-closed-dates"),
    path(
        "teams/<int:team_id>/closed-dates/<int:closed_date_id>/",
        apis.ClosedDateDeleteApi.as_view(),
        name="api-closed-date",
    ),
    path("reps/<int:rep_id>/working-hours/", apis.RepScheduleApi.as_view(), name="api-rep-schedule"),
    path("leads/<int:lead_id>/clocks/", apis.LeadClocksApi.as_view(), name="api-lead-clocks"),
]
