from django.contrib import admin

from .models import Notification, SlaEvent, SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "team", "first_contact_hours", "business_hours_only", "warn_before_minutes")
    list_select_related = ("team",)


@admin.register(SlaEvent)
class SlaEventAdmin(admin.ModelAdmin):
    list_display = ("lead", "kind", "rep", "due_at", "created_at")
    list_filter = ("kind",)
    list_select_related = ("lead", "rep")
    raw_id_fields = ("lead", "rep")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "message", "created_at", "read_at")
    list_select_related = ("recipient",)
    raw_id_fields = ("recipient", "lead")
    show_full_result_count = False
