"""Admin of the gazetteer: commanders edit places (reference data, as the units' admin);
dispatchers see them read-only. Saving goes through services.place_save, which recomputes the
search keys."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from apps.units.admin import MapModelAdmin
from apps.units.forms import LatLonMapForm, map_display, point_geojson

from .models import Place
from .services import place_save


class PlaceForm(LatLonMapForm):
    class Meta:
        model = Place
        fields = ["name", "aliases", "kind", "address", "location", "lat", "lon", "demo"]


@admin.register(Place)
class PlaceAdmin(MapModelAdmin):
    form = PlaceForm
    list_display = ["name", "kind", "address", "lat", "lon", "demo"]
    list_filter = ["kind", "demo"]
    search_fields = ["name", "address"]
    readonly_fields = ["key"]
    readonly_maps = {"location": "location_map"}

    @admin.display(description=_("position on the map"))
    def location_map(self, obj: Place) -> SafeString:
        return map_display("location_map", point_geojson(obj.lat, obj.lon))

    def save_model(self, request: HttpRequest, obj: Place, form: Any, change: bool) -> None:
        place_save(place=obj)
