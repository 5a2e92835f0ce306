from django.urls import path

from leads.intake import apis
from leads.queue import apis as queue_apis
from leads.routing import apis as routing_apis

urlpatterns = [
    # Intake and reads
    path("leads/", apis.LeadListCreateApi.as_view(), name="api-leads"),
    path("leads/<int:lead_id>/", apis.LeadDetailApi.as_view(), name="api-lead-detail"),
    path("leads/<int:lead_id>/events/", apis.LeadEventsApi.as_view(), name="api-lead-events"),
    path("events/", apis.EventIngestApi.as_view(), name="api-events"),
    # Routing: reassignment, team load, pausing reps
    path("leads/reassign/", routing_apis.LeadsReassignApi.as_view(), name="api-leads-reassign"),
    path("teams/<int:team_id>/load/", routing_apis.TeamLoadApi.as_view(), name="api-team-load"),
    path("reps/<int:rep_id>/pause/", routing_apis.RepPauseApi.as_view(), name="api-rep-pause"),
    path("reps/<int:rep_id>/unpause/", routing_apis.RepUnpauseApi.as_view(), name="api-rep-unpause"),
    # The sales queue: queue, touches, stages, rejections, rep-sourced prospects
    path("queue/", queue_apis.QueueApi.as_view(), name="api-queue"),
    path("leads/<int:lead_id>/touches/", queue_apis.LeadTouchesApi.as_view(), name="api-lead-touches"),
    path("leads/<int:lead_id>/stage/", queue_apis.LeadStageApi.as_view(), name="api-lead-stage"),
    path("leads/<int:lead_id>/reject/", queue_apis.LeadRejectApi.as_view(), name="api-lead-reject"),
    path("rejections/", queue_apis.RejectionListApi.as_view(), name="api-rejections"),
    path("prospects/", queue_apis.ProspectCreateApi.as_view(), name="api-prospects"),
]
