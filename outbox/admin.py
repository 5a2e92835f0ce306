from django.contrib import admin

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("key", "channel", "recipient", "subject", "created_at", "sent_at", "attempts", "failed_at")
    list_filter = ("channel",)
    search_fields = ("key", "recipient")
    show_full_result_count = False
