"""Reads of the gazetteer: the search a dispatcher types into, and the reverse lookup of a pin.

place_search pre-filters in SQL on PlaceKey (prefix ranges on an ordinary index, each query
bounded by CANDIDATES) and ranks the few hundred candidates in Python on their precomputed keys:

1. exact: a name, alias, its initials or full pinyin equals the query;
2. prefix: one of them starts with the query;
3. partial: one of them contains the query;
4. any order: the query splits into fragments that each occur in a name or alias
   (振兴大道月光路 → 振兴大道 + 月光路 finds 振兴大道与月光路交叉口).

Within a rank, the nearer place comes first when a point is given (in steps of NEAR_STEP_M, so
that the shorter name wins among places about as near), then the shorter name.
The figures on 100,000 places are in bench/results/places.json (bench/places.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from apps.common.geo import LatLon, haversine_m
from apps.units.models import GridCell, StagingPoint, Station
from apps.units.selectors import grid_cell_at, station_at

from .models import KEY_MAX, Place, PlaceKey
from .text import is_pinyin_query, normalise

# How many candidate places each SQL step may return.
CANDIDATES = 300
NEAR_STEP_M = 500.0
# When a query matches more places than CANDIDATES, those within this distance of `near` are
# fetched as well.
NEAR_BOX_M = 2000.0
# Rank of each kind of match (lower is better).
EXACT, PREFIX, PARTIAL, ANY_ORDER = 0, 1, 2, 3


def _prefix(text: str) -> Q:
    """PlaceKey rows whose key starts with `text` (the index serves both forms)."""
    text = text[:KEY_MAX]
    if connection.vendor == "postgresql":
        # LIKE 'text%' on the varchar_pattern_ops index, whatever the database's collation.
        return Q(key__startswith=text)
    # SQLite's LIKE is case-insensitive and skips a BINARY index: compare the range instead.
    return Q(key__gte=text, key__lt=text[:-1] + chr(ord(text[-1]) + 1))


def _place_ids(keys: QuerySet[PlaceKey], limit: int = CANDIDATES) -> list[int]:
    seen: dict[int, None] = {}
    for place_id in keys.values_list("place_id", flat=True)[: limit * 2]:
        seen[place_id] = None
        if len(seen) >= limit:
            break
    return list(seen)


_M_PER_DEG_LAT = 111_320.0


def _box(lat: float, radius_m: float) -> tuple[float, float]:
    """Half the sides, in degrees, of a box holding the circle of radius_m around a point."""
    d_lat = radius_m / _M_PER_DEG_LAT
    return d_lat, d_lat / max(0.01, math.cos(math.radians(lat)))


def _exists(fragment: str) -> bool:
    return PlaceKey.objects.filter(_prefix(fragment)).exists()


def query_fragments(query: str) -> list[str]:
    """Split a normalised query into the longest pieces that occur in some name, left to right.

    Each piece is found by a binary search over its length (a prefix of an occurring piece
    occurs too), one indexed probe per step. A character found nowhere is dropped.
    """
    fragments: list[str] = []
    i = 0
    while i < len(query):
        lo, hi = i, min(len(query), i + KEY_MAX)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _exists(query[i:mid]):
                lo = mid
            else:
                hi = mid - 1
        if lo == i:
            i += 1
            continue
        fragments.append(query[i:lo])
        i = lo
    return fragments


@dataclass(frozen=True, slots=True)
class PlaceHit:
    place: Place
    rank: int
    distance_m: float | None


def _rank(query: str, fragments: list[str], keys: list[str]) -> int | None:
    if query in keys:
        return EXACT
    if any(k.startswith(query) for k in keys):
        return PREFIX
    if any(query in k for k in keys):
        return PARTIAL
    if len(fragments) > 1 and all(any(f in k for k in keys) for f in fragments):
        return ANY_ORDER
    return None


def place_search(
    *, q: str, near: LatLon | None = None, limit: int = 10, candidates: int = CANDIDATES
) -> list[PlaceHit]:
    """The places best matching the text `q`, best first (see the module docstring).

    At most five bounded SQL queries before the ranking, plus a few index probes when the query
    is not a substring of any name (to split it into fragments).
    """
    query = normalise(q)
    if not query or limit < 1:
        return []
    ids: dict[int, None] = {}

    def add(found: list[int]) -> None:
        ids.update(dict.fromkeys(found))

    head = query[:KEY_MAX]
    add(_place_ids(PlaceKey.objects.filter(key=head), candidates))
    starts = _place_ids(PlaceKey.objects.filter(_prefix(head), start=True), candidates)
    add(starts)
    saturated = len(starts) >= candidates
    # One character says too little to look inside every name: names that start with it only.
    whole_names_only = len(query) == 1
    if len(ids) < candidates and not whole_names_only:
        inside = _place_ids(PlaceKey.objects.filter(_prefix(head), start=False), candidates)
        add(inside)
        saturated = saturated or len(inside) >= candidates
    if near is not None and saturated:
        # More matches than candidates (医院 in a big city): the ones near the point too.
        d_lat, d_lon = _box(near.lat, NEAR_BOX_M)
        nearby = PlaceKey.objects.filter(
            _prefix(head),
            place__lat__gte=near.lat - d_lat,
            place__lat__lte=near.lat + d_lat,
            place__lon__gte=near.lon - d_lon,
            place__lon__lte=near.lon + d_lon,
        )
        if whole_names_only:
            nearby = nearby.filter(start=True)
        add(_place_ids(nearby, candidates))
    fragments: list[str] = []
    # A query found whole is one fragment: only a query found nowhere is split into pieces.
    if not ids and not is_pinyin_query(query) and len(query) > 1:
        fragments = query_fragments(query)
        if len(fragments) > 1:
            ordered = sorted(fragments, key=len, reverse=True)
            keys = PlaceKey.objects.filter(_prefix(ordered[0]))
            for fragment in ordered[1:]:
                keys = keys.filter(
                    place_id__in=PlaceKey.objects.filter(_prefix(fragment)).values("place_id")
                )
            add(_place_ids(keys, candidates))
    if not ids:
        return []
    # Ranked on plain rows; model instances are built for the answer only.
    rows = Place.objects.filter(pk__in=list(ids)).values_list(
        "id", "name", "address", "kind", "lat", "lon", "search_keys"
    )
    ranked: list[tuple[int, float, int, str, int, tuple[Any, ...], float | None]] = []
    for row in rows:
        rank = _rank(query, fragments, row[6])
        if rank is None:
            continue
        distance = None if near is None else haversine_m(near.lat, near.lon, row[4], row[5])
        step = 0.0 if distance is None else math.floor(distance / NEAR_STEP_M)
        ranked.append((rank, step, len(row[1]), row[1], row[0], row, distance))
    ranked.sort(key=lambda r: r[:5])
    return [
        PlaceHit(
            place=Place(
                id=row[0], name=row[1], address=row[2], kind=row[3], lat=row[4], lon=row[5]
            ),
            rank=rank,
            distance_m=distance,
        )
        for rank, _step, _len, _name, _pk, row, distance in ranked[:limit]
    ]


# --- Reverse lookup --------------------------------------------------------------------------


def places_near(*, lat: float, lon: float, limit: int = 5, max_m: float = 5000.0) -> list[PlaceHit]:
    """The places nearest a point, nearest first, within max_m: bounding boxes on the (lat, lon)
    index, widened four times at a time until enough places are inside the circle."""
    radius = min(250.0, max_m)
    while True:
        d_lat, d_lon = _box(lat, radius)
        box = Place.objects.filter(
            lat__gte=lat - d_lat, lat__lte=lat + d_lat, lon__gte=lon - d_lon, lon__lte=lon + d_lon
        ).only("id", "name", "address", "kind", "lat", "lon")
        hits = [
            PlaceHit(place=p, rank=EXACT, distance_m=haversine_m(lat, lon, p.lat, p.lon))
            for p in box
        ]
        inside = sorted(
            (h for h in hits if h.distance_m is not None and h.distance_m <= radius),
            key=lambda h: (h.distance_m, h.place.pk),
        )
        if len(inside) >= limit or radius >= max_m:
            return inside[:limit]
        radius = min(radius * 4, max_m)


@dataclass(frozen=True, slots=True)
class Reverse:
    places: list[PlaceHit]
    grid_cell: GridCell | None
    station: Station | None
    staging_point: StagingPoint | None
    staging_point_distance_m: float | None


def place_reverse(*, lat: float, lon: float, limit: int = 5) -> Reverse:
    """What a dropped pin is: the nearest places, its grid cell, its station's jurisdiction and
    the nearest staging point (a city has a few dozen: measured in Python)."""
    cell = grid_cell_at(lat=lat, lon=lon)
    points = [(haversine_m(lat, lon, p.lat, p.lon), p.pk, p) for p in StagingPoint.objects.all()]
    nearest = min(points, default=None, key=lambda t: (t[0], t[1]))
    return Reverse(
        places=places_near(lat=lat, lon=lon, limit=limit),
        grid_cell=cell,
        station=station_at(lat=lat, lon=lon),
        staging_point=nearest[2] if nearest else None,
        staging_point_distance_m=nearest[0] if nearest else None,
    )
