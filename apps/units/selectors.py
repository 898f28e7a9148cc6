"""Reads about the force: jurisdiction lookup, unit ranking for dispatch, crew and station links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.common.geo import LatLon, polygon_contains
from apps.common.roles import UNIT_CREW_ROLES, Role, has_role

from .models import UNIT_FREE_STATUSES, GridCell, Station, StationDuty, Unit
from .routing_engine import Router, get_router


def _bbox_filter(lat: float, lon: float) -> Q:
    return Q(min_lat__lte=lat, max_lat__gte=lat, min_lon__lte=lon, max_lon__gte=lon)


def grid_cell_at(*, lat: float, lon: float) -> GridCell | None:
    """The grid cell containing the point (cells are rectangles: the bbox is the geometry).

    Where cells share an edge, the lowest row/column wins, so the answer is deterministic.
    """
    return (
        GridCell.objects.select_related("staging_point")
        .filter(_bbox_filter(lat, lon))
        .order_by("row", "col")
        .first()
    )


def station_at(*, lat: float, lon: float) -> Station | None:
    """The police station whose jurisdiction polygon contains the point.

    The stored bounding box narrows the candidates in SQL; the polygon test runs in Python.
    """
    for station in Station.objects.filter(_bbox_filter(lat, lon)).order_by("code"):
        if polygon_contains(station.jurisdiction, lat, lon):
            return station
    return None


@dataclass(frozen=True, slots=True)
class Recommendation:
    unit: Unit
    eta_s: int
    distance_m: int
    # "position" (the unit's latest fix) or "staging_point" (fix too old or missing).
    position_source: str
    # Age of the unit's latest fix in seconds; None when the unit never reported one.
    position_age_s: int | None
    router: str


def position_age_s(unit: Unit, now: datetime) -> int | None:
    if unit.position_at is None:
        return None
    return max(0, int((now - unit.position_at).total_seconds()))


def unit_origin(unit: Unit, now: datetime) -> tuple[LatLon, str, int | None]:
    """Where a unit starts from: its latest fix when fresh, else its staging point."""
    age = position_age_s(unit, now)
    if (
        age is not None
        and unit.lat is not None
        and unit.lon is not None
        and age <= settings.DISPATCH_POSITION_MAX_AGE_S
    ):
        return LatLon(unit.lat, unit.lon), "position", age
    sp = unit.staging_point
    return LatLon(sp.lat, sp.lon), "staging_point", age


def unit_recommendations(
    *,
    lat: float,
    lon: float,
    now: datetime | None = None,
    limit: int | None = None,
    router: Router | None = None,
) -> list[Recommendation]:
    """Free units (available/patrolling) ranked by estimated travel time to the point.

    One query for the candidates' coordinates (plain tuples), one router call for all, and one
    query for the few units returned. Building a model instance per candidate (and its staging
    point) was 72% of the time with 1,000 units (bench/recommendation.py, cProfile).
    """
    now = now or timezone.now()
    rows = list(
        Unit.objects.filter(status__in=UNIT_FREE_STATUSES, current_incident__isnull=True)
        .order_by("pk")
        .values_list(
            "pk",
            "callsign",
            "lat",
            "lon",
            "position_at",
            "staging_point__lat",
            "staging_point__lon",
        )
    )
    origins = [_origin(*row[2:], now=now) for row in rows]
    travels = (router or get_router()).travel([o[0] for o in origins], LatLon(lat, lon))
    scored = [
        (round(travel.duration_s), round(travel.distance_m), row[1], row[0], origin, travel)
        for row, origin, travel in zip(rows, origins, travels, strict=True)
        if travel is not None
    ]
    scored.sort(key=lambda r: (r[0], r[1], r[2]))
    cap = settings.DISPATCH_RECOMMENDATIONS if limit is None else limit
    top = scored[:cap]
    units = Unit.objects.select_related("staging_point").in_bulk([r[3] for r in top])
    return [
        Recommendation(
            unit=units[pk],
            eta_s=eta_s,
            distance_m=distance_m,
            position_source=origin[1],
            position_age_s=origin[2],
            router=travel.source,
        )
        for eta_s, distance_m, _callsign, pk, origin, travel in top
    ]


def _origin(
    lat: float | None,
    lon: float | None,
    position_at: datetime | None,
    sp_lat: float,
    sp_lon: float,
    *,
    now: datetime,
) -> tuple[LatLon, str, int | None]:
    """unit_origin() from the columns, without a model instance."""
    age = None if position_at is None else max(0, int((now - position_at).total_seconds()))
    fresh = age is not None and age <= settings.DISPATCH_POSITION_MAX_AGE_S
    if fresh and lat is not None and lon is not None:
        return LatLon(lat, lon), "position", age
    return LatLon(sp_lat, sp_lon), "staging_point", age


def unit_board() -> QuerySet[Unit]:
    """Every unit with its staging point, for the unit list and the board (one query)."""
    return Unit.objects.select_related("staging_point").order_by("callsign")


# --- Who may act for a unit or a station -------------------------------------------------------


def _crew_units(user: Any, at: datetime | None = None) -> QuerySet[Unit]:
    at = at or timezone.now()
    # One filter() call: every condition applies to the same assignment row.
    return Unit.objects.filter(
        Q(staging_point__assignments__valid_to__isnull=True)
        | Q(staging_point__assignments__valid_to__gt=at),
        staging_point__assignments__person__user=user,
        staging_point__assignments__valid_from__lte=at,
    )


def unit_for_user(user: Any, *, at: datetime | None = None) -> Unit | None:
    """The unit a user crews now, or None.

    A user is crew of a unit when they hold the unit_officer or unit_auxiliary role and have an
    assignment valid now to the unit's staging point. With several units at one staging point
    the first by call sign is returned; `is_crew` answers for a given unit.
    """
    if not user.is_authenticated or not has_role(user, *UNIT_CREW_ROLES):
        return None
    return _crew_units(user, at).order_by("callsign").distinct().first()


def is_crew(user: Any, unit: Unit, *, at: datetime | None = None) -> bool:
    if not user.is_authenticated or not has_role(user, *UNIT_CREW_ROLES):
        return False
    return _crew_units(user, at).filter(pk=unit.pk).exists()


def station_ids_for_user(user: Any) -> set[int]:
    """The stations a station user acts for (StationDuty links; the station role is required)."""
    if not user.is_authenticated or not has_role(user, Role.STATION):
        return set()
    return set(StationDuty.objects.filter(user=user).values_list("station_id", flat=True))
