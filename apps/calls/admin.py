"""The calls in the admin: read-only (the telephony link writes them, the console takes them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.common.security import mask_phone

from .models import Call


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("received_at", "line", "masked_phone", "status", "close_reason", "incident")
    list_filter = ("status", "close_reason", "line")
    date_hierarchy = "received_at"
    list_select_related = ("incident",)
    # The full number stays out of lists and of the change page; the incident's detail shows it
    # to those who may see it (and logs that they did).
    exclude = ("caller_phone",)
    readonly_fields = (
        "masked_phone",
        "line",
        "received_at",
        "reported_at",
        "reported_by",
        "lat",
        "lon",
        "accuracy_m",
        "status",
        "incident",
        "taken_by",
        "taken_at",
        "close_reason",
        "close_note",
    )

    @admin.display(description=_("caller phone"))
    def masked_phone(self, obj: Call) -> str:
        return mask_phone(obj.caller_phone)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
