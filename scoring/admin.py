"""Admin: the definition's history, read-only.

Versions change only through scoring.services (edits bump the revision and
withdraw approvals; activation needs both sides), so the admin shows them and
never edits them: a change here would bypass sign-off.
"""

from django.contrib import admin

from .models import Approval, Comment, DefinitionVersion, PoolRescore, Preview


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ApprovalInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Approval
    fields = ["user", "side", "revision", "created_at", "withdrawn_at"]
    readonly_fields = fields
    extra = 0


class CommentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Comment
    fields = ["created_at", "kind", "author", "body"]
    readonly_fields = fields
    extra = 0


@admin.register(DefinitionVersion)
class DefinitionVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "title", "state", "threshold", "revision", "author", "updated_at"]
    list_filter = ["state"]
    search_fields = ["title"]
    list_select_related = ["author"]
    inlines = [ApprovalInline, CommentInline]


@admin.register(Preview)
class PreviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "version", "revision", "state", "progress", "requested_by", "created_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["version", "requested_by"]


@admin.register(PoolRescore)
class PoolRescoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "state", "version", "progress", "changed", "promoted", "started_at", "finished_at"]
    list_filter = ["state"]
