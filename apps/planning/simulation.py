"""A what-if simulation: a synthetic stream of calls through the real dispatch services.

``simulate(days=61, calls=5046, seed=…)`` draws calls with the model's category mix
(刑事 327, 治安 459, 纠纷 1286, 救助 2239, 其它 735 of 5046), a time-of-day profile and locations
clustered around hot spots (grid-cell centres drawn with the seed), then runs a discrete-event
loop in simulated time: intake → dispatch of the nearest free unit (the real ranking) → acknowledge
→ en route → arrival after the estimated travel time (the router's estimate × a random factor) →
on scene → resolved, or transferred with the model's per-category transfer share and received by
the station later. Calls finding no free unit wait in a queue for the next unit freed.

Every step is the real service (incident_create, incident_dispatch, …) with the clock
(``django.utils.timezone.now``) set to the simulated time, so the statistics are computed by the
statistics service from what the services wrote. By default everything runs in one transaction
that is rolled back after the report (``keep=True`` commits). Simplifications: a freed unit is
ranked from its staging point (no simulated positions); nobody cancels; escalation timers do not
run. The same seed and database give the same figures.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from unittest import mock

from django.contrib.auth.models import Group, User
from django.db import transaction

from apps.common.geo import LatLon
from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.models import Category, Incident
from apps.stats.selectors import Summary, period_bounds, summary
from apps.units.models import GridCell, Station, StationDuty, Unit
from apps.units.routing_engine import get_router
from apps.units.selectors import unit_recommendations

# The model's two months: calls and transfers by category.
MODEL_MIX: dict[str, tuple[int, int]] = {
    Category.CRIMINAL: (327, 299),
    Category.PUBLIC_ORDER: (459, 412),
    Category.DISPUTE: (1286, 195),
    Category.ASSISTANCE: (2239, 131),
    Category.OTHER: (735, 51),
}
# Relative call volume by hour of day (quiet before dawn, busiest in the evening).
HOURLY_PROFILE = (3, 2, 2, 1, 1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 6, 6, 7, 7, 7, 6, 5, 4)
# Minutes on scene, (low, high) uniform, by category.
ON_SCENE_MIN: dict[str, tuple[float, float]] = {
    Category.CRIMINAL: (30, 90),
    Category.PUBLIC_ORDER: (20, 60),
    Category.DISPUTE: (20, 60),
    Category.ASSISTANCE: (10, 40),
    Category.OTHER: (10, 30),
}
HOT_SPOT_SHARE = 0.8
HOT_SPOT_SD_DEG = 0.004


@dataclass(frozen=True)
class SimulationResult:
    start: date
    end: date
    calls: int
    waited: int
    max_queue: int
    summary: Summary


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


@contextmanager
def _simulated_time(clock: _Clock) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", new=lambda: clock.now):
        yield


def _actor() -> User:
    """The simulation's user: command centre and station desk for every station."""
    user, _ = User.objects.get_or_create(username="simulation", defaults={"is_active": False})
    for role in (Role.COMMANDER, Role.STATION):
        group, _ = Group.objects.get_or_create(name=str(role))
        user.groups.add(group)
    for station in Station.objects.all():
        StationDuty.objects.get_or_create(user=user, station=station)
    return user


def _calls(
    rng: random.Random, *, days: int, calls: int, start: date, cells: list[GridCell]
) -> list[tuple[datetime, str, float, float]]:
    """(received_at, category, lat, lon), sorted by time."""
    categories = list(MODEL_MIX)
    weights = [MODEL_MIX[c][0] for c in categories]
    spots = rng.sample(cells, k=min(len(cells), max(1, len(cells) // 4)))
    min_lat = min(c.min_lat for c in cells)
    max_lat = max(c.max_lat for c in cells)
    min_lon = min(c.min_lon for c in cells)
    max_lon = max(c.max_lon for c in cells)
    day0, _ = period_bounds(start, start)
    out = []
    for _i in range(calls):
        hour = rng.choices(range(24), weights=HOURLY_PROFILE)[0]
        moment = day0 + timedelta(days=rng.randrange(days), hours=hour, seconds=rng.randrange(3600))
        if rng.random() < HOT_SPOT_SHARE:
            spot = rng.choice(spots)
            lat = rng.gauss((spot.min_lat + spot.max_lat) / 2, HOT_SPOT_SD_DEG)
            lon = rng.gauss((spot.min_lon + spot.max_lon) / 2, HOT_SPOT_SD_DEG)
        else:
            lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
        lat = min(max(lat, min_lat), max_lat - 1e-9)
        lon = min(max(lon, min_lon), max_lon - 1e-9)
        out.append((moment, rng.choices(categories, weights=weights)[0], lat, lon))
    out.sort(key=lambda c: c[0])
    return out


def simulate(
    *, days: int, calls: int, seed: int, start: date, keep: bool = False
) -> SimulationResult:
    """Run the simulation (see the module docstring) and return the statistics of the period."""
    rng = random.Random(seed)
    cells = list(GridCell.objects.order_by("row", "col"))
    if not cells or not Unit.objects.exists():
        raise ValueError("The simulation needs grid cells and units (load a city first).")
    router = get_router()
    queue: list[tuple[datetime, int, str, int]] = []
    counter = 0

    def at(moment: datetime, action: str, ref: int) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(queue, (moment, counter, action, ref))

    generated = _calls(rng, days=days, calls=calls, start=start, cells=cells)
    clock = _Clock(generated[0][0] if generated else period_bounds(start, start)[0])
    waiting: deque[int] = deque()
    waited = max_queue = 0
    with transaction.atomic(), _simulated_time(clock):
        actor = _actor()
        for k, call in enumerate(generated):
            at(call[0], "call", k)
        while queue:
            moment, _, action, ref = heapq.heappop(queue)
            clock.now = moment
            if action == "call":
                received, category, lat, lon = generated[ref]
                incident = services.incident_create(
                    category=category,
                    priority=2,
                    lat=lat,
                    lon=lon,
                    address=f"模拟 {lat:.5f},{lon:.5f}",
                    actor=actor,
                    received_at=received,
                )
                at(moment + timedelta(seconds=rng.uniform(15, 75)), "dispatch", incident.pk)
                continue
            incident = Incident.objects.select_related("unit__staging_point").get(pk=ref)
            if action == "dispatch":
                best = unit_recommendations(lat=incident.lat, lon=incident.lon, now=moment, limit=1)
                if not best:
                    waiting.append(incident.pk)
                    waited += 1
                    max_queue = max(max_queue, len(waiting))
                    continue
                services.incident_dispatch(incident=incident, unit=best[0].unit, actor=actor)
                # Most crews accept within the minute; about one in ten is late.
                delay = rng.uniform(5, 55) if rng.random() < 0.9 else rng.uniform(60, 150)
                at(moment + timedelta(seconds=delay), "acknowledge", ref)
            elif action == "acknowledge":
                services.incident_acknowledge(incident=incident, actor=actor)
                at(moment + timedelta(seconds=rng.uniform(5, 30)), "en_route", ref)
            elif action == "en_route":
                services.incident_en_route(incident=incident, actor=actor)
                assert incident.unit is not None
                sp = incident.unit.staging_point
                travel = router.travel([LatLon(sp.lat, sp.lon)], LatLon(incident.lat, incident.lon))
                eta = travel[0].duration_s if travel[0] is not None else 300.0
                at(moment + timedelta(seconds=eta * rng.uniform(0.9, 1.4) + 15), "arrive", ref)
            elif action == "arrive":
                services.incident_arrive(incident=incident, actor=actor)
                low, high = ON_SCENE_MIN[incident.category]
                at(moment + timedelta(minutes=rng.uniform(low, high)), "close", ref)
            elif action == "close":
                total, transferred = MODEL_MIX[incident.category]
                if rng.random() < transferred / total:
                    services.incident_transfer(
                        incident=incident,
                        reason="模拟移交",
                        actor=actor,
                        station=incident.station,
                    )
                    at(moment + timedelta(minutes=rng.uniform(10, 60)), "receive", ref)
                else:
                    services.incident_resolve(incident=incident, summary="模拟处结", actor=actor)
                if waiting:
                    at(moment, "dispatch", waiting.popleft())
            elif action == "receive":
                services.incident_receive_transfer(incident=incident, actor=actor)
        end = start + timedelta(days=days - 1)
        result = SimulationResult(
            start=start,
            end=end,
            calls=len(generated),
            waited=waited,
            max_queue=max_queue,
            summary=summary(start=start, end=end, now=clock.now),
        )
        if not keep:
            transaction.set_rollback(True)
    return result


def describe(result: SimulationResult) -> dict[str, Any]:
    return {
        "calls": result.calls,
        "waited_for_a_unit": result.waited,
        "max_queue": result.max_queue,
        "summary": result.summary.to_dict(),
    }
