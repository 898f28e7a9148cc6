"""Plain-Python geometry on WGS-84 coordinates (no GIS database needed).

Positions are stored as latitude/longitude columns so that SQLite and PostgreSQL can both answer
bounding-box queries; polygons are GeoJSON with a stored bounding box used as an index pre-filter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class LatLon:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class BBox:
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def polygon_rings(geojson: dict[str, Any]) -> list[list[Sequence[float]]]:
    """The rings of a GeoJSON Polygon, or of every polygon of a MultiPolygon."""
    kind = geojson.get("type")
    coords = geojson.get("coordinates") or []
    if kind == "Polygon":
        return list(coords)
    if kind == "MultiPolygon":
        return [ring for poly in coords for ring in poly]
    raise ValueError(f"not a polygon: {kind!r}")


def _ring_contains(ring: Sequence[Sequence[float]], lat: float, lon: float) -> bool:
    # Ray casting on (x=lon, y=lat); adequate at city scale.
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat):
            x_cross = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lon < x_cross:
                inside = not inside
        j = i
    return inside


def polygon_contains(geojson: dict[str, Any], lat: float, lon: float) -> bool:
    """Whether a GeoJSON Polygon/MultiPolygon contains the point (holes respected)."""
    kind = geojson.get("type")
    polygons = (
        [geojson["coordinates"]] if kind == "Polygon" else list(geojson.get("coordinates") or [])
    )
    for rings in polygons:
        if not rings:
            continue
        if _ring_contains(rings[0], lat, lon) and not any(
            _ring_contains(hole, lat, lon) for hole in rings[1:]
        ):
            return True
    return False


def polygon_bbox(geojson: dict[str, Any]) -> BBox:
    points = [pt for ring in polygon_rings(geojson) for pt in ring]
    if not points:
        raise ValueError("empty polygon")
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return BBox(min(lats), min(lons), max(lats), max(lons))


def rectangle(min_lat: float, min_lon: float, max_lat: float, max_lon: float) -> dict[str, Any]:
    """A GeoJSON Polygon for a lat/lon rectangle (counter-clockwise outer ring)."""
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [min_lon, min_lat],
                [max_lon, min_lat],
                [max_lon, max_lat],
                [min_lon, max_lat],
                [min_lon, min_lat],
            ]
        ],
    }


# --- GCJ-02 ("Mars coordinates") for Chinese tile providers ------------------------------------
# Gaode/AMap and Tencent tiles are drawn in GCJ-02, an obfuscated datum mandated for published maps
# in mainland China. Positions stay stored in WGS-84; they are shifted only for display on such
# tiles. This is the widely published forward transform (Krasovsky ellipsoid parameters); the
# patrol app and the command map carry the same formula in frontend/static/common/gcj02.js.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def out_of_china(lat: float, lon: float) -> bool:
    """Outside the rough box where GCJ-02 applies (no shift is made there)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _gcj_delta(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    common = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat += common
    d_lon += common
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lat, d_lon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 (lat, lon) → GCJ-02 (lat, lon); unchanged outside China."""
    if out_of_china(lat, lon):
        return lat, lon
    d_lat, d_lon = _gcj_delta(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 (lat, lon) → WGS-84 (lat, lon); unchanged outside China.

    The forward transform has no closed-form inverse; its shift varies slowly (a few hundred
    metres over the whole country), so the fixed-point iteration w ← w − (gcj(w) − g) converges
    to well under a millimetre in a handful of steps.
    """
    if out_of_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(30):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = g_lat - lat, g_lon - lon
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
        if abs(e_lat) < 1e-11 and abs(e_lon) < 1e-11:
            break
    return w_lat, w_lon
