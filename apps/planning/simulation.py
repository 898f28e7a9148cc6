"""A what-if simulation: a synthetic stream of calls through the real dispatch services.

``simulate(days=61, calls=5046, seed=…)`` draws calls with the model's category mix
(刑事 327, 治安 459, 纠纷 1286, 救助 2239, 其它 735 of 5046), a time-of-day profile and locations
clustered around hot spots (grid cells drawn with the seed), then runs a discrete-event loop in
simulated time through the services the live system runs:

- intake (``incident_create``) and, 15–75 s later, dispatch of the unit the live ranking puts
  first (``unit_recommendations``) — ranked from where the units are: idle units patrol their
  own grid (each drives from one random point of its staging point's cells to the next), a freed
  unit drives back from the scene, and their positions reach the ranking as fresh fixes;
- the 1-3-5 deadlines the dispatch wrote fire at their due time (``deadline_fire``: escalations and
  arrival breaches are recorded), and a missed acknowledge is followed as the live system follows
  it (``redispatch_after_silence`` when ESCALATION_REDISPATCH is on: the silent unit is taken off
  and the next free unit sent; every simulated phone counts as alive);
- the crew acknowledges (most within the minute, a tail later), turns out, drives (the router in
  use, cached per pair of ~100 m squares, × a random factor), arrives, stays on scene, and then
  resolves or transfers. Whether a call ends in a transfer is a result: a category's share that
  needs the station whatever happens (criminal cases go to the station by law) plus, for every
  minute the unit arrived later than the target, a share of calls that could no longer be
  settled on scene (a dispute that waited escalates);
- optionally (``move_up``) free units move up as the live coverage-gap advice suggests
  (``coverage_gap``) while a staging point's own unit is busy.

Calls finding no free unit wait in a queue for the next unit freed. Everything runs in one
transaction that is rolled back after the report (``keep=True`` commits); notices are neither
stored nor pushed (nobody listens) and the timeline is written in bulk, which is what makes two
months run in under a minute. The same seed and database give the same figures, and two runs with
the same seed see the same calls and the same crews (common random numbers), so a comparison
of placements differs only by the placement.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from unittest import mock

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from apps.common.errors import DomainError
from apps.common.geo import LatLon, haversine_m
from apps.common.notices import notices_silenced
from apps.common.prepared import Prepared, save_fields_many
from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.deadlines import arrival_target_s, deadline_fire
from apps.incidents.models import (
    SHORT_ARRIVAL_PRIORITIES,
    Category,
    Deadline,
    DeadlineKind,
    DeadlineOutcome,
    Incident,
)
from apps.incidents.timeline import events_batched
from apps.realtime.escalation import redispatch_after_silence
from apps.stats.models import StatsDay
from apps.stats.selectors import Summary, local_today, period_bounds, summary
from apps.units.models import GridCell, StagingPoint, Station, StationDuty, Unit, UnitKind
from apps.units.routing_engine import Router, get_router
from apps.units.selectors import unit_recommendations

from .coverage import (
    DEMAND_HISTORY_DAYS,
    PlacementOption,
    coverage_gap,
    placement_apply,
    placement_options,
    zoned_demand,
)
from .sandbox import sandbox

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
# The share of a category's calls that go to the station however fast the unit came (criminal
# and public-order cases by law and procedure), a little under the model's transfer rates, which
# a prompt response reproduces; and the share of the rest lost to the station per minute late.
STATION_NEED: dict[str, float] = {
    Category.CRIMINAL: 0.90,
    Category.PUBLIC_ORDER: 0.88,
    Category.DISPUTE: 0.13,
    Category.ASSISTANCE: 0.05,
    Category.OTHER: 0.06,
}
LATE_TRANSFER_PER_MIN: dict[str, float] = {
    Category.CRIMINAL: 0.02,
    Category.PUBLIC_ORDER: 0.02,
    Category.DISPUTE: 0.04,
    Category.ASSISTANCE: 0.01,
    Category.OTHER: 0.01,
}
# Patrol: speed between the points of the grid (slower than a call's drive), and how long a unit
# stays around each point.
PATROL_SPEED_KMH = 15.0
PATROL_DWELL_MIN = (3.0, 12.0)
# Travel-time cache: positions rounded to this many decimal degrees (about 100 m).
CACHE_DECIMALS = 3


@dataclass(frozen=True)
class Assumptions:
    """What the simulation assumes (printed with its report)."""

    acknowledge_on_time_share: float = 0.9
    acknowledge_on_time_s: tuple[float, float] = (5, 55)
    acknowledge_late_s: tuple[float, float] = (60, 150)
    dispatch_s: tuple[float, float] = (15, 75)
    turnout_s: tuple[float, float] = (5, 30)
    travel_factor: tuple[float, float] = (0.9, 1.4)
    parking_s: float = 15
    patrol: bool = True
    move_up: bool = False
    redispatch: bool = True
    router: str = ""


@dataclass(frozen=True)
class Reach:
    """Calls reached (unit on scene) within 3 and 5 minutes of the call, from the call."""

    calls: int
    within_180s: int
    within_300s: int
    zone_calls: int
    zone_within_180s: int
    other_calls: int
    other_within_300s: int

    def share(self, n: int, of: int) -> float | None:
        return None if of == 0 else round(n / of, 4)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["share_180s"] = self.share(self.within_180s, self.calls)
        data["share_300s"] = self.share(self.within_300s, self.calls)
        data["zone_share_180s"] = self.share(self.zone_within_180s, self.zone_calls)
        data["other_share_300s"] = self.share(self.other_within_300s, self.other_calls)
        return data


@dataclass(frozen=True)
class SimulationResult:
    start: date
    end: date
    calls: int
    waited: int
    max_queue: int
    summary: Summary
    reach: Reach
    redispatched: int
    moves_up: int
    assumptions: Assumptions
    stopped: bool = False


@dataclass(frozen=True)
class GeneratedCall:
    at: datetime
    category: str
    lat: float
    lon: float
    # Per-call draws, made when the call is generated so that every scenario sees the same crews.
    dispatch_s: float
    acknowledge_s: float
    turnout_s: float
    travel_factor: float
    on_scene_min: float
    outcome_draw: float
    receive_min: float
    seed: int

    def acknowledge_after(self, attempt: int, a: Assumptions) -> float:
        """The crew's answer for the call's ``attempt``-th dispatch (0: the first unit sent);
        a unit sent after another fell silent answers on its own."""
        if attempt == 0:
            return self.acknowledge_s
        rng = random.Random(f"{self.seed}:{attempt}")
        on_time = rng.random() < a.acknowledge_on_time_share
        return rng.uniform(*(a.acknowledge_on_time_s if on_time else a.acknowledge_late_s))


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


@contextmanager
def _simulated_time(clock: _Clock) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", new=lambda: clock.now):
        yield


def _actor() -> User:
    """The simulation's user: command centre and station desk for every station."""
    user, _new = User.objects.get_or_create(username="simulation", defaults={"is_active": False})
    for role in (Role.COMMANDER, Role.STATION):
        group, _new = Group.objects.get_or_create(name=str(role))
        user.groups.add(group)
    for station in Station.objects.all():
        StationDuty.objects.get_or_create(user=user, station=station)
    return user


def generate_calls(
    rng: random.Random,
    *,
    days: int,
    calls: int,
    start: date,
    cells: Sequence[GridCell],
    assumptions: Assumptions,
) -> list[GeneratedCall]:
    """The calls of the period with every random draw of their handling, sorted by time."""
    categories = list(MODEL_MIX)
    weights = [MODEL_MIX[c][0] for c in categories]
    spots = rng.sample(list(cells), k=min(len(cells), max(1, len(cells) // 4)))
    min_lat = min(c.min_lat for c in cells)
    max_lat = max(c.max_lat for c in cells)
    min_lon = min(c.min_lon for c in cells)
    max_lon = max(c.max_lon for c in cells)
    day0, _end = period_bounds(start, start)
    a = assumptions
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
        category = rng.choices(categories, weights=weights)[0]
        on_time = rng.random() < a.acknowledge_on_time_share
        out.append(
            GeneratedCall(
                at=moment,
                category=category,
                lat=lat,
                lon=lon,
                dispatch_s=rng.uniform(*a.dispatch_s),
                acknowledge_s=rng.uniform(
                    *(a.acknowledge_on_time_s if on_time else a.acknowledge_late_s)
                ),
                turnout_s=rng.uniform(*a.turnout_s),
                travel_factor=rng.uniform(*a.travel_factor),
                on_scene_min=rng.uniform(*ON_SCENE_MIN[category]),
                outcome_draw=rng.random(),
                receive_min=rng.uniform(10, 60),
                seed=rng.randrange(2**31),
            )
        )
    out.sort(key=lambda c: c.at)
    return out


def transfer_probability(category: str, *, late_s: float) -> float:
    """The chance that a call ends at the station: its category's need, plus what each minute
    late beyond the arrival target loses of the rest."""
    need = STATION_NEED[category]
    lost = min(1.0, max(0.0, late_s) / 60 * LATE_TRANSFER_PER_MIN[category])
    return need + (1 - need) * lost


class _Travel:
    """The router's estimates, cached per pair of ~100 m squares."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.cache: dict[tuple[float, float, float, float], float] = {}

    def seconds(self, origin: LatLon, destination: LatLon) -> float:
        key = (
            round(origin.lat, CACHE_DECIMALS),
            round(origin.lon, CACHE_DECIMALS),
            round(destination.lat, CACHE_DECIMALS),
            round(destination.lon, CACHE_DECIMALS),
        )
        cached = self.cache.get(key)
        if cached is None:
            travel = self.router.travel([origin], destination)[0]
            cached = travel.duration_s if travel is not None else 300.0
            self.cache[key] = cached
        return cached


@dataclass
class _Leg:
    """A unit's movement: from ``a`` at ``start`` to ``b`` at ``end``, then it stays at ``b``."""

    a: LatLon
    b: LatLon
    start: datetime
    end: datetime

    def at(self, moment: datetime) -> LatLon:
        if moment >= self.end or self.end <= self.start:
            return self.b
        f = max(0.0, (moment - self.start) / (self.end - self.start))
        return LatLon(
            self.a.lat + (self.b.lat - self.a.lat) * f, self.a.lon + (self.b.lon - self.a.lon) * f
        )


@dataclass
class _Patrol:
    """Where a free unit is: patrolling its area (its staging point's cells, or the point it
    moved up to), or driving back to it."""

    unit_id: int
    home: list[GridCell]
    leg: _Leg
    rng: random.Random
    stand: LatLon | None = None  # moved up: it stands at this staging point
    busy: bool = False

    def point(self) -> LatLon:
        """A point to head for: its stand when moved up, else a random point of its cells."""
        if self.stand is not None:
            return self.stand
        cell = self.rng.choice(self.home)
        return LatLon(
            self.rng.uniform(cell.min_lat, cell.max_lat),
            self.rng.uniform(cell.min_lon, cell.max_lon),
        )

    def position(self, moment: datetime, patrol: bool) -> LatLon:
        """Its position at ``moment``, patrolling forward from its last leg."""
        while patrol and moment > self.leg.end + timedelta(minutes=PATROL_DWELL_MIN[1]):
            dwell = timedelta(minutes=self.rng.uniform(*PATROL_DWELL_MIN))
            start = self.leg.end + dwell
            target = self.point()
            metres = haversine_m(self.leg.b.lat, self.leg.b.lon, target.lat, target.lon)
            seconds = metres / (PATROL_SPEED_KMH / 3.6)
            self.leg = _Leg(self.leg.b, target, start, start + timedelta(seconds=seconds))
        return self.leg.at(moment)


def _period_clear(start: date, end: date) -> None:
    """Inside the simulation's transaction: the period's roll-ups are dropped, so that the
    statistics are computed from the simulated incidents (the real ones stay: --start must be a
    period without incidents, see simulate())."""
    StatsDay.objects.filter(day__gte=start, day__lte=end).delete()


# The deadlines a dispatch wrote for one unit (read after every dispatch).
_UNFIRED = Prepared(
    lambda incident_id, unit_id: Deadline.objects.filter(
        incident_id=incident_id, unit_id=unit_id, fired_at__isnull=True
    ).order_by("pk")
)


def default_start(days: int, today: date) -> date:
    """The first day of a simulated period that holds no real incident: ``days`` before today,
    or the day after the last incident when that is later."""
    start = today - timedelta(days=days)
    last = Incident.objects.order_by("-received_at").values_list("received_at", flat=True).first()
    if last is not None:
        start = max(start, local_today(last) + timedelta(days=1))
    return start


def simulate(
    *,
    days: int,
    calls: int,
    seed: int,
    start: date,
    keep: bool = False,
    assumptions: Assumptions | None = None,
    on_call: Callable[[int], bool] | None = None,
    prepare: Callable[[], None] | None = None,
) -> SimulationResult:
    """Run the simulation (see the module docstring) and return the statistics of the period.

    It runs in a private in-memory copy of the city (``sandbox``): the live database is read
    once, for the copy, and never written or locked, so dispatch goes on while a commander
    compares placements. ``keep=True`` runs in this database instead and commits the simulated
    incidents (for a training or test database; the period must hold no incidents).

    ``on_call(n)`` is called after each call taken (n = calls so far) and returns True to stop
    early (Ctrl-C); ``prepare()`` runs first inside the transaction (a scenario: staging points
    moved, say), so it is rolled back with the rest. Raises ValueError when there is nothing to
    simulate with, or when a period to keep already holds incidents.
    """
    a = assumptions or Assumptions()
    router = get_router()
    a = Assumptions(**{**asdict(a), "router": type(router).__name__})
    end = start + timedelta(days=days - 1)
    lo, hi = period_bounds(start, end)
    if keep and Incident.objects.filter(received_at__gte=lo, received_at__lt=hi).exists():
        raise ValueError(
            _("The period %(start)s – %(end)s already holds incidents; simulate another period.")
            % {"start": start, "end": end}
        )
    # The move-up advice weighs the cells by the incidents of the year before.
    history = (lo - timedelta(days=DEMAND_HISTORY_DAYS), lo) if a.move_up else None
    with nullcontext() if keep else sandbox(history=history):
        return _run(
            a=a,
            router=router,
            days=days,
            calls=calls,
            seed=seed,
            start=start,
            end=end,
            keep=keep,
            on_call=on_call,
            prepare=prepare,
        )


def _run(
    *,
    a: Assumptions,
    router: Router,
    days: int,
    calls: int,
    seed: int,
    start: date,
    end: date,
    keep: bool,
    on_call: Callable[[int], bool] | None,
    prepare: Callable[[], None] | None,
) -> SimulationResult:
    rng = random.Random(seed)
    lo, hi = period_bounds(start, end)
    travel = _Travel(router)
    queue: list[tuple[datetime, int, str, int, int]] = []
    counter = 0

    def at(moment: datetime, action: str, ref: int, unit_id: int = 0) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(queue, (moment, counter, action, ref, unit_id))

    waiting: deque[int] = deque()
    waited = max_queue = redispatched = moves_up = taken = 0
    stopped = False
    with transaction.atomic():
        if prepare is not None:
            prepare()
        cells = list(GridCell.objects.order_by("row", "col"))
        units = list(
            Unit.objects.filter(kind=UnitKind.PATROL)
            .select_related("staging_point")
            .order_by("callsign")
        )
        if not cells or not units:
            raise ValueError(
                _("The simulation needs grid cells and patrol units (load a city first).")
            )
        generated = generate_calls(
            rng, days=days, calls=calls, start=start, cells=cells, assumptions=a
        )
        clock = _Clock(generated[0].at if generated else lo)
        by_point: dict[int, list[GridCell]] = {}
        for cell in cells:
            by_point.setdefault(cell.staging_point_id, []).append(cell)
        points = {p.pk: p for p in StagingPoint.objects.all()}
        points_by_code = {p.code: LatLon(p.lat, p.lon) for p in points.values()}
        patrols: dict[int, _Patrol] = {}
        for unit in units:
            sp = points[unit.staging_point_id]
            here = LatLon(sp.lat, sp.lon)
            patrols[unit.pk] = _Patrol(
                unit_id=unit.pk,
                home=by_point.get(sp.pk) or cells,
                leg=_Leg(here, here, clock.now, clock.now),
                rng=random.Random(f"{seed}:{unit.callsign}"),
            )
        incident_call: dict[int, GeneratedCall] = {}
        _period_clear(start, end)

        def fixes() -> None:
            """Every free patrol unit reports where it is now (what the ranking reads): the
            unit's latest position only, one prepared UPDATE for them all (the phones' path also
            keeps a breadcrumb trail, which nothing in a simulation reads)."""
            now = clock.now
            rows = []
            for unit in units:
                p = patrols[unit.pk]
                if p.busy:
                    continue
                here = p.position(now, a.patrol)
                if not a.patrol and p.stand is None and now >= p.leg.end:
                    continue  # no fixes: ranked from its staging point
                unit.lat, unit.lon, unit.position_at = here.lat, here.lon, now
                rows.append(unit)
            save_fields_many(rows, "lat", "lon", "position_at")

        def move_up() -> None:
            nonlocal moves_up
            fixes()
            gap = coverage_gap(now=clock.now)
            for move in gap.moves:
                p = patrols.get(move.unit_id)
                if p is None or p.busy:
                    continue
                target = points_by_code[move.to_point]
                here = p.position(clock.now, a.patrol)
                seconds = travel.seconds(here, target)
                p.stand = target
                p.leg = _Leg(here, target, clock.now, clock.now + timedelta(seconds=seconds))
                moves_up += 1

        home_point = {u.pk: points_by_code[points[u.staging_point_id].code] for u in units}

        def released(unit_id: int, where: LatLon) -> None:
            """A unit free again at ``where``: it drives back to its area (to its staging point
            when units do not patrol), and whoever stood in for that area goes home."""
            p = patrols[unit_id]
            p.busy = False
            p.stand = None
            back = p.point() if a.patrol else home_point[unit_id]
            seconds = travel.seconds(where, back)
            p.leg = _Leg(where, back, clock.now, clock.now + timedelta(seconds=seconds))
            for other in patrols.values():
                if other.stand == home_point[unit_id] and not other.busy:
                    other.stand = None

        # The deadlines the dispatches wrote: id → (kind, incident).
        deadlines: dict[int, tuple[str, int]] = {}
        # (incident, unit) pairs whose crew acknowledged / arrived.
        acknowledged: set[tuple[int, int]] = set()
        reached: set[tuple[int, int]] = set()
        target_s: dict[int, int] = {}
        current_unit: dict[int, int] = {}
        arrived: dict[int, datetime] = {}
        attempts: dict[int, int] = {}

        def sent(incident: Incident, unit_id: int) -> None:
            """A unit was sent: its crew's answer and the deadlines the dispatch wrote."""
            call = incident_call[incident.pk]
            patrols[unit_id].busy = True
            current_unit[incident.pk] = unit_id
            attempt = attempts[incident.pk] = attempts.get(incident.pk, -1) + 1
            answer = clock.now + timedelta(seconds=call.acknowledge_after(attempt, a))
            at(answer, "acknowledge", incident.pk, unit_id)
            for deadline in _UNFIRED(incident.pk, unit_id):
                deadlines[deadline.pk] = (deadline.kind, incident.pk)
                at(deadline.due_at, "deadline", deadline.pk, unit_id)

        def dispatch(incident: Incident) -> bool:
            fixes()
            call = incident_call[incident.pk]
            best = unit_recommendations(lat=call.lat, lon=call.lon, now=clock.now, limit=1)
            if not best:
                return False
            services.incident_dispatch(incident=incident, unit=best[0].unit, actor=actor)
            sent(incident, best[0].unit.pk)
            if a.move_up:
                move_up()
            return True

        with _simulated_time(clock), notices_silenced(), events_batched():
            actor = _actor()
            for k, call in enumerate(generated):
                at(call.at, "call", k)
            while queue:
                moment, _n, action, ref, unit_id = heapq.heappop(queue)
                clock.now = moment
                if action == "call":
                    call = generated[ref]
                    incident = services.incident_create(
                        category=call.category,
                        priority=2,
                        lat=call.lat,
                        lon=call.lon,
                        address=f"模拟 {call.lat:.5f},{call.lon:.5f}",
                        actor=actor,
                        received_at=call.at,
                    )
                    incident_call[incident.pk] = call
                    target_s[incident.pk] = arrival_target_s(incident)
                    at(moment + timedelta(seconds=call.dispatch_s), "dispatch", incident.pk)
                    taken += 1
                    if on_call is not None and on_call(taken):
                        stopped = True
                        break
                    continue
                if action == "deadline":
                    kind, of_incident = deadlines[ref]
                    done = acknowledged if kind == DeadlineKind.ACKNOWLEDGE else reached
                    if (of_incident, unit_id) in done:
                        # Met before it was due: firing it would only record "met" (no
                        # figure counts that); left for the sweeper when the run is kept.
                        continue
                    outcome = deadline_fire(deadline_id=ref, now=moment)
                    if (
                        outcome == DeadlineOutcome.MISSED
                        and a.redispatch
                        and settings.ESCALATION_REDISPATCH
                        and kind == DeadlineKind.ACKNOWLEDGE
                    ):
                        fixes()
                        after = redispatch_after_silence(
                            incident_id=of_incident,
                            silent_unit_id=unit_id,
                            check_phones=False,
                        )
                        new_unit = after.unit_id if after is not None else None
                        if after is not None and new_unit is not None and new_unit != unit_id:
                            redispatched += 1
                            released(unit_id, patrols[unit_id].position(moment, a.patrol))
                            sent(after, new_unit)
                            if waiting:
                                at(moment, "dispatch", waiting.popleft())
                    continue
                # The services lock and read the incident themselves: only its id is passed.
                incident = Incident(pk=ref)
                call = incident_call[ref]
                scene = LatLon(call.lat, call.lon)
                if action == "dispatch":
                    if not dispatch(incident):
                        waiting.append(incident.pk)
                        waited += 1
                        max_queue = max(max_queue, len(waiting))
                    continue
                if unit_id and current_unit.get(ref) != unit_id:
                    continue  # taken off this unit (re-dispatched after silence)
                try:
                    if action == "acknowledge":
                        services.incident_acknowledge(incident=incident, actor=actor)
                        acknowledged.add((ref, unit_id))
                        at(moment + timedelta(seconds=call.turnout_s), "en_route", ref, unit_id)
                    elif action == "en_route":
                        services.incident_en_route(incident=incident, actor=actor)
                        origin = patrols[unit_id].position(moment, a.patrol)
                        seconds = travel.seconds(origin, scene)
                        drive = seconds * call.travel_factor + a.parking_s
                        at(moment + timedelta(seconds=drive), "arrive", ref, unit_id)
                    elif action == "arrive":
                        services.incident_arrive(incident=incident, actor=actor)
                        arrived[ref] = moment
                        reached.add((ref, unit_id))
                        at(moment + timedelta(minutes=call.on_scene_min), "close", ref, unit_id)
                    elif action == "close":
                        late = (arrived[ref] - call.at).total_seconds() - target_s[ref]
                        if call.outcome_draw < transfer_probability(call.category, late_s=late):
                            services.incident_transfer(
                                incident=incident,
                                reason="模拟移交",
                                actor=actor,
                            )
                            at(moment + timedelta(minutes=call.receive_min), "receive", ref)
                        else:
                            services.incident_resolve(
                                incident=incident, summary="模拟处结", actor=actor
                            )
                        released(unit_id, scene)
                        if waiting:
                            at(moment, "dispatch", waiting.popleft())
                    elif action == "receive":
                        services.incident_receive_transfer(incident=incident, actor=actor)
                except (DomainError, PermissionDenied):
                    continue  # the incident moved on meanwhile (an escalation's re-dispatch)
        result = SimulationResult(
            start=start,
            end=end,
            calls=taken,
            waited=waited,
            max_queue=max_queue,
            summary=summary(start=start, end=end, now=clock.now),
            reach=_reach(lo, hi),
            redispatched=redispatched,
            moves_up=moves_up,
            assumptions=a,
            stopped=stopped,
        )
        if not keep or stopped:
            transaction.set_rollback(True)
    return result


def _reach(lo: datetime, hi: datetime) -> Reach:
    """Calls reached within 3 and 5 minutes of the call (priority-zone calls against 3)."""
    rows = Incident.objects.filter(received_at__gte=lo, received_at__lt=hi).values_list(
        "received_at", "arrived_at", "grid_cell__priority_zone", "priority"
    )
    calls = w180 = w300 = zone = zone180 = other = other300 = 0
    short = settings.TARGET_ARRIVAL_PRIORITY_ZONE_S
    full = settings.TARGET_ARRIVAL_S
    for received, arrived, in_zone, priority in rows:
        calls += 1
        seconds = None if arrived is None else (arrived - received).total_seconds()
        is_zone = bool(in_zone) or priority in SHORT_ARRIVAL_PRIORITIES
        if seconds is not None and seconds <= short:
            w180 += 1
        if seconds is not None and seconds <= full:
            w300 += 1
        if is_zone:
            zone += 1
            zone180 += seconds is not None and seconds <= short
        else:
            other += 1
            other300 += seconds is not None and seconds <= full
    return Reach(calls, w180, w300, zone, zone180, other, other300)


def describe(result: SimulationResult) -> dict[str, Any]:
    return {
        "calls": result.calls,
        "waited_for_a_unit": result.waited,
        "max_queue": result.max_queue,
        "redispatched": result.redispatched,
        "moves_up": result.moves_up,
        "reach": result.reach.to_dict(),
        "assumptions": asdict(result.assumptions),
        "summary": result.summary.to_dict(),
    }


@dataclass(frozen=True)
class Comparison:
    """The model's load under today's staging points, under the proposed points, and under
    today's points with move-up; and the placement trade-off between units and calls on time."""

    # Today's points, the proposed points, move-up: fewer when stopped on request.
    runs: list[SimulationResult]
    options: list[PlacementOption]
    overhead_s: float

    SCENARIOS: ClassVar[tuple[str, ...]] = ("today", "proposed", "move_up")

    @property
    def today(self) -> SimulationResult:
        return self.runs[0]

    @property
    def proposed(self) -> SimulationResult | None:
        return self.runs[1] if len(self.runs) > 1 else None

    @property
    def move_up(self) -> SimulationResult | None:
        return self.runs[2] if len(self.runs) > 2 else None

    @property
    def stopped(self) -> bool:
        return len(self.runs) < len(self.SCENARIOS) or self.runs[-1].stopped


def response_overhead_s(a: Assumptions) -> float:
    """What a call spends before its unit drives, on average: dispatch, acknowledge, turnout and
    parking (the placement's travel budget is the target less this)."""
    ack = (
        a.acknowledge_on_time_share * sum(a.acknowledge_on_time_s) / 2
        + (1 - a.acknowledge_on_time_share) * sum(a.acknowledge_late_s) / 2
    )
    return sum(a.dispatch_s) / 2 + ack + sum(a.turnout_s) / 2 + a.parking_s


def compare(
    *,
    days: int,
    calls: int,
    seed: int,
    start: date,
    assumptions: Assumptions | None = None,
    ks: Sequence[int] = tuple(range(6, 13)),
    on_call: Callable[[int], bool] | None = None,
) -> Comparison:
    """Three runs with the same calls and crews (see ``simulate``), each rolled back."""
    a = assumptions or Assumptions()
    cells = list(GridCell.objects.order_by("row", "col"))
    if not cells:
        raise ValueError(_("The simulation needs grid cells and patrol units (load a city first)."))
    # The same draw as simulate()'s: its first use of the seed is generating the calls.
    generated = generate_calls(
        random.Random(seed), days=days, calls=calls, start=start, cells=cells, assumptions=a
    )
    overhead = response_overhead_s(a)
    demand = zoned_demand([(c.lat, c.lon) for c in generated], cells)
    n_units = Unit.objects.filter(kind=UnitKind.PATROL).count()
    options = placement_options(demand, ks=sorted({*ks, n_units}), overhead_s=overhead)
    proposal = next(o for o in options if o.k == n_units)
    done = 0

    def counted(n: int) -> bool:
        return on_call(done + n) if on_call is not None else False

    runs = []
    for scenario, prepare in (
        (a, None),
        (a, lambda: placement_apply(proposal.sites)),
        (Assumptions(**{**asdict(a), "move_up": True}), None),
    ):
        result = simulate(
            days=days,
            calls=calls,
            seed=seed,
            start=start,
            assumptions=scenario,
            on_call=counted,
            prepare=prepare,
        )
        runs.append(result)
        done += result.calls
        if result.stopped:
            break
    return Comparison(
        runs=runs,
        options=[o for o in options if o.k in ks],
        overhead_s=overhead,
    )
