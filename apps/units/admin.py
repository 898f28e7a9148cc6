"""Admin of the grid: stations, staging points, grid cells on Leaflet maps, and the unit board.

Commanders edit (role matrix: apps/common/roles.py); dispatchers see the same pages read-only,
with the geometry still drawn on a (non-editable) map. Unit status and position are live data
written by the unit services, so the unit board shows them and never edits them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms import Media
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdminMixin

from .forms import (
    GridCellForm,
    StagingPointForm,
    StationForm,
    UnitForm,
    map_display,
    map_media,
    point_geojson,
)
from .models import GridCell, StagingPoint, Station, StationDuty, Unit
from .reference import gridcell_save, station_save
from .selectors import position_age_s


class MapModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Swaps editable map fields for read-only maps when the user may only view.

    Django's view-only admin would print a map field's raw GeoJSON; `readonly_maps` names the
    admin method that draws it instead (field name → method name).
    """

    readonly_maps: dict[str, str] = {}

    @property
    def media(self) -> Media:
        # A view-only form has no map widget, so Leaflet comes from here.
        return super().media + map_media()

    def _view_only(self, request: HttpRequest, obj: Any) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        if self._view_only(request, obj):
            # Django lists the form's fields, then the read-only ones (the map methods among
            # them): each map takes its field's place, once. Listed twice, the same map container
            # was drawn twice ("Map container is already initialized").
            maps = self.readonly_maps
            fields = [
                maps.get(f, f) if isinstance(f, str) else f
                for f in fields
                if f not in maps.values()
            ]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if self._view_only(request, obj):
            fields += list(self.readonly_maps.values())
        return fields


class StationDutyInline(admin.TabularInline):  # type: ignore[type-arg]
    model = StationDuty
    extra = 0
    verbose_name = _("duty account")
    verbose_name_plural = _("duty accounts (receive transferred incidents)")


@admin.register(Station)
class StationAdmin(LeafletGeoAdminMixin, MapModelAdmin):
    form = StationForm
    list_display = ["name", "code", "phone", "point_count"]
    search_fields = ["name", "code"]
    readonly_fields = ["min_lat", "min_lon", "max_lat", "max_lon"]
    readonly_maps = {"jurisdiction": "jurisdiction_map"}
    inlines = [StationDutyInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Station]:
        qs: QuerySet[Station] = super().get_queryset(request)
        return qs.annotate(n_points=Count("staging_points"))

    @admin.display(description=_("staging points"), ordering="n_points")
    def point_count(self, obj: Station) -> int:
        return int(getattr(obj, "n_points", 0))

    @admin.display(description=_("jurisdiction"))
    def jurisdiction_map(self, obj: Station) -> SafeString:
        return map_display("jurisdiction_map", obj.jurisdiction)

    def save_model(self, request: HttpRequest, obj: Station, form: Any, change: bool) -> None:
        # The bounding box (the SQL pre-filter of jurisdiction lookups) follows the polygon.
        station_save(station=obj)


@admin.register(StagingPoint)
class StagingPointAdmin(MapModelAdmin):
    form = StagingPointForm
    list_display = ["name", "code", "station", "lat", "lon", "approximate", "cell_count"]
    list_filter = ["station", "approximate"]
    search_fields = ["name", "code", "address"]
    list_select_related = ["station"]
    readonly_maps = {"location": "location_map"}

    def get_queryset(self, request: HttpRequest) -> QuerySet[StagingPoint]:
        qs: QuerySet[StagingPoint] = super().get_queryset(request)
        return qs.annotate(n_cells=Count("cells"))

    @admin.display(description=_("grid cells"), ordering="n_cells")
    def cell_count(self, obj: StagingPoint) -> int:
        return int(getattr(obj, "n_cells", 0))

    @admin.display(description=_("position on the map"))
    def location_map(self, obj: StagingPoint) -> SafeString:
        return map_display("location_map", point_geojson(obj.lat, obj.lon))


@admin.register(GridCell)
class GridCellAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Cells are generated with the grid; here a commander re-assigns them or flags key areas."""

    form = GridCellForm
    list_display = ["code", "row", "col", "staging_point", "priority_zone"]
    list_editable = ["staging_point", "priority_zone"]
    list_filter = ["priority_zone", "staging_point"]
    list_select_related = ["staging_point"]
    search_fields = ["code"]
    list_per_page = 100
    fields = ["code", "row", "col", "area", "staging_point", "priority_zone"]
    readonly_fields = ["code", "row", "col", "area"]

    @property
    def media(self) -> Media:
        return super().media + map_media()

    @admin.display(description=_("area"))
    def area(self, obj: GridCell) -> SafeString:
        return map_display("area", obj.geometry)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the grid's rectangles come from the grid generator (load_demo_city)

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        """The editable list with one query for the staging-point choices of every row."""
        formset = super().get_changelist_formset(request, **kwargs)
        choices = [(p.pk, str(p)) for p in StagingPoint.objects.order_by("code")]

        class OneQueryChoices(formset):  # type: ignore[misc,valid-type]
            def _construct_form(self, i: int, **kw: Any) -> Any:
                form = super()._construct_form(i, **kw)
                form.fields["staging_point"].choices = choices
                return form

        return OneQueryChoices

    def save_model(self, request: HttpRequest, obj: GridCell, form: Any, change: bool) -> None:
        gridcell_save(cell=obj)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The unit board: where every unit is, what it is doing and how fresh its position is."""

    form = UnitForm
    list_display = [
        "callsign",
        "plate",
        "staging_point",
        "status",
        "current_incident",
        "position",
        "position_age",
    ]
    list_filter = ["status", "staging_point"]
    list_select_related = ["staging_point", "current_incident"]
    search_fields = ["callsign", "plate"]
    fieldsets = [
        (None, {"fields": ["callsign", "plate", "staging_point"]}),
        (
            _("Live status (reported by the unit)"),
            {
                "fields": [
                    "status",
                    "status_changed_at",
                    "current_incident",
                    "position_map",
                    "lat",
                    "lon",
                    "position_accuracy_m",
                    "position_at",
                ]
            },
        ),
    ]
    readonly_fields = [
        "status",
        "status_changed_at",
        "current_incident",
        "position_map",
        "lat",
        "lon",
        "position_accuracy_m",
        "position_at",
    ]

    @property
    def media(self) -> Media:
        return super().media + map_media()

    @admin.display(description=_("last position"))
    def position(self, obj: Unit) -> str:
        if obj.lat is None or obj.lon is None:
            return "—"
        return f"{obj.lat:.5f}, {obj.lon:.5f}"

    @admin.display(description=_("position age"), ordering="-position_at")
    def position_age(self, obj: Unit) -> str:
        now = timezone.now()
        age = position_age_s(obj, now)
        if age is None or obj.position_at is None:
            return "—"
        text = timesince(obj.position_at, now)
        if age > settings.DISPATCH_POSITION_MAX_AGE_S:
            # Dispatch ranks such a unit from its staging point, not from this position.
            return format_html("{} ({})", text, gettext("stale"))
        return text

    @admin.display(description=_("position on the map"))
    def position_map(self, obj: Unit) -> SafeString:
        return map_display(
            "position_map",
            point_geojson(obj.lat, obj.lon),
            empty=gettext("The unit has not reported a position yet."),
        )
