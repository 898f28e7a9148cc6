from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Attachment, Emergency


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


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The crews' photos with a thumbnail, read-only (added from the phone through the same
    service; the thumbnail is served by the API, which checks the incident's access)."""

    list_display = ["preview", "incident", "unit", "taken_at", "uploaded_by", "size_bytes"]
    list_select_related = ["incident", "unit", "uploaded_by"]
    date_hierarchy = "taken_at"
    readonly_fields = ["preview"]
    exclude = ["file", "thumbnail"]

    @admin.display(description=_("photo"))
    def preview(self, obj: Attachment) -> str:
        base = obj.url
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}?thumbnail=1" alt="" '
            'style="max-height:80px"></a>',
            base,
            base,
        )

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
