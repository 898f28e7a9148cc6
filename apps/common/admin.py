"""Admin of the shared building blocks: API tokens (see who is logged in on which device, and
revoke a lost phone's tokens). Only hashes are stored, so nothing secret is ever shown."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ApiToken
from .services import token_revoke_all


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "prefix", "label", "created_at", "expires_at", "last_used_at", "active"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "label", "prefix"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "prefix",
        "label",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    exclude = ["key_hash"]
    actions = ["revoke_users_tokens"]

    @admin.display(description=_("active"), boolean=True)
    def active(self, obj: ApiToken) -> bool:
        return obj.is_active

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued by logging in from the phone app

    @admin.action(
        description=_("Revoke all tokens of these users (lost phone)"), permissions=["change"]
    )
    def revoke_users_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for user_id in set(queryset.values_list("user_id", flat=True)):
            token = queryset.filter(user_id=user_id).select_related("user").first()
            if token is not None:
                revoked += token_revoke_all(user=token.user)
        self.message_user(
            request,
            ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", revoked) % {"n": revoked},
            messages.SUCCESS,
        )
