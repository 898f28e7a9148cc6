from __future__ import annotations

from django.contrib import admin

from .models import Emergency


@admin.register(Emergency)
class EmergencyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The emergencies raised, read-only: they are raised from the phone and acknowledged on the
    command map (the same services)."""

    list_display = [
        "unit",
        "raised_at",
        "presses",
        "incident",
        "acknowledged_at",
        "acknowledged_by",
    ]
    list_filter = ["acknowledged_at"]
    list_select_related = ["unit", "incident", "acknowledged_by"]
    date_hierarchy = "raised_at"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
