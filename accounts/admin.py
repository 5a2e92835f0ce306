from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from .models import ClosedDate, FirstContactPolicy, IntegrationKey, RepProfile, Team, User
from .services import integration_key_create, integration_key_revoke, user_api_tokens_revoke


class PasswordSetByAdminForm(AdminPasswordChangeForm):
    """The admin's "change password" form: the user's API token ends with the old password."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        user_api_tokens_revoke(user=user)
        return user


class RepProfileInline(admin.StackedInline):
    model = RepProfile
    can_delete = False
    fk_name = "user"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = BaseUserAdmin.fieldsets + (("Role", {"fields": ("role", "timezone")}),)
    inlines = [RepProfileInline]
    change_password_form = PasswordSetByAdminForm

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Deactivating a user in the admin form ends their API token at once.
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_api_tokens_revoke(user=obj)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "is_fallback")
    list_select_related = ("manager",)


@admin.register(RepProfile)
class RepProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "capacity", "routing_weight", "out_of_office", "paused")
    list_filter = ("team", "out_of_office", "paused")
    list_select_related = ("user", "team")


@admin.register(FirstContactPolicy)
class FirstContactPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "team", "window_minutes", "calendar", "stop_on", "reassign_on_breach", "updated_at")
    list_select_related = ("team",)


@admin.register(ClosedDate)
class ClosedDateAdmin(admin.ModelAdmin):
    list_display = ("team", "date", "label")
    list_filter = ("team",)


class IntegrationKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=IntegrationKey.Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = IntegrationKey
        fields = ("name", "user", "scopes")


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(admin.ModelAdmin):
    """Create a key (its secret is shown once, in the confirmation message) or revoke it."""

    form = IntegrationKeyForm
    list_display = ("name", "prefix", "user", "scopes", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return ("name", "user", "scopes", "prefix", "created_at", "revoked_at") if obj else ()

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj else ("name", "user", "scopes")

    def save_model(self, request, obj, form, change):
        if change:
            return  # a key is never edited: revoke it and create another
        key, raw = integration_key_create(
            name=form.cleaned_data["name"], user=form.cleaned_data["user"], scopes=form.cleaned_data["scopes"]
        )
        obj.pk = key.pk
        obj.refresh_from_db()
        messages.warning(request, f"The key for {key.name} is {raw} — copy it now, it is not shown again.")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the record of the key stays

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            integration_key_revoke(key=key)
        messages.success(request, f"{queryset.count()} key(s) revoked.")
