from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import RepProfile, Team, User


class RepProfileInline(admin.StackedInline):
    model = RepProfile
    can_delete = False
    fk_name = "user"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = BaseUserAdmin.fieldsets + (("Role", {"fields": ("role",)}),)
    inlines = [RepProfileInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "is_fallback")
    list_select_related = ("manager",)


@admin.register(RepProfile)
class RepProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "capacity", "routing_weight", "out_of_office", "paused", "timezone")
    list_filter = ("team", "out_of_office", "paused")
    list_select_related = ("user", "team")
