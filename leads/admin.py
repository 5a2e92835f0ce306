"""Admin pages for the leads app (only the Admin role is staff, so only admins get here).

The lead, event and history tables grow large: every list skips the full
count (show_full_result_count), joins what it shows (list_select_related),
filters only on low-cardinality columns and edits foreign keys by id
(raw_id_fields) so no page loads every user or lead into a select box.
"""

from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from leads import history
from leads.models import (
    LEAD_COMPANY_FIELDS,
    LEAD_IDENTITY_FIELDS,
    LEAD_SCORE_PROPERTIES,
    LEAD_SOURCE_FIELDS,
    AssignmentRule,
    EngagementEvent,
    FirstContactClock,
    ImportJob,
    ImportMapping,
    Lead,
    LeadHistory,
    Touch,
)


class LargeTableAdmin(admin.ModelAdmin):
    show_full_result_count = False
    list_per_page = 50


@admin.register(Lead)
class LeadAdmin(LargeTableAdmin):
    list_display = ("id", "__str__", "email", "company", "status", "origin", "owner", "team", "score", "created_at")
    list_display_links = ("id", "__str__")
    list_filter = ("status", "origin", "scorecard__passes_gates", "needs_rescore", "team")
    # Exact matches on the keys use their unique indexes; names and company are a scan.
    search_fields = ("=external_id", "email", "company", "last_name")
    list_select_related = ("owner", "team", "scorecard")
    raw_id_fields = ("owner", "team", "rejected_by")
    # The score is scoring's to write (leads.LeadScore); here it is shown, not edited.
    readonly_fields = ("updated_at", *LEAD_SCORE_PROPERTIES, "promotion_explanation")
    ordering = ("-created_at",)
    fieldsets = (
        ("Identity", {"fields": LEAD_IDENTITY_FIELDS}),
        ("Company", {"fields": LEAD_COMPANY_FIELDS}),
        ("Source", {"fields": (*LEAD_SOURCE_FIELDS, "rep_source_channel", "attributes")}),
        (
            "Lifecycle",
            {
                "fields": (
                    "status",
                    "team",
                    "owner",
                    "created_at",
                    "updated_at",
                    "promoted_at",
                    "assigned_at",
                    "sla_due_at",
                    "first_contact_at",
                    "closed_at",
                    "last_activity_at",
                    "deal_value",
                    "lost_reason",
                    "touch_count",
                )
            },
        ),
        (
            "Score",
            {
                "fields": (
                    *LEAD_SCORE_PROPERTIES,
                    "promoted_version",
                    "promotion_explanation",
                    "needs_rescore",
                )
            },
        ),
        (
            "Rejection",
            {
                "fields": (
                    "rejected_at",
                    "rejected_by",
                    "reject_reason",
                    "reject_note",
                    "rejected_version",
                    "recycled_count",
                )
            },
        ),
    )

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        # Intake and imports refuse to change where a lead came from; an admin's
        # correction here is the one way, and it leaves a history row.
        super().save_model(request, obj, form, change)
        if not change:
            return
        now = timezone.now()
        for name in ("origin", "rep_source_channel"):
            if name in form.changed_data:
                history.origin_corrected(field=name, old=form.initial.get(name, ""), new=getattr(obj, name)).write(
                    lead=obj, at=now, actor=request.user
                )


@admin.register(EngagementEvent)
class EngagementEventAdmin(LargeTableAdmin):
    list_display = ("id", "lead", "kind", "occurred_at", "external_id", "received_at")
    list_filter = ("kind",)
    search_fields = ("=external_id", "=lead__email")
    list_select_related = ("lead",)
    raw_id_fields = ("lead",)
    readonly_fields = ("received_at",)
    ordering = ("-occurred_at",)


@admin.register(Touch)
class TouchAdmin(LargeTableAdmin):
    list_display = ("id", "lead", "rep", "kind", "outcome", "occurred_at")
    list_filter = ("kind", "outcome")
    search_fields = ("=lead__email", "rep__username")
    list_select_related = ("lead", "rep")
    raw_id_fields = ("lead", "rep")
    ordering = ("-occurred_at",)


@admin.register(FirstContactClock)
class FirstContactClockAdmin(LargeTableAdmin):
    list_display = ("id", "lead", "rep", "started_at", "due_at", "next_action", "next_action_at", "outcome", "ended_at")
    list_filter = ("outcome", "next_action")
    list_select_related = ("lead", "rep")
    raw_id_fields = ("lead", "rep", "team", "policy")
    ordering = ("-started_at",)


@admin.register(LeadHistory)
class LeadHistoryAdmin(LargeTableAdmin):
    list_display = ("id", "lead", "action", "field", "old_value", "new_value", "actor", "created_at")
    list_filter = ("action",)
    search_fields = ("=lead__email",)
    list_select_related = ("lead", "actor")
    raw_id_fields = ("lead", "actor")
    ordering = ("-created_at", "-id")


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ("name", "created_by", "updated_at")
    search_fields = ("name",)
    list_select_related = ("created_by",)
    raw_id_fields = ("created_by",)


@admin.register(ImportJob)
class ImportJobAdmin(LargeTableAdmin):
    list_display = (
        "id",
        "original_name",
        "state",
        "total_rows",
        "processed_rows",
        "created_count",
        "updated_count",
        "rejected_count",
        "created_by",
        "created_at",
    )
    list_filter = ("state",)
    search_fields = ("original_name",)
    list_select_related = ("created_by", "mapping")
    raw_id_fields = ("created_by", "mapping")
    readonly_fields = ("created_at", "started_at", "finished_at")


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ("position", "name", "enabled", "team", "strategy", "skip_outside_working_hours", "updated_at")
    list_display_links = ("name",)
    list_filter = ("enabled", "strategy", "team")
    search_fields = ("name",)
    list_select_related = ("team",)
    raw_id_fields = ("team",)
    ordering = ("position", "id")
