"""Admin of the shared building blocks: API tokens (see who is logged in on which device, and
revoke a lost phone's tokens). Only hashes are stored, so nothing secret is ever shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import AccessLog, ApiToken
from .services import user_deactivate, user_sign_out_everywhere


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
        description=_("Sign these users out everywhere (lost phone)"),
        permissions=["change"],
    )
    def revoke_users_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = ended = 0
        users = User.objects.filter(pk__in=queryset.values("user_id"))
        for user in users:
            tokens, sessions = user_sign_out_everywhere(user=user)
            revoked += tokens
            ended += sessions
        self.message_user(
            request,
            ngettext("%(n)d token revoked", "%(n)d tokens revoked", revoked) % {"n": revoked}
            + ", "
            + ngettext("%(n)d session ended.", "%(n)d sessions ended.", ended) % {"n": ended},
            messages.SUCCESS,
        )


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Who saw personal data in full. Read-only: rows are written by the views that show it."""

    list_display = ["at", "user", "action", "target", "via"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    search_fields = ["target", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    """Django's user admin, with deactivation going through `user_deactivate`: unticking
    *active* (or the action) also closes the user's open websockets, as signing out does."""

    actions = ["deactivate_users"]

    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_deactivate(user=obj)

    @admin.action(description=_("Deactivate these users"), permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = sum(user_deactivate(user=user) for user in queryset)
        self.message_user(
            request,
            ngettext("%(n)d user deactivated.", "%(n)d users deactivated.", count) % {"n": count},
            messages.SUCCESS,
        )
