"""Writes of the grid's reference data: stations' jurisdictions and grid cells.

A station's bounding-box columns are the SQL pre-filter of "which station's jurisdiction contains
this point"; they are derived from the polygon here, so the admin and the demo loader cannot store
a polygon with a stale box. (Live operations — unit status and positions — are in services.py.)
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.common.geo import BBox, polygon_bbox, polygon_contains, polygon_rings

from .models import GridCell, Station


def jurisdiction_validate(geojson: Any) -> BBox:
    """Check a GeoJSON Polygon/MultiPolygon of WGS-84 coordinates; returns its bounding box."""
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_("The jurisdiction must be a polygon."), code="not_polygon")
    try:
        rings = polygon_rings(geojson)
        for ring in rings:
            if len(ring) < 4:
                raise ValidationError(
                    _("A polygon ring needs at least three distinct points."), code="short_ring"
                )
            for point in ring:
                lon, lat = float(point[0]), float(point[1])
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValidationError(
                        _("Coordinates must be longitude/latitude in degrees (WGS-84)."),
                        code="out_of_range",
                    )
        return polygon_bbox(geojson)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValidationError(
            _("The jurisdiction is not a valid polygon."), code="invalid"
        ) from exc


def station_apply_bbox(station: Station) -> None:
    """Set the station's bounding-box columns from its jurisdiction polygon (not saved)."""
    box = jurisdiction_validate(station.jurisdiction)
    station.min_lat, station.min_lon = box.min_lat, box.min_lon
    station.max_lat, station.max_lon = box.max_lat, box.max_lon


def station_save(*, station: Station) -> Station:
    """Save a station with its bounding box recomputed from the polygon. Locks nothing:
    reference data is edited by commanders, one form at a time."""
    station_apply_bbox(station)
    with transaction.atomic():
        station.save()
    return station


def gridcell_validate_bounds(
    *, min_lat: float, min_lon: float, max_lat: float, max_lon: float
) -> None:
    if not (-90 <= min_lat < max_lat <= 90 and -180 <= min_lon < max_lon <= 180):
        raise ValidationError(_("The cell's bounds are not a valid rectangle."), code="bounds")


def gridcell_save(*, cell: GridCell) -> GridCell:
    """Save a grid cell after checking its bounds (the database also enforces their order)."""
    gridcell_validate_bounds(
        min_lat=cell.min_lat, min_lon=cell.min_lon, max_lat=cell.max_lat, max_lon=cell.max_lon
    )
    with transaction.atomic():
        cell.save()
    return cell


def station_containing(stations: list[Station], lat: float, lon: float) -> Station | None:
    """The first of `stations` whose jurisdiction contains the point (bbox first, then polygon)."""
    for station in stations:
        if station.bbox.contains(lat, lon) and polygon_contains(station.jurisdiction, lat, lon):
            return station
    return None
