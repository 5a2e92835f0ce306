from django.urls import path

from leads.events import apis as event_import_apis
from leads.fields import apis as field_apis
from leads.intake import apis
from leads.queue import apis as queue_apis
from leads.routing import apis as routing_apis

urlpatterns = [
    # Intake and reads
    path("leads/", apis.LeadListCreateApi.as_view(), name="api-leads"),
    path("leads/<int:lead_id>/", apis.LeadDetailApi.as_view(), name="api-lead-detail"),
    path("leads/<int:lead_id>/events/", apis.LeadEventsApi.as_view(), name="api-lead-events"),
    path("events/", apis.EventIngestApi.as_view(), name="api-events"),
    # Custom fields and event kinds (marketing writes, every role reads)
    path("custom-fields/", field_apis.CustomFieldListApi.as_view(), name="api-custom-fields"),
    path("custom-fields/new/", field_apis.CustomFieldCreateApi.as_view(), name="api-custom-field-create"),
    path("custom-fields/<int:field_id>/", field_apis.CustomFieldDetailApi.as_view(), name="api-custom-field"),
    path("event-kinds/", field_apis.EventKindListApi.as_view(), name="api-event-kinds"),
    path("event-kinds/new/", field_apis.EventKindCreateApi.as_view(), name="api-event-kind-create"),
    path("event-kinds/<int:kind_id>/", field_apis.EventKindDeleteApi.as_view(), name="api-event-kind"),
    # Engagement events from CSV (marketing)
    path("event-imports/", event_import_apis.EventImportCreateApi.as_view(), name="api-event-imports"),
    path("event-imports/<int:job_id>/", event_import_apis.EventImportDetailApi.as_view(), name="api-event-import"),
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
