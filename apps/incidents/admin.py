"""Admin for commanders and dispatchers: the incident list, the incident page (map, read-only
timeline) and the transitions, which call the same services as the API.

A station's duty officer sees the incidents in or transferred to the station and has one
transition: confirming receipt of a transfer (the formal hand-off receipt).

Events are read-only for everyone, superusers included: no add, change or delete.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.common.errors import DomainError
from apps.common.models import AccessLog
from apps.common.roles import Role, has_role, is_command_centre
from apps.common.security import mask_phone
from apps.common.services import access_log_record
from apps.units.models import UNIT_FREE_STATUSES, Station, Unit, UnitStatus
from apps.units.selectors import station_ids_for_user, unit_recommendations

from . import services
from .models import EVENT_KIND_LABELS, Event, Incident, IncidentStatus, event_kind_label
from .selectors import caller_phone_visible, incidents_visible_to
from .transitions import BY_ACTION, TRANSITIONS, Transition, actions_from
from .transitions import Actor as TransitionActor


def _is_operations(request: HttpRequest) -> bool:
    # The admin site itself admits staff only.
    return request.user.is_staff and is_command_centre(request.user)


def _is_station(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_staff
        and has_role(user, Role.STATION)
        and station_ids_for_user(user)
    )


def _may_view(request: HttpRequest) -> bool:
    return _is_operations(request) or _is_station(request)


def _transitions_for(request: HttpRequest) -> set[str]:
    """The transitions a user may start from the admin: the command centre its own and the crew's
    (on the crew's behalf); a station's duty officer the station's receipt."""
    if _is_operations(request):
        return {t.action for t in TRANSITIONS if t.actor != TransitionActor.STATION}
    if _is_station(request):
        return {t.action for t in TRANSITIONS if t.actor == TransitionActor.STATION}
    return set()


# --- transition forms --------------------------------------------------------------------------


class ConfirmForm(forms.Form):
    pass


class DispatchForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=gettext_lazy("unit"),
        queryset=Unit.objects.filter(status__in=UNIT_FREE_STATUSES).select_related("staging_point"),
    )


class SummaryForm(forms.Form):
    summary = forms.CharField(label=gettext_lazy("summary"), max_length=2000, widget=forms.Textarea)


class TransferForm(forms.Form):
    station = forms.ModelChoiceField(
        label=gettext_lazy("receiving station"),
        queryset=Station.objects.all(),
        required=False,
        help_text=gettext_lazy("Empty: the station whose jurisdiction contains the location."),
    )
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=1000, widget=forms.Textarea)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=1000, widget=forms.Textarea)


# The form of each transition that asks for something (the table's `fields`); others confirm.
TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "dispatch": DispatchForm,
    "resolve": SummaryForm,
    "transfer": TransferForm,
    "cancel": ReasonForm,
    "unassign": ReasonForm,
}


def transition_button(transition: Transition) -> str:
    """The admin's button for a transition, from the table's label."""
    label = capfirst(str(transition.label))
    if transition.actor == TransitionActor.CREW:
        # The command centre acts on the crew's behalf (a crew reporting by radio).
        return _("%(action)s (for the crew)") % {"action": label}
    return label


# --- inlines and admins ------------------------------------------------------------------------


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _local_seconds(at: Any) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")


def _state_change(obj: Event) -> str:
    names = dict(IncidentStatus.choices if obj.stream == "incident" else UnitStatus.choices)

    def label(code: str) -> str:
        return str(names.get(code, code))

    if not obj.from_state and not obj.to_state:
        return ""
    if obj.from_state == obj.to_state or not obj.from_state:
        return label(obj.to_state)
    return f"{label(obj.from_state)} → {label(obj.to_state)}"


class EventInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Event
    fk_name = "incident"
    verbose_name_plural = gettext_lazy("timeline")
    fields = ("seq", "at_seconds", "kind_label", "state_change", "actor", "reason", "hash_short")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).filter(stream="incident").select_related("actor")

    # Labels, not codes; times to the second; the chain's hash folded to its first characters
    # (verify_timeline checks the whole of it).
    @admin.display(description=gettext_lazy("at"))
    def at_seconds(self, obj: Event) -> str:
        return _local_seconds(obj.at)

    @admin.display(description=gettext_lazy("event"))
    def kind_label(self, obj: Event) -> str:
        return event_kind_label(obj.kind)

    @admin.display(description=gettext_lazy("status"))
    def state_change(self, obj: Event) -> str:
        return _state_change(obj)

    @admin.display(description=gettext_lazy("hash"))
    def hash_short(self, obj: Event) -> str:
        return f"{obj.hash[:10]}…" if obj.hash else ""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_operations(request)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "number",
        "status",
        "category",
        "priority",
        "address",
        "station",
        "unit",
        "received_at",
    ]
    list_filter = [
        "status",
        "category",
        "station",
        "grid_cell__staging_point",
        ("received_at", admin.DateFieldListFilter),
    ]
    search_fields = ["number", "caller_phone", "address"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # A search must not match on what the searcher may not see: a station user sees callers'
        # numbers masked, and guessing prefixes would recover them one change link at a time.
        if _is_operations(request):
            return list(self.search_fields)
        return [f for f in self.search_fields if f != "caller_phone"]

    date_hierarchy = "received_at"
    list_select_related = ["station", "unit"]
    inlines = [EventInline]
    actions = ["action_acknowledge", "action_en_route", "action_arrive", "action_transition_form"]
    change_form_template = "admin/incidents/incident/change_form.html"
    readonly_fields = ["location_map"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "status",
                    "category",
                    "priority",
                    "caller_name",
                    "caller_phone",
                    "address",
                    "description",
                    "location_map",
                    "grid_cell",
                    "station",
                    "unit",
                ]
            },
        ),
        (
            gettext_lazy("Times"),
            {
                "fields": [
                    "received_by",
                    "received_at",
                    "dispatched_at",
                    "acknowledged_at",
                    "en_route_at",
                    "arrived_at",
                    "closed_at",
                ]
            },
        ),
        (
            gettext_lazy("Outcome"),
            {
                "fields": [
                    "summary",
                    "transfer_station",
                    "transfer_reason",
                    "handed_over_at",
                    "transfer_received_at",
                    "transfer_received_by",
                    "cancel_reason",
                ]
            },
        ),
    ]

    # Access: the command centre, and a station's duty officer for the station's incidents.
    # Every field is read-only: changes go through transitions.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_view(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # "Change" opens the incident page with its transition buttons; fields stay read-only.
        return _may_view(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Incident]:
        qs = super().get_queryset(request)
        if _is_operations(request):
            return qs
        return qs.filter(pk__in=incidents_visible_to(request.user).values("pk"))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return super().get_actions(request) if _is_operations(request) else {}

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or caller_phone_visible(request.user, obj):
            return fieldsets
        return [
            (
                title,
                {
                    **opts,
                    "fields": [
                        "caller_phone_masked" if f == "caller_phone" else f for f in opts["fields"]
                    ],
                },
            )
            for title, opts in fieldsets
        ]

    @admin.display(description=gettext_lazy("caller phone"))
    def caller_phone_masked(self, obj: Incident) -> str:
        return mask_phone(obj.caller_phone)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # calls are taken through the intake API (numbering, ranking, pushes)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = [str(name) for _title, opts in self.fieldsets for name in opts["fields"]]
        return [*fields, "caller_phone_masked"]

    @admin.display(description=gettext_lazy("location"))
    def location_map(self, obj: Incident) -> SafeString:
        if obj.pk is None:
            return format_html("-")
        html = render_to_string(
            "incidents/admin/location_map.html",
            {
                "map_id": f"incident_map_{obj.pk}",
                "lat": obj.lat,
                "lon": obj.lon,
                "number": obj.number,
            },
        )
        return format_html("{}", SafeString(html))

    # --- transitions -----------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:object_id>/transition/<str:action>/",
                self.admin_site.admin_view(self.transition_view),
                name="incidents_incident_transition",
            )
        ]
        return custom + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        incident = self.get_object(request, object_id)
        if (
            incident is not None
            and incident.caller_phone
            and request.method == "GET"
            and caller_phone_visible(request.user, incident)
        ):
            # The page shows the caller's phone in full: who saw it is recorded.
            access_log_record(
                user=request.user,
                action=AccessLog.Action.CALLER_RECORD_VIEWED,
                target=incident,
                via=request.path,
            )
        available = []
        if incident is not None:
            allowed = _transitions_for(request)
            available = [
                (t.action, transition_button(t))
                for t in actions_from(incident.status)
                if t.action in allowed
            ]
        extra = {
            **(extra_context or {}),
            "transitions": available,
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def save_model(self, request: HttpRequest, obj: Incident, form: Any, change: bool) -> None:
        # Never a full-row save of a hot row: state changes go through the transition services.
        return None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None

    def transition_view(self, request: HttpRequest, object_id: int, action: str) -> HttpResponse:
        if action not in BY_ACTION or action not in _transitions_for(request):
            raise PermissionDenied
        incident = get_object_or_404(self.get_queryset(request), pk=object_id)
        label = transition_button(BY_ACTION[action])
        form_cls = TRANSITION_FORMS.get(action, ConfirmForm)
        change_url = reverse("admin:incidents_incident_change", args=[incident.pk])
        form = form_cls(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.incident_transition(
                    action=action, incident=incident, actor=request.user, data=form.cleaned_data
                )
            except (DomainError, PermissionDenied) as exc:
                messages.error(request, str(getattr(exc, "message", exc) or exc))
                return HttpResponseRedirect(change_url)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("%(number)s: done.") % {"number": incident.number})
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "incident": incident,
            "label": label,
            "form": form,
            "recommendations": (
                unit_recommendations(lat=incident.lat, lon=incident.lon)
                if action == "dispatch"
                else []
            ),
            "title": f"{incident.number} · {label}",
        }
        return TemplateResponse(request, "admin/incidents/incident/transition.html", context)

    def _run_simple(self, request: HttpRequest, queryset: QuerySet[Incident], action: str) -> None:
        done = 0
        for incident in queryset:
            try:
                services.incident_transition(
                    action=action, incident=incident, actor=request.user, data={}
                )
                done += 1
            except (DomainError, PermissionDenied) as exc:
                messages.error(
                    request, f"{incident.number}: {getattr(exc, 'message', None) or exc}"
                )
        if done:
            messages.success(request, _("%(n)d incident(s) updated.") % {"n": done})

    @admin.action(description=gettext_lazy("Acknowledge (for the crew)"))
    def action_acknowledge(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        self._run_simple(request, queryset, "acknowledge")

    @admin.action(description=gettext_lazy("En route (for the crew)"))
    def action_en_route(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        self._run_simple(request, queryset, "en_route")

    @admin.action(description=gettext_lazy("On scene (for the crew)"))
    def action_arrive(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        self._run_simple(request, queryset, "arrive")

    @admin.action(description=gettext_lazy("Dispatch, resolve, transfer, cancel… (one incident)"))
    def action_transition_form(
        self, request: HttpRequest, queryset: QuerySet[Incident]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            messages.warning(request, _("Select exactly one incident."))
            return None
        incident = queryset.get()
        return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))


class EventKindFilter(admin.SimpleListFilter):
    """The events by kind, named as on the timeline rather than by their codes."""

    title = gettext_lazy("event")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(EVENT_KIND_LABELS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Event]) -> QuerySet[Event]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """The timeline, read-only for everyone (the database refuses edits on PostgreSQL too).

    An event's page shows labels and the time to the second; the chain's hashes are folded
    away (verify_timeline checks them)."""

    list_display = [
        "stream",
        "stream_id",
        "seq",
        "at_seconds",
        "kind_label",
        "state_change",
        "actor",
    ]
    list_filter = ["stream", EventKindFilter]
    search_fields = ["incident__number", "unit__callsign"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    actions = None
    readonly_fields = ["at_seconds", "kind_label", "state_change"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "stream",
                    "stream_id",
                    "seq",
                    "incident",
                    "unit",
                    "actor",
                    "at_seconds",
                    "kind_label",
                    "state_change",
                    "reason",
                    "payload",
                ]
            },
        ),
        (
            gettext_lazy("Hash chain (tamper evidence)"),
            {"classes": ["collapse"], "fields": ["prev_hash", "hash", "key_id"]},
        ),
    ]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_operations(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_operations(request)

    @admin.display(description=gettext_lazy("at"), ordering="at")
    def at_seconds(self, obj: Event) -> str:
        return _local_seconds(obj.at)

    @admin.display(description=gettext_lazy("event"), ordering="kind")
    def kind_label(self, obj: Event) -> str:
        return event_kind_label(obj.kind)

    @admin.display(description=gettext_lazy("status"))
    def state_change(self, obj: Event) -> str:
        return _state_change(obj)
