from django.contrib import admin

from .models import ComparisonReport


@admin.register(ComparisonReport)
class ComparisonReportAdmin(admin.ModelAdmin):
    list_display = ("id", "period_start", "period_end", "team", "state", "progress", "created_at")
    list_filter = ("state",)
    list_select_related = ("team",)
    readonly_fields = ("data",)
