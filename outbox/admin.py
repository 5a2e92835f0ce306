from django.contrib import admin, messages
from django.utils import timezone

from .models import Message
from .services import messages_retry


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("key", "channel", "recipient", "subject", "created_at", "sent_at", "attempts", "failed_at")
    list_filter = ("channel",)
    search_fields = ("key", "recipient")
    show_full_result_count = False
    actions = ["retry"]

    @admin.action(description="Send the selected unsent messages again now")
    def retry(self, request, queryset):
        count = messages_retry(ids=list(queryset.values_list("pk", flat=True)), now=timezone.now())
        self.message_user(request, f"{count} message(s) queued for delivery.", messages.SUCCESS)
