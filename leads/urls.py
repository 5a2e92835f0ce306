from django.urls import path

from leads.events import views as events
from leads.fields import views as fields
from leads.imports import views as imports
from leads.pool import views as pool
from leads.queue import views as queue
from leads.routing import views as routing

app_name = "leads"

urlpatterns = [
    # Marketing: the nurture pool
    path("pool/", pool.pool, name="pool"),
    path("pool/export.csv", pool.pool_export, name="pool_export"),
    path("<int:lead_id>/", pool.lead_detail, name="lead_detail"),
    # Sales: queue and dashboards
    path("queue/", queue.my_queue, name="my_queue"),
    path("<int:lead_id>/brief/", queue.brief, name="brief"),
    path("<int:lead_id>/touches/", queue.touch_log, name="touch_log"),
    path("<int:lead_id>/stage/", queue.stage_change, name="stage_change"),
    path("<int:lead_id>/reject/", queue.reject, name="reject"),
    path("prospects/new/", queue.rep_sourced_create, name="rep_sourced_create"),
    path("rejections/", queue.rejection_list, name="rejections"),
    path("team/", routing.team_dashboard, name="team_dashboard"),
    # Managers: reassignment, pausing reps, routing rules
    path("team/reassign/", routing.team_reassign, name="team_reassign"),
    path("team/reps/<int:rep_id>/pause/", routing.rep_pause, name="rep_pause"),
    path("team/reps/<int:rep_id>/unpause/", routing.rep_unpause, name="rep_unpause"),
    path("rules/", routing.rule_list, name="rule_list"),
    path("rules/new/", routing.rule_create, name="rule_create"),
    path("rules/<int:rule_id>/", routing.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/delete/", routing.rule_delete, name="rule_delete"),
    path("rules/<int:rule_id>/move/", routing.rule_move, name="rule_move"),
    path("rules/<int:rule_id>/toggle/", routing.rule_toggle, name="rule_toggle"),
    # Marketing: custom fields and event kinds
    path("fields/", fields.custom_fields, name="custom_fields"),
    path("fields/<int:field_id>/", fields.custom_field_edit, name="custom_field_edit"),
    path("fields/<int:field_id>/delete/", fields.custom_field_delete, name="custom_field_delete"),
    path("event-kinds/", fields.event_kind_create, name="event_kind_create"),
    path("event-kinds/<int:kind_id>/delete/", fields.event_kind_delete, name="event_kind_delete"),
    # Marketing: engagement events from CSV
    path("events/import/", events.event_import, name="event_import"),
    path("events/import/<int:job_id>/", events.event_import_detail, name="event_import_detail"),
    path("events/import/<int:job_id>/again/", events.event_import_again, name="event_import_again"),
    # Marketing: CSV import
    path("imports/", imports.import_list, name="import_list"),
    path("imports/upload/", imports.import_upload, name="import_upload"),
    path("imports/<int:job_id>/mapping/", imports.import_mapping, name="import_mapping"),
    path("imports/<int:job_id>/preview/", imports.import_preview_view, name="import_preview"),
    path("imports/<int:job_id>/start/", imports.import_start, name="import_start"),
    path("imports/<int:job_id>/", imports.import_detail, name="import_detail"),
    path("imports/<int:job_id>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<int:job_id>/rejections.csv", imports.import_rejections, name="import_rejections"),
]
