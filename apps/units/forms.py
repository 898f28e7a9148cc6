"""Admin forms of the grid's reference data, with Leaflet map widgets.

Points are stored as lat/lon columns, so their forms carry a virtual GeoJSON point field drawn
with django-leaflet's widget: it is filled from lat/lon and, when moved on the map, writes them
back. The numeric fields stay on the form; when both are edited, the typed numbers win.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djgeojson.fields import GeoJSONFormField
from leaflet.admin import LeafletAdminWidget

from .models import GridCell, StagingPoint, Station, Unit
from .reference import jurisdiction_validate

# Decimal places kept from a point placed on the map (~0.1 m).
MAP_PRECISION = 6


class PointMapWidget(LeafletAdminWidget):
    template_name = "leaflet/admin/widget.html"
    geom_type = "POINT"


class ReadOnlyMapWidget(LeafletAdminWidget):
    template_name = "leaflet/admin/widget.html"
    geom_type = "GEOMETRY"
    modifiable = False


def map_media() -> forms.Media:
    """The scripts and styles a page with a map needs (Leaflet and django-leaflet's admin CSS)."""
    media: forms.Media = ReadOnlyMapWidget().media
    return media


def map_display(name: str, geojson: dict[str, Any] | None, *, empty: str = "") -> SafeString:
    """A read-only Leaflet map of a geometry, for admin read-only fields."""
    if not geojson:
        return format_html("<p>{}</p>", empty or gettext("No position."))
    widget = ReadOnlyMapWidget(attrs={"geom_type": geojson["type"].upper()})
    html: SafeString = widget.render(name, json.dumps(geojson), attrs={"id": f"id_{name}"})
    return html


def point_geojson(lat: float | None, lon: float | None) -> dict[str, Any] | None:
    if lat is None or lon is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


class LatLonMapForm(forms.ModelForm):  # type: ignore[type-arg]
    """A model form over `lat`/`lon` columns with a point map field, `location`."""

    location = GeoJSONFormField(
        geom_type="POINT",
        required=False,
        label=_("position on the map"),
        help_text=_("Drag the marker, or type the latitude and longitude below."),
        widget=PointMapWidget,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["location"] = point_geojson(self.instance.lat, self.instance.lon)
        # A marker alone is enough; `clean` requires one of the two.
        for name in ("lat", "lon"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_location(self) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self.cleaned_data.get("location")
        if not value:
            return None
        try:
            lon, lat = (float(c) for c in value["coordinates"][:2])
        except (KeyError, TypeError, ValueError) as exc:
            raise forms.ValidationError(_("Place one point on the map."), code="point") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise forms.ValidationError(_("The point is outside the map."), code="range")
        return point_geojson(round(lat, MAP_PRECISION), round(lon, MAP_PRECISION))

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        typed = {"lat", "lon"} & set(self.changed_data)
        point = cleaned.get("location")
        if point and "location" in self.changed_data and not typed:
            cleaned["lon"], cleaned["lat"] = point["coordinates"]
        for name in ("lat", "lon"):
            if cleaned.get(name) is None and name not in self.errors:
                self.add_error(
                    name, forms.ValidationError(_("Place the point on the map or type it."))
                )
        return cleaned


class StagingPointForm(LatLonMapForm):
    class Meta:
        model = StagingPoint
        fields = ["name", "code", "station", "address", "location", "lat", "lon", "approximate"]


class UnitForm(forms.ModelForm):  # type: ignore[type-arg]
    """The unit's identity and post. Status and position are live data, written by services."""

    class Meta:
        model = Unit
        fields = ["callsign", "plate", "staging_point"]


class StationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Station
        fields = ["name", "code", "phone", "jurisdiction"]

    def clean_jurisdiction(self) -> dict[str, Any]:
        value: dict[str, Any] = self.cleaned_data["jurisdiction"]
        jurisdiction_validate(value)
        return value


class GridCellForm(forms.ModelForm):  # type: ignore[type-arg]
    """A cell's assignment; its rectangle is fixed by the grid."""

    class Meta:
        model = GridCell
        fields = ["staging_point", "priority_zone"]
