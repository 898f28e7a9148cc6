"""The training admin for HR: sessions and attendance, mentoring, certifications, and the daily
roster page (2/3 on the street, 1/3 in training)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields

from apps.personnel.access import is_hr
from apps.personnel.admin import AssignmentAdmin, HRAdminMixin, ImportExportHRMixin
from apps.personnel.models import Assignment, Person
from apps.personnel.resources import HRResource, LookupWidget
from apps.units.models import StagingPoint

from .models import (
    Attendance,
    Certification,
    Competency,
    DailyRoster,
    Mentorship,
    SignOff,
    TrainingSession,
)
from .selectors import call_taking_gaps, daily_roster

if TYPE_CHECKING:
    _InlineBase = admin.TabularInline[Any, Any]
    _ModelAdminBase = admin.ModelAdmin[Any]
else:  # the admin classes are not subscriptable at runtime
    _InlineBase = admin.TabularInline
    _ModelAdminBase = admin.ModelAdmin


# --- Import/export ----------------------------------------------------------------------


class TrainingSessionResource(HRResource):
    trainer = fields.Field(
        attribute="trainer", column_name="trainer", widget=LookupWidget(Person, "staff_number")
    )

    class Meta:
        model = TrainingSession
        fields = ("id", "type", "title", "starts_at", "ends_at", "place", "trainer")
        clean_model_instances = True
        skip_unchanged = True


class AttendanceResource(HRResource):
    session = fields.Field(
        attribute="session", column_name="session", widget=LookupWidget(TrainingSession, "pk")
    )
    person = fields.Field(
        attribute="person", column_name="staff_number", widget=LookupWidget(Person, "staff_number")
    )

    # The status field's verbose name is the model's ("attendance"): the column is named apart.
    column_labels = {
        "person": Person._meta.get_field("staff_number").verbose_name,
        "status": _("attendance status"),
    }

    class Meta:
        model = Attendance
        import_id_fields = ("session", "person")
        fields = ("session", "person", "status", "result")
        clean_model_instances = True
        skip_unchanged = True


# --- Sessions ---------------------------------------------------------------------------


class AttendanceInline(_InlineBase):
    model = Attendance
    extra = 0
    autocomplete_fields = ["person"]


@admin.register(TrainingSession)
class TrainingSessionAdmin(HRAdminMixin, ImportExportHRMixin, _ModelAdminBase):
    resource_classes = [TrainingSessionResource]
    list_display = ["starts_at", "ends_at", "type", "title", "place", "trainer"]
    list_filter = ["type", "starts_at", "place"]
    search_fields = ["title", "place", "trainer__name", "attendance__person__name"]
    list_select_related = ["trainer"]
    autocomplete_fields = ["trainer"]
    date_hierarchy = "starts_at"
    inlines = [AttendanceInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainingSession]:
        qs = super().get_queryset(request)
        if is_hr(request.user):
            return qs
        # Supervisors: sessions attended by their people.
        return self.chain_filter(request, qs, "attendance__person").distinct()


@admin.register(Attendance)
class AttendanceAdmin(HRAdminMixin, ImportExportHRMixin, _ModelAdminBase):
    resource_classes = [AttendanceResource]
    list_display = ["session", "person", "status", "result"]
    list_filter = ["status", "session__type", "session__starts_at"]
    search_fields = ["person__name", "person__staff_number", "session__title"]
    list_select_related = ["session", "person"]
    autocomplete_fields = ["session", "person"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attendance]:
        return self.chain_filter(request, super().get_queryset(request), "person")


# --- Mentoring --------------------------------------------------------------------------


@admin.register(Competency)
class CompetencyAdmin(HRAdminMixin, _ModelAdminBase):
    list_display = ["code", "name", "required_for_call_taking"]
    list_filter = ["required_for_call_taking"]
    search_fields = ["code", "name"]


class SignOffInline(_InlineBase):
    model = SignOff
    extra = 0


@admin.register(Mentorship)
class MentorshipAdmin(HRAdminMixin, _ModelAdminBase):
    list_display = ["mentee", "mentor", "started_on", "ended_on", "signed_off"]
    list_filter = ["started_on", "ended_on", "sign_offs__competency"]
    search_fields = ["mentor__name", "mentee__name", "mentee__staff_number"]
    list_select_related = ["mentor", "mentee"]
    autocomplete_fields = ["mentor", "mentee"]
    inlines = [SignOffInline]

    @admin.display(description=_("signed off"))
    def signed_off(self, obj: Mentorship) -> str:
        return ", ".join(s.competency.name for s in obj.sign_offs.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Mentorship]:
        qs = super().get_queryset(request).prefetch_related("sign_offs__competency")
        return self.chain_filter(request, qs, "mentee")


# --- Certifications ---------------------------------------------------------------------


class ExpiryFilter(admin.SimpleListFilter):
    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("30d", _("Expires in the next 30 days")), ("expired", _("Expired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        if self.value() == "30d":
            return queryset.filter(
                expires_on__gte=today, expires_on__lte=today + timedelta(days=30)
            )
        if self.value() == "expired":
            return queryset.filter(expires_on__lt=today)
        return queryset


@admin.register(Certification)
class CertificationAdmin(HRAdminMixin, _ModelAdminBase):
    list_display = ["person", "name", "number", "issued_on", "expires_on"]
    list_filter = [ExpiryFilter, "name"]
    search_fields = ["person__name", "person__staff_number", "name", "number"]
    list_select_related = ["person"]
    autocomplete_fields = ["person"]
    date_hierarchy = "expires_on"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Certification]:
        return self.chain_filter(request, super().get_queryset(request), "person")


# --- Daily roster -----------------------------------------------------------------------


@admin.register(DailyRoster)
class DailyRosterAdmin(HRAdminMixin, _ModelAdminBase):
    """A read-only page: the roster of a day per staging point and shift, with warnings."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        day = timezone.localdate()
        raw_day = request.GET.get("day", "")
        if raw_day:
            try:
                day = date.fromisoformat(raw_day)
            except ValueError:
                messages.error(request, _("Not a date: %(value)s") % {"value": raw_day})
        points = list(StagingPoint.objects.order_by("code"))
        point = _int(request.GET.get("staging_point"))
        selected = next((p for p in points if p.pk == point), None)
        shift = _int(request.GET.get("shift"))
        shift = shift if shift in (1, 2, 3) else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Daily roster"),
            "day": day,
            "staging_points": points,
            "selected_point": selected.pk if selected else None,
            "shifts": [1, 2, 3],
            "selected_shift": shift,
            "rows": daily_roster(day=day, staging_point=selected, shift=shift),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/training/daily_roster.html", context)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


# --- the postings list shows the call-taking sign-off (a training fact) --------------------------


class AssignmentWithTrainingAdmin(AssignmentAdmin):
    """The personnel app's postings admin, with a column saying whether a call-taker posting
    lacks its sign-off. Registered here because training sits above personnel in the layers."""

    def get_list_display(self, request: HttpRequest) -> Any:
        today = timezone.localdate()
        gaps: set[int] | None = None

        @admin.display(description=_("call-taking sign-off missing"), boolean=True)
        def call_taking_gap(obj: Assignment) -> bool | None:
            nonlocal gaps
            if not obj.call_taker:
                return None
            if gaps is None:  # one query set for the page, not one per row
                takers = Assignment.objects.filter(call_taker=True).values_list(
                    "person_id", flat=True
                )
                gaps = call_taking_gaps(people=list(set(takers)), on=today)
            return obj.person_id in gaps

        return [*super().get_list_display(request), call_taking_gap]


admin.site.unregister(Assignment)
admin.site.register(Assignment, AssignmentWithTrainingAdmin)
