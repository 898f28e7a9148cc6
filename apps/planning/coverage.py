"""Coverage of historical incidents by the staging points, and placement of the points.

Travel time is the dispatch straight-line estimate (apps/units/routing_engine.py,
``StraightLineRouter``: great-circle × DISPATCH_ROAD_DETOUR_FACTOR ÷ DISPATCH_URBAN_SPEED_KMH),
deliberately not a road router even when dispatch uses OSRM: a placement study evaluates
hundreds of sites against thousands of locations.

Demand: the incidents of a period, grouped by location rounded to DEMAND_DECIMALS decimal
degrees (≈ 100 m), each group weighted by its number of incidents.

Placement is the maximal covering location problem (Church & ReVelle 1974): choose k sites among
candidates (grid-cell centres by default) to maximise the incidents reachable within the target
(5 minutes). Solved by a greedy start (each step adds the site covering the most still-uncovered
weight) improved by swap local search (1-opt exchange: replace one chosen site by one unchosen
while that covers more; best swap first, until no swap improves). Backup coverage = weight
reachable from two or more chosen sites (what still answers in time when the nearest unit is
busy); it breaks ties between swaps of equal primary coverage.

Live: ``coverage_gap`` shows which areas no free unit reaches in time right now (a staging
point whose unit is busy) and which free unit should move up to cover it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, FloatField, QuerySet
from django.db.models.functions import Round
from django.utils import timezone

from apps.common.geo import LatLon
from apps.incidents.models import Incident
from apps.units.models import UNIT_FREE_STATUSES, GridCell, StagingPoint, Unit, UnitKind
from apps.units.routing_engine import StraightLineRouter
from apps.units.selectors import unit_origin

DEMAND_DECIMALS = 3
TARGETS_S = (180, 300)
# The live coverage-gap advice weighs the grid cells by their incidents over this many days.
DEMAND_HISTORY_DAYS = 365


def _router() -> StraightLineRouter:
    return StraightLineRouter(
        detour_factor=settings.DISPATCH_ROAD_DETOUR_FACTOR,
        speed_kmh=settings.DISPATCH_URBAN_SPEED_KMH,
    )


def eta_seconds(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The dispatch estimate of the travel time between two points."""
    travel = _router().travel([LatLon(lat1, lon1)], LatLon(lat2, lon2))[0]
    assert travel is not None  # the straight-line router always answers
    return travel.duration_s


def reach_m(threshold_s: float) -> float:
    """The great-circle radius reachable within ``threshold_s`` (for the map's circles)."""
    return (
        threshold_s * settings.DISPATCH_URBAN_SPEED_KMH / 3.6 / settings.DISPATCH_ROAD_DETOUR_FACTOR
    )


@dataclass(frozen=True)
class DemandPoint:
    lat: float
    lon: float
    weight: int


@dataclass(frozen=True)
class Site:
    lat: float
    lon: float
    label: str


def demand_points(incidents: QuerySet[Any]) -> list[DemandPoint]:
    """Incidents grouped by rounded location (one query)."""
    rows = (
        incidents.order_by()
        .annotate(
            _lat=Round("lat", DEMAND_DECIMALS, output_field=FloatField()),
            _lon=Round("lon", DEMAND_DECIMALS, output_field=FloatField()),
        )
        .values("_lat", "_lon")
        .annotate(n=Count("id"))
        .order_by("_lat", "_lon")
    )
    return [DemandPoint(float(r["_lat"]), float(r["_lon"]), int(r["n"])) for r in rows]


def cover_sets(
    sites: Sequence[Site],
    demand: Sequence[DemandPoint],
    threshold_s: float | Sequence[float],
    progress: Callable[[int], None] | None = None,
) -> list[frozenset[int]]:
    """For each site, the indices of the demand points it reaches within ``threshold_s`` (one
    threshold for all, or one per demand point); ``progress(1)`` after each site."""
    router = _router()
    origins = [LatLon(d.lat, d.lon) for d in demand]
    limits = (
        [float(threshold_s)] * len(demand)
        if isinstance(threshold_s, int | float)
        else list(threshold_s)
    )
    result = []
    for site in sites:
        # Straight-line travel is symmetric: demand points as origins, the site as destination.
        travels = router.travel(origins, LatLon(site.lat, site.lon))
        result.append(
            frozenset(
                i
                for i, (t, limit) in enumerate(zip(travels, limits, strict=True))
                if t is not None and t.duration_s <= limit
            )
        )
        if progress is not None:
            progress(1)
    return result


@dataclass(frozen=True)
class Coverage:
    threshold_s: float
    total: int
    covered: int
    share: float | None
    backup: int
    backup_share: float | None


def _share(n: int, total: int) -> float | None:
    return None if total <= 0 else round(n / total, 4)


def coverage_of(
    chosen: Sequence[frozenset[int]], weights: Sequence[int], threshold_s: float
) -> Coverage:
    counts = [0] * len(weights)
    for cover in chosen:
        for i in cover:
            counts[i] += 1
    total = sum(weights)
    covered = sum(w for w, c in zip(weights, counts, strict=True) if c >= 1)
    backup = sum(w for w, c in zip(weights, counts, strict=True) if c >= 2)
    return Coverage(
        threshold_s, total, covered, _share(covered, total), backup, _share(backup, total)
    )


def mclp(weights: Sequence[int], covers: Sequence[frozenset[int]], k: int) -> list[int]:
    """Indices of k candidates maximising covered weight: greedy, then best-swap local search.

    Ties (equal primary gain) go to the higher backup coverage, then to the lower index.
    """
    k = min(k, len(covers))
    counts = [0] * len(weights)
    chosen: list[int] = []

    def add(j: int) -> None:
        chosen.append(j)
        for i in covers[j]:
            counts[i] += 1

    def remove(j: int) -> None:
        chosen.remove(j)
        for i in covers[j]:
            counts[i] -= 1

    for _ in range(k):
        best, best_key = -1, (-1, -1)
        for j in range(len(covers)):
            if j in chosen:
                continue
            gain = sum(weights[i] for i in covers[j] if counts[i] == 0)
            backup_gain = sum(weights[i] for i in covers[j] if counts[i] == 1)
            if (gain, backup_gain) > best_key:
                best, best_key = j, (gain, backup_gain)
        add(best)

    def objective() -> tuple[int, int]:
        primary = sum(w for w, c in zip(weights, counts, strict=True) if c >= 1)
        backup = sum(w for w, c in zip(weights, counts, strict=True) if c >= 2)
        return primary, backup

    def with_site(j: int, base: tuple[int, int]) -> tuple[int, int]:
        # Adding j: points at count 0 become covered, points at count 1 become backed up.
        primary = sum(weights[i] for i in covers[j] if counts[i] == 0)
        backup = sum(weights[i] for i in covers[j] if counts[i] == 1)
        return base[0] + primary, base[1] + backup

    current = objective()
    while True:
        best_swap: tuple[int, int] | None = None
        best_value = current
        for out in list(chosen):
            remove(out)
            without = (
                current[0] - sum(weights[i] for i in covers[out] if counts[i] == 0),
                current[1] - sum(weights[i] for i in covers[out] if counts[i] == 1),
            )
            for j in range(len(covers)):
                if j in chosen or j == out:
                    continue
                value = with_site(j, without)
                if value > best_value:
                    best_swap, best_value = (out, j), value
            add(out)
        if best_swap is None:
            break
        remove(best_swap[0])
        add(best_swap[1])
        current = best_value
    return sorted(chosen)


@dataclass(frozen=True)
class PointReach:
    code: str
    name: str
    lat: float
    lon: float
    reach_m: float
    covered: int


@dataclass(frozen=True)
class CoverageReport:
    incidents: int
    demand_points: int
    coverage: dict[str, Coverage]
    points: list[PointReach]
    uncovered: list[DemandPoint]
    proposal: list[Site] | None
    proposal_coverage: Coverage | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def candidate_sites() -> list[Site]:
    """Grid-cell centres."""
    return [
        Site((c.min_lat + c.max_lat) / 2, (c.min_lon + c.max_lon) / 2, c.code)
        for c in GridCell.objects.order_by("row", "col")
    ]


def staging_sites() -> list[Site]:
    return [Site(p.lat, p.lon, p.code) for p in StagingPoint.objects.order_by("code")]


def coverage_report(
    incidents: QuerySet[Any],
    *,
    propose: int | None = None,
    target_s: float = 300,
    candidates: Sequence[Site] | None = None,
    progress: Callable[[int], None] | None = None,
) -> CoverageReport:
    """Coverage of the incidents by the current staging points at 3 and 5 minutes (and at
    ``target_s``), each point's reach, the uncovered locations, and optionally a proposal of
    ``propose`` sites maximising coverage within ``target_s``."""
    demand = demand_points(incidents)
    weights = [d.weight for d in demand]
    points = list(StagingPoint.objects.order_by("code"))
    sites = [Site(p.lat, p.lon, p.code) for p in points]
    result: dict[str, Coverage] = {}
    for threshold in sorted({*TARGETS_S, target_s}):
        result[f"{int(threshold)}s"] = coverage_of(
            cover_sets(sites, demand, threshold), weights, threshold
        )
    target_covers = cover_sets(sites, demand, target_s)
    covered_any = set().union(*target_covers) if target_covers else set()
    reach = [
        PointReach(
            p.code,
            p.name,
            p.lat,
            p.lon,
            round(reach_m(target_s), 1),
            sum(weights[i] for i in cover),
        )
        for p, cover in zip(points, target_covers, strict=True)
    ]
    proposal = None
    proposal_cov = None
    if propose:
        cands = list(candidates) if candidates is not None else candidate_sites()
        cand_covers = cover_sets(cands, demand, target_s, progress)
        picked = mclp(weights, cand_covers, propose)
        proposal = [cands[j] for j in picked]
        proposal_cov = coverage_of([cand_covers[j] for j in picked], weights, target_s)
    return CoverageReport(
        incidents=sum(weights),
        demand_points=len(demand),
        coverage=result,
        points=reach,
        uncovered=[d for i, d in enumerate(demand) if i not in covered_any],
        proposal=proposal,
        proposal_coverage=proposal_cov,
    )


def period_incidents(start: datetime, end: datetime) -> QuerySet[Any]:
    """Incidents received in [start, end) (cancelled calls included: they are demand too)."""

    return Incident.objects.filter(received_at__gte=start, received_at__lt=end)


# --- Live coverage gap and move-up ---------------------------------------------------------


@dataclass(frozen=True)
class MoveUp:
    """Send ``callsign`` (now free, based at ``from_point``) to stand at ``to_point``."""

    to_point: str
    unit_id: int
    callsign: str
    from_point: str
    eta_s: float
    # Incidents (history weight) covered in time after the move minus before.
    net_gain: int


@dataclass(frozen=True)
class CoverageGap:
    target_s: float
    demand: int
    covered: int
    share: float | None
    uncovered_points: list[str]
    moves: list[MoveUp]
    covered_after_moves: int
    share_after_moves: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cell_demand(since: datetime) -> tuple[list[GridCell], list[int]]:
    """Grid cells and their incident counts since ``since`` (one weight per cell, at least 1
    so that a cell without history still counts)."""

    counts = dict(
        Incident.objects.filter(received_at__gte=since, grid_cell__isnull=False)
        .order_by()
        .values_list("grid_cell")
        .annotate(n=Count("id"))
        .values_list("grid_cell", "n")
    )
    cells = list(GridCell.objects.order_by("row", "col"))
    return cells, [int(counts.get(c.pk, 0)) + 1 for c in cells]


def coverage_gap(
    *, now: datetime | None = None, history_days: int = DEMAND_HISTORY_DAYS, target_s: float = 300
) -> CoverageGap:
    """Which areas no free unit reaches in time right now, and which free units to move up.

    Demand: the grid cells weighted by their incidents over ``history_days``. A free unit
    reaches from where dispatch would rank it (fresh position, else its staging point). For each
    staging point left without a free unit (heaviest area first), the free unit whose move to
    that point adds the most covered demand overall (what it leaves behind counted) is
    suggested, if the move gains anything; ties go to the nearer unit.
    """
    now = now or timezone.now()
    cells, weights = _cell_demand(now - timedelta(days=history_days))
    demand = [
        DemandPoint((c.min_lat + c.max_lat) / 2, (c.min_lon + c.max_lon) / 2, w)
        for c, w in zip(cells, weights, strict=True)
    ]
    free = list(
        Unit.objects.select_related("staging_point")
        # The patrol units cover the grid; the elite squad is sent, not placed.
        .filter(status__in=UNIT_FREE_STATUSES, current_incident__isnull=True, kind=UnitKind.PATROL)
        .order_by("callsign")
    )
    origins = [unit_origin(u, now)[0] for u in free]
    unit_covers = cover_sets([Site(o.lat, o.lon, "") for o in origins], demand, target_s)
    free_points = {u.staging_point_id for u in free}
    points = list(StagingPoint.objects.order_by("code"))
    uncovered = [p for p in points if p.pk not in free_points]
    area_weight = {p.pk: 0 for p in points}
    for cell, w in zip(cells, weights, strict=True):
        area_weight[cell.staging_point_id] = area_weight.get(cell.staging_point_id, 0) + w
    uncovered.sort(key=lambda p: (-area_weight.get(p.pk, 0), p.code))
    point_covers = cover_sets([Site(p.lat, p.lon, p.code) for p in uncovered], demand, target_s)

    def covered_weight(covers: Sequence[frozenset[int]]) -> int:
        union: set[int] = set().union(*covers) if covers else set()
        return sum(weights[i] for i in union)

    before = covered_weight(unit_covers)
    current = list(unit_covers)
    moved: set[int] = set()
    moves: list[MoveUp] = []
    router = _router()
    for point, cover in zip(uncovered, point_covers, strict=True):
        base = covered_weight(current)
        best: tuple[int, float, int] | None = None
        for idx in range(len(free)):
            if idx in moved:
                continue
            trial = [*current[:idx], cover, *current[idx + 1 :]]
            gain = covered_weight(trial) - base
            travel = router.travel([origins[idx]], LatLon(point.lat, point.lon))[0]
            eta = travel.duration_s if travel is not None else float("inf")
            if gain > 0 and (best is None or (gain, -eta) > (best[0], -best[1])):
                best = (gain, eta, idx)
        if best is None:
            continue
        gain, eta, idx = best
        unit = free[idx]
        current[idx] = cover
        moved.add(idx)
        moves.append(
            MoveUp(point.code, unit.pk, unit.callsign, unit.staging_point.code, round(eta), gain)
        )
    after = covered_weight(current)
    total = sum(weights)
    return CoverageGap(
        target_s=target_s,
        demand=total,
        covered=before,
        share=_share(before, total),
        uncovered_points=[p.code for p in uncovered],
        moves=moves,
        covered_after_moves=after,
        share_after_moves=_share(after, total),
    )


# --- Placement against the whole response (the simulation's proposal) --------------------------

# A priority-zone call counts this many times in the placement objective.
PRIORITY_ZONE_WEIGHT = 2


@dataclass(frozen=True)
class ZonedDemand(DemandPoint):
    """Calls at one place, and whether the place is in a priority zone (3-minute target)."""

    zone: bool


@dataclass(frozen=True)
class PlacementOption:
    """``k`` sites placed against the whole response, and the calls they reach in time.

    ``travel_budget_*`` is what is left of the target for driving once the call was taken,
    dispatched, acknowledged and the unit turned out (``overhead_s``)."""

    k: int
    sites: list[Site]
    calls: int
    zone_calls: int
    zone_in_time: int
    other_calls: int
    other_in_time: int
    in_time_share: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def zoned_demand(
    points: Sequence[tuple[float, float]], cells: Sequence[GridCell]
) -> list[ZonedDemand]:
    """Call locations grouped by rounded location (≈ 100 m), each with its cell's priority zone
    (a point outside every cell is not in a zone)."""
    counts: dict[tuple[float, float], int] = {}
    for lat, lon in points:
        key = (round(lat, DEMAND_DECIMALS), round(lon, DEMAND_DECIMALS))
        counts[key] = counts.get(key, 0) + 1
    out = []
    for (lat, lon), n in sorted(counts.items()):
        zone = any(
            c.priority_zone and c.min_lat <= lat < c.max_lat and c.min_lon <= lon < c.max_lon
            for c in cells
        )
        out.append(ZonedDemand(lat, lon, n, zone))
    return out


def _zoned_covers(
    sites: Sequence[Site], demand: Sequence[ZonedDemand], *, overhead_s: float
) -> list[frozenset[int]]:
    """For each site, the demand points it reaches within their own target (3 minutes in a
    priority zone, 5 elsewhere) once ``overhead_s`` of the target is spent before driving."""
    short = float(settings.TARGET_ARRIVAL_PRIORITY_ZONE_S) - overhead_s
    full = float(settings.TARGET_ARRIVAL_S) - overhead_s
    return cover_sets(sites, demand, [short if d.zone else full for d in demand])


def placement_options(
    demand: Sequence[ZonedDemand],
    *,
    ks: Sequence[int],
    overhead_s: float,
    candidates: Sequence[Site] | None = None,
    zone_weight: int = PRIORITY_ZONE_WEIGHT,
) -> list[PlacementOption]:
    """For each number of units in ``ks``: the sites (MCLP over the candidates, a priority-zone
    call weighing ``zone_weight``) that reach the most calls within their target counted from
    the call, and how many they reach — the trade-off between units and calls on time."""
    cands = list(candidates) if candidates is not None else candidate_sites()
    covers = _zoned_covers(cands, demand, overhead_s=overhead_s)
    weights = [d.weight * (zone_weight if d.zone else 1) for d in demand]
    zone_calls = sum(d.weight for d in demand if d.zone)
    other_calls = sum(d.weight for d in demand if not d.zone)
    options = []
    for k in ks:
        picked = mclp(weights, covers, k)
        reached: set[int] = set().union(*(covers[j] for j in picked)) if picked else set()
        zone_in = sum(demand[i].weight for i in reached if demand[i].zone)
        other_in = sum(demand[i].weight for i in reached if not demand[i].zone)
        options.append(
            PlacementOption(
                k=k,
                sites=[cands[j] for j in picked],
                calls=zone_calls + other_calls,
                zone_calls=zone_calls,
                zone_in_time=zone_in,
                other_calls=other_calls,
                other_in_time=other_in,
                in_time_share=_share(zone_in + other_in, zone_calls + other_calls),
            )
        )
    return options


def placement_apply(sites: Sequence[Site]) -> None:
    """Move the staging points to ``sites`` (each point to the site nearest it, greedily, so the
    fewest units move far) and give every grid cell to the nearest point. For a what-if inside a
    transaction that is rolled back: it rewrites the city's plan."""
    points = list(StagingPoint.objects.order_by("code"))
    free = list(sites)
    router = _router()
    moved: list[StagingPoint] = []
    pairs = sorted(
        (
            (router.travel([LatLon(p.lat, p.lon)], LatLon(s.lat, s.lon))[0], i, j)
            for i, p in enumerate(points)
            for j, s in enumerate(free)
        ),
        key=lambda t: (t[0].duration_s if t[0] is not None else float("inf"), t[1], t[2]),
    )
    used_points: set[int] = set()
    used_sites: set[int] = set()
    for _travel, i, j in pairs:
        if i in used_points or j in used_sites:
            continue
        used_points.add(i)
        used_sites.add(j)
        points[i].lat, points[i].lon = free[j].lat, free[j].lon
        moved.append(points[i])
    StagingPoint.objects.bulk_update(moved, ["lat", "lon"])
    cells = list(GridCell.objects.all())
    for cell in cells:
        centre = LatLon((cell.min_lat + cell.max_lat) / 2, (cell.min_lon + cell.max_lon) / 2)
        travels = router.travel([LatLon(p.lat, p.lon) for p in moved], centre)
        best = min(
            range(len(moved)),
            key=lambda n: travels[n].duration_s if travels[n] is not None else float("inf"),  # type: ignore[union-attr]
        )
        cell.staging_point_id = moved[best].pk
    GridCell.objects.bulk_update(cells, ["staging_point"])
