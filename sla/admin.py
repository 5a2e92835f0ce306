from django.contrib import admin

from .models import ClockEvent, Notification, NotificationPreference, SweepRun


@admin.register(ClockEvent)
class ClockEventAdmin(admin.ModelAdmin):
    list_display = ("lead", "kind", "seq", "rep", "due_at", "created_at")
    list_filter = ("kind",)
    list_select_related = ("lead", "rep")
    raw_id_fields = ("clock", "lead", "rep")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "message", "channel", "created_at", "read_at")
    list_filter = ("kind", "channel")
    list_select_related = ("recipient",)
    raw_id_fields = ("recipient", "lead", "event")
    show_full_result_count = False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "channel")
    list_select_related = ("user",)


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "finished_at", "dry_run", "counts")
