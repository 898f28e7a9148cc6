"""Reads about the force: jurisdiction lookup, unit ranking for dispatch, crew and station links."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from apps.common.geo import EARTH_RADIUS_M, LatLon, haversine_m, polygon_contains
from apps.common.prepared import Prepared
from apps.common.roles import UNIT_CREW_ROLES, Role, has_role
from apps.common.shifts import shift_of

from .models import (
    UNIT_FREE_STATUSES,
    GridCell,
    StagingPoint,
    Station,
    StationDuty,
    Unit,
    UnitKind,
)
from .routing_engine import Router, StraightLineRouter, Travel, get_router


def _bbox_filter(lat: float, lon: float) -> Q:
    return Q(min_lat__lte=lat, max_lat__gte=lat, min_lon__lte=lon, max_lon__gte=lon)


# Both are read for every call taken: compiled once per connection (apps/common/prepared.py).
_CELL_AT = Prepared(
    lambda lat, lon: (
        GridCell.objects.select_related("staging_point")
        .filter(_bbox_filter(lat, lon))
        .order_by("row", "col")[:1]
    )
)
_STATIONS_AROUND = Prepared(
    lambda lat, lon: Station.objects.filter(_bbox_filter(lat, lon)).order_by("code")
)


def grid_cell_at(*, lat: float, lon: float) -> GridCell | None:
    """The grid cell containing the point (cells are rectangles: the bbox is the geometry).

    Where cells share an edge, the lowest row/column wins, so the answer is deterministic.
    """
    return _CELL_AT.first(float(lat), float(lon))


def station_at(*, lat: float, lon: float) -> Station | None:
    """The police station whose jurisdiction polygon contains the point.

    The stored bounding box narrows the candidates in SQL; the polygon test runs in Python.
    """
    for station in _STATIONS_AROUND(float(lat), float(lon)):
        if polygon_contains(station.jurisdiction, lat, lon):
            return station
    return None


def service_area_distance_m(*, lat: float, lon: float) -> float | None:
    """How far the point lies from the service area: the box around every grid cell and station
    jurisdiction (0 inside it); None when none is defined yet (a new installation)."""
    boxes = [
        model.objects.aggregate(
            south=Min("min_lat"), west=Min("min_lon"), north=Max("max_lat"), east=Max("max_lon")
        )
        for model in (GridCell, Station)
    ]
    boxes = [b for b in boxes if b["south"] is not None]
    if not boxes:
        return None
    south = min(b["south"] for b in boxes)
    north = max(b["north"] for b in boxes)
    west = min(b["west"] for b in boxes)
    east = max(b["east"] for b in boxes)
    near_lat = min(max(lat, south), north)
    near_lon = min(max(lon, west), east)
    return haversine_m(lat, lon, near_lat, near_lon)


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


# With the straight-line router, how many free units the database returns, nearest first, for
# the exact ranking (at least twice the list's length).
RANKING_PRESELECT = 24


def unit_recommendations(
    *,
    lat: float,
    lon: float,
    now: datetime | None = None,
    limit: int | None = None,
    router: Router | None = None,
    kind: str = UnitKind.PATROL,
) -> list[Recommendation]:
    """Free units (available/patrolling) of one kind ranked by estimated travel time to the
    point: the patrol units by default (each call goes to the nearest of them), the elite
    squad's groups on request (ranked apart, sent deliberately).

    With the straight-line router the database orders the free units by great-circle distance
    from the nearer of their two possible origins (latest fix, staging point) and returns the
    nearest few; they are ranked exactly, and a bound on the units left out proves they cannot
    reach the list, else every free unit is ranked (two more queries). The result is the same as
    ranking every unit, in one query whatever the size of the force (bench/recommendation.py;
    the figures are in the README). A road router (OSRM) ranks every free unit.
    """
    now = now or timezone.now()
    router = router or get_router()
    cap = settings.DISPATCH_RECOMMENDATIONS if limit is None else limit
    destination = LatLon(lat, lon)
    if isinstance(router, StraightLineRouter) and cap > 0:
        fetch = max(RANKING_PRESELECT, 2 * cap)
        near = _nearest_free(lat, lon, now, fetch, kind)
        ranked = _rank(
            [(n.pk, n.callsign, _origin(*n.origin_columns, now=now)) for n in near],
            destination,
            router,
        )
        top = ranked[:cap]
        if len(near) < fetch or _nobody_left_out_is_nearer(near[-1].hav, top, cap, router):
            by_pk = {n.pk: n for n in near}
            return [_recommendation(by_pk[row[3]].unit, row) for row in top]
    free = Unit.objects.filter(
        status__in=UNIT_FREE_STATUSES, current_incident__isnull=True, kind=kind
    )
    rows = list(
        free.order_by("pk").values_list(
            "pk",
            "callsign",
            "lat",
            "lon",
            "position_at",
            "staging_point__lat",
            "staging_point__lon",
        )
    )
    top = _rank([(row[0], row[1], _origin(*row[2:], now=now)) for row in rows], destination, router)
    top = top[:cap]
    units = Unit.objects.select_related("staging_point").in_bulk([r[3] for r in top])
    return [_recommendation(units[row[3]], row) for row in top]


class _Near:
    """A row of _nearest_free: what the ranking reads, and the model instances built only for
    the units listed."""

    __slots__ = ("_build", "_raw", "_unit", "callsign", "hav", "origin_columns", "pk")

    def __init__(
        self,
        raw: tuple[Any, ...],
        build: Callable[[tuple[Any, ...]], Unit],
        pk: int,
        callsign: str,
        origin_columns: tuple[Any, ...],
    ) -> None:
        self.pk, self.callsign, self.origin_columns = pk, callsign, origin_columns
        self.hav = float(raw[-1])
        self._raw, self._build = raw, build
        self._unit: Unit | None = None

    @property
    def unit(self) -> Unit:
        unit = self._unit
        if unit is None:
            unit = self._unit = self._build(self._raw)
        return unit


_Ranked = tuple[int, int, str, int, tuple[LatLon, str, int | None], Travel]


def _rank(
    candidates: list[tuple[int, str, tuple[LatLon, str, int | None]]],
    destination: LatLon,
    router: Router,
) -> list[_Ranked]:
    """(eta_s, distance_m, callsign, pk, origin, travel), best first; unreachable units dropped."""
    travels = router.travel([origin[0] for _, _, origin in candidates], destination)
    scored = [
        (round(travel.duration_s), round(travel.distance_m), callsign, pk, origin, travel)
        for (pk, callsign, origin), travel in zip(candidates, travels, strict=True)
        if travel is not None
    ]
    scored.sort(key=lambda r: (r[0], r[1], r[2]))
    return scored


def _recommendation(unit: Unit, row: _Ranked) -> Recommendation:
    eta_s, distance_m, _callsign, _pk, origin, travel = row
    return Recommendation(
        unit=unit,
        eta_s=eta_s,
        distance_m=distance_m,
        position_source=origin[1],
        position_age_s=origin[2],
        router=travel.source,
    )


def _nearest_free(
    lat0: float, lon0: float, now: datetime, limit: int, kind: str = UnitKind.PATROL
) -> list[_Near]:
    """The free units nearest the point, each with its staging point and its haversine term
    sin²(Δφ/2) + cos φ0 cos φ sin²(Δλ/2) from the nearer of the unit's fix (when it may be
    fresh) and its staging point: never more than that of the origin the ranking then uses
    (unit_origin), so a lower bound for every unit left out.

    One plain SQL query: built from ORM expressions it took 7 ms to compile, twice as long as
    PostgreSQL took to run it, and the ORM's second query for the listed units another 2 ms
    (bench/recommendation.py). SIN, COS and POWER exist on PostgreSQL and on SQLite (Django
    registers them); the smaller of two values is LEAST on PostgreSQL and MIN on SQLite.
    """
    qn = connection.ops.quote_name
    unit_fields = Unit._meta.concrete_fields
    point_fields = StagingPoint._meta.concrete_fields
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    half_degree = math.pi / 360
    cos0 = math.cos(math.radians(lat0))

    def hav(table: str) -> str:
        return (
            f"(POWER(SIN(({table}.lat - {lat0!r}) * {half_degree!r}), 2) + {cos0!r}"
            f" * COS({table}.lat * {2 * half_degree!r})"
            f" * POWER(SIN(({table}.lon - {lon0!r}) * {half_degree!r}), 2))"
        )

    # A second of slack: unit_origin truncates the fix's age to whole seconds.
    may_be_fresh = now - timedelta(seconds=settings.DISPATCH_POSITION_MAX_AGE_S + 1)
    statuses = list(UNIT_FREE_STATUSES)
    columns = [f"u.{qn(f.column)}" for f in unit_fields] + [
        f"p.{qn(f.column)}" for f in point_fields
    ]
    sql = (
        f"SELECT {', '.join(columns)},"
        f" CASE WHEN u.lat IS NOT NULL AND u.lon IS NOT NULL AND u.position_at >= %s"
        f" THEN {least}({hav('u')}, {hav('p')}) ELSE {hav('p')} END AS hav"
        f" FROM {qn(Unit._meta.db_table)} u"
        f" INNER JOIN {qn(StagingPoint._meta.db_table)} p ON p.id = u.staging_point_id"
        f" WHERE u.current_incident_id IS NULL AND u.kind = %s"
        f" AND u.status IN ({', '.join(['%s'] * len(statuses))})"
        f" ORDER BY hav, u.callsign LIMIT %s"
    )
    params = [
        connection.ops.adapt_datetimefield_value(may_be_fresh),
        str(kind),
        *statuses,
        limit,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    n = len(unit_fields)
    unit_names = [f.attname for f in unit_fields]
    point_names = [f.attname for f in point_fields]
    # The database's values as the ORM gives them (SQLite returns datetimes as text).
    converters = [
        (i, fns)
        for i, col in enumerate(
            [f.get_col(Unit._meta.db_table) for f in unit_fields]
            + [f.get_col(StagingPoint._meta.db_table) for f in point_fields]
        )
        if (
            fns := [
                *connection.ops.get_db_converters(col),
                *col.get_db_converters(connection),
            ]
        )
    ]

    def convert(i: int, value: Any) -> Any:
        for fn in converter_of.get(i, ()):
            value = fn(value, None, connection)
        return value

    def instance(raw: tuple[Any, ...]) -> Unit:
        values = [convert(i, v) for i, v in enumerate(raw[:-1])]
        unit = Unit.from_db(connection.alias, unit_names, values[:n])
        unit.staging_point = StagingPoint.from_db(connection.alias, point_names, values[n:])
        return unit

    converter_of = dict(converters)
    at = {name: unit_names.index(name) for name in ("id", "callsign", "lat", "lon", "position_at")}
    sp_lat, sp_lon = n + point_names.index("lat"), n + point_names.index("lon")
    return [
        _Near(
            raw,
            instance,
            raw[at["id"]],
            raw[at["callsign"]],
            (
                raw[at["lat"]],
                raw[at["lon"]],
                convert(at["position_at"], raw[at["position_at"]]),
                raw[sp_lat],
                raw[sp_lon],
            ),
        )
        for raw in rows
    ]


def _nobody_left_out_is_nearer(
    hav: float, top: list[_Ranked], cap: int, router: StraightLineRouter
) -> bool:
    """Whether no unit beyond the fetched ones (haversine term ≥ hav) can rank in the top.

    Such a unit is at least `d` away, so its estimate is at least d × detour ÷ speed. It ranks
    strictly after the last listed unit when that estimate, rounded, is larger: certain from
    1.5 s more (Python rounds halves to even).
    """
    if len(top) < cap:
        return False  # some fetched units are unreachable: rank them all
    d = 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(max(0.0, hav))))
    d = d * (1 - 1e-9) - 0.01  # the database's and Python's floating point may differ
    return bool(d * router.detour_factor / router.speed_ms >= top[-1][5].duration_s + 1.5)


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


def _posted(path: str, user: Any, at: datetime, shift: int | None = None) -> Q:
    """A posting (personnel.Assignment, reached by `path` from Unit) of the user valid at `at`,
    on the shift running then when `shift` is given (a posting without a shift: all shifts).
    One Q: Django applies its conditions to the same posting row. `user` is a user, or a list
    of user ids (a posting of any of them)."""
    who = "person__user__in" if isinstance(user, list) else "person__user"
    q = Q(**{f"{path}__{who}": user, f"{path}__valid_from__lte": at}) & (
        Q(**{f"{path}__valid_to__isnull": True}) | Q(**{f"{path}__valid_to__gt": at})
    )
    if shift is not None:
        q &= Q(**{f"{path}__shift__isnull": True}) | Q(**{f"{path}__shift": shift})
    return q


def _crew_ways(user: Any, at: datetime, shift: int | None = None) -> list[tuple[str, Q]]:
    """The ways to crew a unit, each with the path from Unit to its posting: a patrol unit
    through a posting to its staging point (one that names no unit), any unit through a posting
    naming it (an elite squad group). `user` as for `_posted`."""
    via_point = (
        Q(kind=UnitKind.PATROL)
        & Q(staging_point__assignments__unit__isnull=True)
        & _posted("staging_point__assignments", user, at, shift)
    )
    return [
        ("staging_point__assignments", via_point),
        ("crew_postings", _posted("crew_postings", user, at, shift)),
    ]


def _crew_q(user: Any, at: datetime, shift: int | None = None) -> Q:
    """The units a user crews (any of `_crew_ways`)."""
    (_, via_point), (_, via_posting) = _crew_ways(user, at, shift)
    return via_point | via_posting


def _crew_units(user: Any, at: datetime | None = None) -> QuerySet[Unit]:
    return Unit.objects.filter(_crew_q(user, at or timezone.now()))


def unit_for_user(user: Any, *, at: datetime | None = None) -> Unit | None:
    """The unit a user crews now, or None.

    A user is crew of a unit when they hold the unit_officer or unit_auxiliary role and have an
    assignment valid now to the unit's staging point. With several units at one staging point
    the first by call sign is returned; `is_crew` answers for a given unit.
    """
    unit_id = crew_unit_ids([user], at=at).get(user.pk)
    return None if unit_id is None else Unit.objects.filter(pk=unit_id).first()


def crew_unit_ids(users: Collection[Any], *, at: datetime | None = None) -> dict[int, int]:
    """`unit_for_user` for many users at once: {user id: id of the unit}, without those who crew
    none. One query per way of crewing a unit, whatever the number of users, each led by the
    users' postings (the websocket handshakes of a reconnect storm, and `unit_for_user`). One
    query joining both ways with outer joins reads every unit: 47 ms each with 6,000 units."""
    at = at or timezone.now()
    user_ids = [u.pk for u in users if u.is_authenticated and has_role(u, *UNIT_CREW_ROLES)]
    if not user_ids:
        return {}
    first: dict[int, tuple[str, int]] = {}  # by user: (call sign, unit), the lowest call sign
    for path, q in _crew_ways(user_ids, at):
        rows = Unit.objects.filter(q).values_list(f"{path}__person__user", "callsign", "pk")
        for user_id, callsign, unit_id in rows:
            if user_id not in first or (callsign, unit_id) < first[user_id]:
                first[user_id] = (callsign, unit_id)
    return {user_id: unit_id for user_id, (_, unit_id) in first.items()}


def is_crew(user: Any, unit: Unit, *, at: datetime | None = None) -> bool:
    if not user.is_authenticated or not has_role(user, *UNIT_CREW_ROLES):
        return False
    return _crew_units(user, at).filter(pk=unit.pk).exists()


def is_crew_on_shift(user: Any, unit: Unit, *, at: datetime | None = None) -> bool:
    """Crew of the unit *and* on the shift running now: an auxiliary's posting names a shift, an
    officer's none (all shifts). Personal data (a caller's number) follows the shift: an
    auxiliary at home does not see the callers of the shift on the street."""
    if not user.is_authenticated or not has_role(user, *UNIT_CREW_ROLES):
        return False
    at = at or timezone.now()
    return Unit.objects.filter(_crew_q(user, at, shift_of(at)), pk=unit.pk).exists()


def station_ids_for_user(user: Any) -> set[int]:
    """The stations a station user acts for (StationDuty links; the station role is required)."""
    if not user.is_authenticated or not has_role(user, Role.STATION):
        return set()
    return set(StationDuty.objects.filter(user=user).values_list("station_id", flat=True))
