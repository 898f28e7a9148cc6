"""The personnel admin for HR: people and their postings.

HR (and superusers) edit everything; a supervisor sees, read-only, the people below them in the
responsibility chain. ID-card numbers are shown in full to HR only and masked for everyone else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .access import id_card_for, is_hr, mask_id_card
from .models import Assignment, Person
from .selectors import people_visible_to, person_of_user, subordinate_ids

if TYPE_CHECKING:
    _MixinBase = admin.ModelAdmin[Any]
else:
    _MixinBase = object


class HRAdminMixin(_MixinBase):
    """HR edits; supervisors view their chain (the queryset decides which rows)."""

    def _is_supervisor(self, request: HttpRequest) -> bool:
        me = person_of_user(request.user)
        return me is not None and Person.objects.filter(supervisor=me).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return (
            is_hr(request.user)
            or self._is_supervisor(request)
            or super().has_module_permission(request)
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            is_hr(request.user)
            or self._is_supervisor(request)
            or super().has_view_permission(request, obj)
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_hr(request.user) or super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_hr(request.user) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_hr(request.user) or super().has_delete_permission(request, obj)


class CurrentAssignmentFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Current")), ("no", _("Ended"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        current = Q(valid_from__lte=now) & (Q(valid_to__isnull=True) | Q(valid_to__gt=now))
        if self.value() == "yes":
            return queryset.filter(current)
        if self.value() == "no":
            return queryset.exclude(current)
        return queryset


if TYPE_CHECKING:
    _AssignmentInlineBase = admin.TabularInline[Assignment, Person]
    _PersonAdminBase = admin.ModelAdmin[Person]
    _AssignmentAdminBase = admin.ModelAdmin[Assignment]
else:  # the admin classes are not subscriptable at runtime (no django_stubs_ext monkeypatch)
    _AssignmentInlineBase = admin.TabularInline
    _PersonAdminBase = admin.ModelAdmin
    _AssignmentAdminBase = admin.ModelAdmin


class AssignmentInline(_AssignmentInlineBase):
    model = Assignment
    extra = 0
    fields = ["staging_point", "shift", "team_role", "elite_squad", "valid_from", "valid_to"]


@admin.register(Person)
class PersonAdmin(HRAdminMixin, _PersonAdminBase):
    list_display = ["staff_number", "name", "kind", "status", "id_card", "phone", "supervisor"]
    # The list's ID column depends on who looks; see get_list_display.
    list_filter = ["kind", "status", "assignments__staging_point", "assignments__team_role"]
    list_select_related = ["supervisor"]
    raw_id_fields = ["supervisor", "user"]
    inlines = [AssignmentInline]

    @admin.display(description=_("ID card number"))
    def id_card(self, obj: Person) -> str:
        # Stand-in for the system checks; get_list_display swaps in the per-viewer column.
        return mask_id_card(obj.id_card_number)

    @admin.display(description=_("ID card number"))
    def id_card_masked(self, obj: Person) -> str:
        # Only non-HR users get this read-only field; HR edit the real one.
        return mask_id_card(obj.id_card_number)

    def get_list_display(self, request: HttpRequest) -> Any:
        # The ModelAdmin instance is shared between requests: bind the viewer in a closure.
        user = request.user

        @admin.display(description=_("ID card number"))
        def id_card(obj: Person) -> str:
            return id_card_for(user, obj.id_card_number)

        return [id_card if f == "id_card" else f for f in super().get_list_display(request)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        return people_visible_to(request.user, super().get_queryset(request)).distinct()

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        fields = ["name", "staff_number", "phone"]
        # Searching by ID number would let a non-HR user probe hidden numbers.
        if is_hr(request.user):
            fields.append("id_card_number")
        return fields

    def get_fields(self, request: HttpRequest, obj: Person | None = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        if not is_hr(request.user):
            fields = [("id_card_masked" if f == "id_card_number" else f) for f in fields]
        return fields

    def get_exclude(self, request: HttpRequest, obj: Person | None = None) -> Any:
        return [] if is_hr(request.user) else ["id_card_number"]

    def get_readonly_fields(self, request: HttpRequest, obj: Person | None = None) -> Any:
        base = list(super().get_readonly_fields(request, obj))
        return base if is_hr(request.user) else [*base, "id_card_masked"]


@admin.register(Assignment)
class AssignmentAdmin(HRAdminMixin, _AssignmentAdminBase):
    list_display = [
        "person",
        "staging_point",
        "shift",
        "team_role",
        "elite_squad",
        "valid_from",
        "valid_to",
    ]
    list_filter = [
        CurrentAssignmentFilter,
        "staging_point",
        "shift",
        "team_role",
        "elite_squad",
        "person__kind",
    ]
    search_fields = ["person__name", "person__staff_number", "staging_point__name"]
    list_select_related = ["person", "staging_point"]
    raw_id_fields = ["person"]
    date_hierarchy = "valid_from"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        qs = super().get_queryset(request)
        if is_hr(request.user):
            return qs
        me = person_of_user(request.user)
        if me is None:
            return qs.none()
        return qs.filter(person_id__in=subordinate_ids(me))
