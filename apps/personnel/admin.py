"""The personnel admin for HR: people, postings, assessment and care records.

HR (and superusers) edit everything; a supervisor sees, read-only, the people below them in the
responsibility chain and their records. ID-card numbers are shown in full to HR only and masked
for everyone else. Writes that touch an assessment period go through the period guard of the
services (a closed period is frozen): the admin answers PeriodClosed with an error message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import XLSX
from import_export.forms import SelectableFieldsExportForm

from apps.common.errors import DomainError

from .access import id_card_for, is_hr, mask_id_card
from .models import (
    Assessment,
    AssessmentAdjustment,
    AssessmentPeriod,
    AssessmentScore,
    Assignment,
    CareRecord,
    GradeBand,
    PeriodStatusChange,
    Person,
    PersonKind,
    SchemeItem,
)
from .resources import AssessmentResource, AssignmentResource, HRResource, PersonResource
from .selectors import people_visible_to, person_of_user, subordinate_ids
from .services import (
    assessment_recompute_period,
    model_auxiliaries_propose,
    model_auxiliary_confirm,
    period_close,
    period_compute_call_handling,
    period_reopen,
    period_require_open,
    validate_supervisor,
)

M = TypeVar("M", bound=models.Model)

if TYPE_CHECKING:
    _PersonFormBase = forms.ModelForm[Person]
    _AssessmentFormBase = forms.ModelForm[Assessment]
    _MixinBase = admin.ModelAdmin[Any]
    _InlineBase = admin.TabularInline[Any, Any]
    _ModelAdminBase = admin.ModelAdmin[Any]
else:  # admin and form classes are not subscriptable at runtime (no django_stubs_ext patch)
    _PersonFormBase = forms.ModelForm
    _AssessmentFormBase = forms.ModelForm
    _MixinBase = object
    _InlineBase = admin.TabularInline
    _ModelAdminBase = admin.ModelAdmin


class HRAdminMixin(_MixinBase):
    """HR edits; supervisors view their chain (get_queryset decides which rows)."""

    def _is_supervisor(self, request: HttpRequest) -> bool:
        # Asked several times per page (module, view, each inline): remember it on the request.
        cached: bool | None = getattr(request, "_cad_is_supervisor", None)
        if cached is None:
            me = person_of_user(request.user)
            cached = me is not None and Person.objects.filter(supervisor=me).exists()
            request._cad_is_supervisor = cached  # type: ignore[attr-defined]
        return cached

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

    def chain_filter(self, request: HttpRequest, qs: QuerySet[M], person_path: str) -> QuerySet[M]:
        """HR: every row; a supervisor: rows of the people below them; anyone else: none."""
        if is_hr(request.user):
            return qs
        me = person_of_user(request.user)
        if me is None:
            return qs.none()
        return qs.filter(**{f"{person_path}__in": subordinate_ids(me)})


# Messages of django-import-export's pages that its zh_Hans catalogue leaves untranslated; ours
# (LOCALE_PATHS, read first) carries them, so HR's import and export pages are all in Chinese.
IMPORT_EXPORT_MESSAGES = (
    gettext_noop("Select all"),
    gettext_noop('Select at least 1 field for "%(resource_name)s" to export'),
    gettext_noop(
        "No valid data to import. Ensure your file has the correct headers or data for import."
    ),
    gettext_noop(
        "%(exc_name)s encountered while trying to read file. Ensure you have chosen the correct "
        "format for the file."
    ),
    ngettext_lazy("Export %(len)s selected item.", "Export %(len)s selected items.", "len"),
)


class HRExportForm(SelectableFieldsExportForm):
    """The export page's column checkboxes, labelled with the sheet's headers (警号/工号), not
    with the field names (Staff Number)."""

    def _get_field_label(self, resource: Any, field_name: str) -> str:
        if isinstance(resource, type) and issubclass(resource, HRResource):
            return str(resource.label_of(field_name))
        label: str = super()._get_field_label(resource, field_name)
        return label


class ImportExportHRMixin(ImportExportMixin):
    """Excel (.xlsx) import and export for HR, in the reader's language (resources.HRResource).
    The admin's dry run shows a row-by-row report; the confirmed import is one transaction rolled
    back on any error or invalid row."""

    formats = [XLSX]
    export_form_class = HRExportForm

    def has_import_permission(self, request: HttpRequest) -> bool:
        return is_hr(request.user)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return is_hr(request.user)

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().get_import_data_kwargs(**kwargs)
        data["rollback_on_validation_errors"] = True
        data["use_transactions"] = True
        return data


class DomainErrorAdminMixin(_MixinBase):
    """Answer a refused write (e.g. a closed period) with an error message, not a 500. The
    admin's own transaction has rolled back by then."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


# --- People and postings ------------------------------------------------------------------------


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


class AssignmentInline(_InlineBase):
    model = Assignment
    extra = 0
    fields = [
        "staging_point",
        "unit",
        "shift",
        "team_role",
        "elite_squad",
        "call_taker",
        "valid_from",
        "valid_to",
    ]


class PersonForm(_PersonFormBase):
    class Meta:
        model = Person
        fields = [
            "user",
            "kind",
            "name",
            "staff_number",
            "id_card_number",
            "phone",
            "hire_date",
            "status",
            "photo",
            "supervisor",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            validate_supervisor(person=self.instance, supervisor=data.get("supervisor"))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(Person)
class PersonAdmin(HRAdminMixin, ImportExportHRMixin, _ModelAdminBase):
    form = PersonForm
    resource_classes = [PersonResource]
    # The ID column depends on who looks: see get_list_display.
    list_display = ["staff_number", "name", "kind", "status", "id_card", "phone", "supervisor"]
    list_filter = ["kind", "status", "assignments__staging_point", "assignments__team_role"]
    list_select_related = ["supervisor"]
    raw_id_fields = ["user"]
    # The person boxes of every HR page search here (the chain's visibility applies):
    # get_search_fields adds the ID number for HR; the attribute is what autocomplete requires.
    search_fields = ["name", "staff_number", "phone"]
    autocomplete_fields = ["supervisor"]
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
        fields = list(self.search_fields)
        # Searching by ID number would let a non-HR user probe hidden numbers.
        if is_hr(request.user):
            fields.append("id_card_number")
        return fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Person], search_term: str
    ) -> tuple[QuerySet[Person], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # An assessment's person box offers auxiliaries only (only they are assessed).
        if (request.GET.get("app_label"), request.GET.get("model_name")) == (
            "personnel",
            "assessment",
        ):
            queryset = queryset.filter(kind=PersonKind.AUXILIARY)
        return queryset, may_have_duplicates

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
class AssignmentAdmin(HRAdminMixin, ImportExportHRMixin, _ModelAdminBase):
    resource_classes = [AssignmentResource]
    list_display = [
        "person",
        "staging_point",
        "unit",
        "shift",
        "team_role",
        "elite_squad",
        "call_taker",
        "valid_from",
        "valid_to",
    ]
    list_filter = [
        CurrentAssignmentFilter,
        "staging_point",
        "shift",
        "team_role",
        "elite_squad",
        "call_taker",
        "person__kind",
    ]
    search_fields = ["person__name", "person__staff_number", "staging_point__name"]
    list_select_related = ["person", "staging_point", "unit"]
    autocomplete_fields = ["person"]
    date_hierarchy = "valid_from"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        qs: QuerySet[Assignment] = self.chain_filter(
            request, super().get_queryset(request), "person"
        )
        return qs


# --- Assessment --------------------------------------------------------------------------------


class PeriodActionForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class SchemeItemInline(_InlineBase):
    model = SchemeItem
    extra = 0


class GradeBandInline(_InlineBase):
    model = GradeBand
    extra = 0


class PeriodStatusChangeInline(_InlineBase):
    model = PeriodStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("at", "actor", "from_status", "to_status", "reason")
    fields = ("at", "actor", "from_status", "to_status", "reason")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PeriodGuardMixin(DomainErrorAdminMixin):
    """Every admin write under an assessment period first takes the period guard."""

    def period_id_of(self, obj: Any) -> int | None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        period_id = self.period_id_of(obj)
        if period_id is not None:
            period_require_open(period_id=period_id)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        period_id = self.period_id_of(form.instance)
        if period_id is not None:
            assessment_recompute_period(period=AssessmentPeriod(pk=period_id))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        period_id = self.period_id_of(obj)
        if period_id is not None:
            period_require_open(period_id=period_id)
        super().delete_model(request, obj)


@admin.register(AssessmentPeriod)
class AssessmentPeriodAdmin(HRAdminMixin, PeriodGuardMixin, _ModelAdminBase):
    list_display = ["month", "status", "joint_share", "model_count"]
    list_filter = ["status"]
    search_fields = ["month"]
    readonly_fields = ["status"]
    inlines = [SchemeItemInline, GradeBandInline, PeriodStatusChangeInline]
    action_form = PeriodActionForm
    actions = ["close_periods", "reopen_periods", "compute_call_handling", "propose_models"]

    def period_id_of(self, obj: AssessmentPeriod) -> int | None:
        # A new period has nothing to freeze; a status change goes through the actions.
        return obj.pk if obj.pk is not None else None

    def _apply(self, request: HttpRequest, queryset: QuerySet[AssessmentPeriod], fn: Any) -> None:
        if not is_hr(request.user):
            raise PermissionDenied
        for period in queryset:
            try:
                fn(period)
            except (DomainError, ValidationError) as exc:
                text = exc.message if isinstance(exc, DomainError) else "; ".join(exc.messages)
                self.message_user(request, f"{period}: {text}", messages.ERROR)
            else:
                self.message_user(request, f"{period}: {gettext('done')}", messages.SUCCESS)

    @admin.action(description=_("Close (freeze) the selected periods"))
    def close_periods(self, request: HttpRequest, queryset: QuerySet[AssessmentPeriod]) -> None:
        reason = request.POST.get("reason", "")
        self._apply(
            request, queryset, lambda p: period_close(period=p, actor=request.user, reason=reason)
        )

    @admin.action(description=_("Reopen the selected periods (give a reason)"))
    def reopen_periods(self, request: HttpRequest, queryset: QuerySet[AssessmentPeriod]) -> None:
        reason = request.POST.get("reason", "")
        self._apply(
            request, queryset, lambda p: period_reopen(period=p, actor=request.user, reason=reason)
        )

    @admin.action(description=_("Compute call handling from the incident data"))
    def compute_call_handling(
        self, request: HttpRequest, queryset: QuerySet[AssessmentPeriod]
    ) -> None:
        self._apply(request, queryset, lambda p: period_compute_call_handling(period=p))

    @admin.action(description=_("Propose model auxiliaries from the ranking"))
    def propose_models(self, request: HttpRequest, queryset: QuerySet[AssessmentPeriod]) -> None:
        self._apply(request, queryset, lambda p: model_auxiliaries_propose(period=p))


class ScoreInline(_InlineBase):
    model = AssessmentScore
    extra = 0

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        # Only the items of this assessment's period (the formset class is built per request).
        items = formset.form.base_fields["item"]
        items.queryset = (  # type: ignore[attr-defined]
            SchemeItem.objects.filter(period_id=obj.period_id) if obj else SchemeItem.objects.none()
        )
        return formset


class AdjustmentInline(_InlineBase):
    model = AssessmentAdjustment
    extra = 0


class AssessmentForm(_AssessmentFormBase):
    class Meta:
        model = Assessment
        fields = ["period", "person", "note"]

    def clean_person(self) -> Person:
        person: Person = self.cleaned_data["person"]
        if person.kind != PersonKind.AUXILIARY:
            raise ValidationError(_("Only auxiliaries are assessed."))
        return person


@admin.register(Assessment)
class AssessmentAdmin(HRAdminMixin, ImportExportHRMixin, PeriodGuardMixin, _ModelAdminBase):
    form = AssessmentForm
    resource_classes = [AssessmentResource]
    list_display = [
        "period",
        "person",
        "own_score",
        "group_average",
        "total",
        "grade",
        "rank",
        "model_status",
    ]
    list_filter = ["period", "grade", "model_status", "period__status", "person__status"]
    search_fields = ["person__name", "person__staff_number"]
    list_select_related = ["period", "person"]
    autocomplete_fields = ["person"]
    readonly_fields = [
        "own_score",
        "group_average",
        "total",
        "grade",
        "rank",
        "model_status",
        "model_confirmed_by",
        "model_confirmed_at",
    ]
    inlines = [ScoreInline, AdjustmentInline]
    actions = ["confirm_models"]

    def period_id_of(self, obj: Assessment) -> int | None:
        return obj.period_id

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assessment]:
        qs: QuerySet[Assessment] = self.chain_filter(
            request, super().get_queryset(request), "person"
        )
        return qs

    @admin.action(description=_("Confirm the selected proposed model auxiliaries (标兵)"))
    def confirm_models(self, request: HttpRequest, queryset: QuerySet[Assessment]) -> None:
        for assessment in queryset:
            try:
                model_auxiliary_confirm(assessment=assessment, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{assessment}: {exc.message}", messages.ERROR)


# --- Care (关爱措施) ------------------------------------------------------------------------------


@admin.register(CareRecord)
class CareRecordAdmin(HRAdminMixin, _ModelAdminBase):
    """Visible to HR and to the person's supervisors (anyone up their chain) only."""

    list_display = ["date", "person", "kind", "recorded_by"]
    list_filter = ["kind", "date"]
    search_fields = ["person__name", "person__staff_number", "summary"]
    list_select_related = ["person", "recorded_by"]
    autocomplete_fields = ["person"]
    readonly_fields = ["recorded_by"]
    date_hierarchy = "date"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CareRecord]:
        qs: QuerySet[CareRecord] = self.chain_filter(
            request, super().get_queryset(request), "person"
        )
        return qs

    def save_model(self, request: HttpRequest, obj: CareRecord, form: Any, change: bool) -> None:
        if not change:
            obj.recorded_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
