"""Two months of the demo city's past: closed incidents with the model's load and mix.

The model's two months (5,046 calls; calls and transfers by category in
``apps.planning.simulation.MODEL_MIX``) are drawn again for the 61 days up to yesterday
(Asia/Shanghai), day by day:

- calls per day: the model's mean, a little busier at the weekend, with some noise; the hour of
  each call from ``HOURLY_PROFILE`` (quiet before dawn, busiest in the evening);
- the category from the model's mix, and a transfer to the station with the category's share;
- the place: most calls around the city's hot spots (markets, hospitals, schools, communities,
  landmarks of the gazetteer and the staging points themselves), the rest anywhere in the urban
  area; the address names the nearest of them;
- the unit: the patrol unit of the nearest staging point (its crew of six answers more than one
  call at a time);
- the times: dispatch 15–75 s after the call; acknowledged mostly within the minute, about one
  in twelve later; en route a few seconds after; travel from the unit's staging point at the
  dispatch estimate's urban speed and detour, with noise (so most arrive within the 3/5-minute
  targets and some do not); 10–90 minutes on scene, by category.

Each day is drawn from its own seeded generator (``SEED`` and the date), so a day's calls are the
same whichever window it falls in and on whatever machine: loading again on a later day adds the
new days and leaves the others as they are. The rows go through the historical importer
(``apps.stats.importer.import_incidents``: bulk writes, numbers already present skipped), then
the statistics of the days written are rolled up. Every figure shown is computed from these
incidents by the statistics service; nothing here is a figure.
"""

from __future__ import annotations

import csv
import io
import math
import random
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.common.geo import haversine_m
from apps.common.progress import Progress
from apps.incidents.models import Incident
from apps.planning.simulation import HOURLY_PROFILE, MODEL_MIX, ON_SCENE_MIN
from apps.stats.importer import import_incidents
from apps.stats.models import StatsDay
from apps.stats.selectors import day_bounds
from apps.stats.services import stats_rollup_day

from .gazetteer import SPOTS, StagingPointLike

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORY_DAYS = 61
MODEL_CALLS = sum(calls for calls, _transferred in MODEL_MIX.values())  # 5,046 in 61 days
# The demo's own numbers: never those of a live incident (110-YYYYMMDD-NNNN), so a day that
# already has live incidents keeps them and gets its history beside them.
NUMBER_PREFIX = "DEMO"
# Rows per importer call (one progress step; the importer writes each in one transaction).
CHUNK = 1000

# Monday … Sunday, relative to the mean day (a week sums to 7).
WEEKDAY_FACTOR = (0.96, 0.94, 0.95, 0.97, 1.04, 1.10, 1.04)
DAY_NOISE_SD = 0.06
# Most calls come from around a hot spot; the others from anywhere in the urban area.
HOT_SPOT_SHARE = 0.85
HOT_SPOT_SD_DEG = 0.0025  # about 280 m
# Relative weight of a hot spot by what it is (the gazetteer's place codes start with these).
SPOT_WEIGHT = {"mkt": 5.0, "mall": 5.0, "lm": 3.0, "com": 3.0, "hosp": 2.5, "sch": 2.0}
STAGING_POINT_WEIGHT = 4.0
# Seconds.
DISPATCH_AFTER_S = (15.0, 75.0)
ACKNOWLEDGE_S = (5.0, 55.0)
LATE_ACKNOWLEDGE_SHARE = 0.08
LATE_ACKNOWLEDGE_MEAN_EXTRA_S = 40.0
EN_ROUTE_AFTER_ACK_S = (3.0, 20.0)
PARKING_S = 15.0  # from the car to the caller
TRAVEL_NOISE_SD = 0.22  # lognormal factor on the estimated travel time


@dataclass(frozen=True)
class Area:
    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True)
class HistoricalCall:
    number: str
    category: str
    lat: float
    lon: float
    address: str
    unit: str  # call sign
    received_at: datetime
    dispatched_at: datetime
    acknowledged_at: datetime
    arrived_at: datetime
    closed_at: datetime
    transferred: bool


@dataclass(frozen=True)
class _Spot:
    lat: float
    lon: float
    weight: float
    address: str


def history_days(today: date, days: int = HISTORY_DAYS) -> list[date]:
    """The ``days`` Asia/Shanghai dates before ``today``, oldest first."""
    return [today - timedelta(days=back) for back in range(days, 0, -1)]


def _spots(points: Sequence[StagingPointLike]) -> list[_Spot]:
    spots = [
        _Spot(s.lat, s.lon, SPOT_WEIGHT.get(s.code.split("-")[0], 1.0), f"{s.address}{s.name}")
        for s in SPOTS
    ]
    spots += [_Spot(p.lat, p.lon, STAGING_POINT_WEIGHT, p.address) for p in points]
    return spots


def _nearest_address(spots: Sequence[_Spot], lat: float, lon: float) -> str:
    # Degrees, scaled for the latitude: enough to name the nearest landmark.
    scale = math.cos(math.radians(lat)) ** 2
    spot = min(spots, key=lambda s: (s.lat - lat) ** 2 + scale * (s.lon - lon) ** 2)
    return f"{spot.address}附近"  # data, in the city's language (as the gazetteer)


def _travel_s(rng: random.Random, metres: float) -> float:
    """The dispatch estimate (straight line × detour ÷ urban speed) with noise."""
    estimate = (
        metres * settings.DISPATCH_ROAD_DETOUR_FACTOR / (settings.DISPATCH_URBAN_SPEED_KMH / 3.6)
    )
    return estimate * rng.lognormvariate(0.0, TRAVEL_NOISE_SD) + PARKING_S


@dataclass
class _Generator:
    """The calls of one day (see the module docstring)."""

    points: Sequence[StagingPointLike]  # in the order of their units' call signs
    callsigns: Sequence[str]
    area: Area
    seed: int
    mean_per_day: float
    spots: list[_Spot] = field(init=False)
    categories: list[str] = field(init=False)
    # Cumulative weights, summed once (rng.choices would sum them on every draw).
    category_cum: list[int] = field(init=False)
    hour_cum: list[int] = field(init=False)
    spot_cum: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.spots = _spots(self.points)
        self.categories = list(MODEL_MIX)
        self.category_cum = list(accumulate(MODEL_MIX[c][0] for c in self.categories))
        self.hour_cum = list(accumulate(HOURLY_PROFILE))
        self.spot_cum = list(accumulate(s.weight for s in self.spots))

    def _location(self, rng: random.Random) -> tuple[float, float]:
        a = self.area
        if rng.random() < HOT_SPOT_SHARE:
            spot = rng.choices(self.spots, cum_weights=self.spot_cum)[0]
            lat = rng.gauss(spot.lat, HOT_SPOT_SD_DEG)
            lon = rng.gauss(spot.lon, HOT_SPOT_SD_DEG)
        else:
            lat, lon = rng.uniform(a.south, a.north), rng.uniform(a.west, a.east)
        # Inside the urban area (so inside a grid cell and a jurisdiction), 6 decimals.
        lat = min(max(lat, a.south + 1e-5), a.north - 1e-5)
        lon = min(max(lon, a.west + 1e-5), a.east - 1e-5)
        return round(lat, 6), round(lon, 6)

    def day(self, day: date) -> list[HistoricalCall]:
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        expected = self.mean_per_day * WEEKDAY_FACTOR[day.weekday()]
        count = max(0, round(expected * rng.gauss(1.0, DAY_NOISE_SD)))
        midnight = datetime.combine(day, time.min, tzinfo=SHANGHAI)
        moments = sorted(
            midnight
            + timedelta(
                hours=rng.choices(range(24), cum_weights=self.hour_cum)[0],
                seconds=rng.randrange(3600),
            )
            for _ in range(count)
        )
        calls: list[HistoricalCall] = []
        for n, received in enumerate(moments, start=1):
            category = rng.choices(self.categories, cum_weights=self.category_cum)[0]
            total, transferred = MODEL_MIX[category]
            lat, lon = self._location(rng)
            dispatched = received + timedelta(seconds=round(rng.uniform(*DISPATCH_AFTER_S)))
            # The unit of the nearest staging point (its crew of six answers more than one call
            # at a time: the car is not the only way there).
            distances = [haversine_m(lat, lon, p.lat, p.lon) for p in self.points]
            index = distances.index(min(distances))
            ack_s = rng.uniform(*ACKNOWLEDGE_S)
            if rng.random() < LATE_ACKNOWLEDGE_SHARE:
                ack_s = 60.0 + rng.expovariate(1.0 / LATE_ACKNOWLEDGE_MEAN_EXTRA_S)
            acknowledged = dispatched + timedelta(seconds=round(ack_s))
            travel_s = rng.uniform(*EN_ROUTE_AFTER_ACK_S) + _travel_s(rng, distances[index])
            arrived = acknowledged + timedelta(seconds=round(travel_s))
            low, high = ON_SCENE_MIN[category]
            closed = arrived + timedelta(seconds=round(rng.uniform(low, high) * 60))
            calls.append(
                HistoricalCall(
                    number=f"{NUMBER_PREFIX}-{day:%Y%m%d}-{n:04d}",
                    category=category,
                    lat=lat,
                    lon=lon,
                    address=_nearest_address(self.spots, lat, lon),
                    unit=self.callsigns[index],
                    received_at=received,
                    dispatched_at=dispatched,
                    acknowledged_at=acknowledged,
                    arrived_at=arrived,
                    closed_at=closed,
                    transferred=rng.random() < transferred / total,
                )
            )
        return calls


def history_calls(
    *,
    days: Iterable[date],
    points: Sequence[StagingPointLike],
    callsigns: Sequence[str],
    area: Area,
    seed: int,
    calls_per_day: float = MODEL_CALLS / HISTORY_DAYS,
) -> Iterator[HistoricalCall]:
    """The calls of the given days, day by day, in time order within each day (no database).

    ``points`` are the staging points (lat, lon, address) and ``callsigns`` their patrol units,
    in the same order.
    """
    generator = _Generator(points, callsigns, area, seed, calls_per_day)
    for day in days:
        yield from generator.day(day)


# --- Loading ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "number",
    "received_at",
    "category",
    "lat",
    "lon",
    "address",
    "dispatched_at",
    "acknowledged_at",
    "arrived_at",
    "closed_at",
    "outcome",
    "unit",
)


def _csv(calls: Sequence[HistoricalCall]) -> io.StringIO:
    """The calls as the historical importer's CSV (its documented columns)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for c in calls:
        writer.writerow(
            (
                c.number,
                c.received_at.isoformat(),
                c.category,
                c.lat,
                c.lon,
                c.address,
                c.dispatched_at.isoformat(),
                c.acknowledged_at.isoformat(),
                c.arrived_at.isoformat(),
                c.closed_at.isoformat(),
                "transferred" if c.transferred else "resolved_on_scene",
                c.unit,
            )
        )
    out.seek(0)
    return out


@dataclass
class HistoryReport:
    generated: int = 0
    created: int = 0
    days_rolled_up: int = 0
    # The Asia/Shanghai dates written to.
    written: set[date] = field(default_factory=set)
    stopped: str = ""  # what to tell when the load stopped on request (Ctrl-C)


def _chunks(items: Sequence[HistoricalCall], size: int) -> Iterator[Sequence[HistoricalCall]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _days_to_roll_up(days: Sequence[date], written: set[date]) -> list[date]:
    """The days written to, and the days of the window whose roll-up is missing or ran before
    the day ended (an earlier load stopped before its roll-up, say)."""
    done = {
        marker.day
        for marker in StatsDay.objects.filter(day__in=list(days))
        if marker.rolled_at >= day_bounds(marker.day)[1]
    }
    return sorted(written | (set(days) - done))


def history_load(
    *,
    days: Sequence[date],
    calls: Iterable[HistoricalCall],
    stream: Any = None,
    quiet: bool = True,
) -> HistoryReport:
    """Write the calls of ``days`` that are not there yet through the importer, then roll up
    the statistics of those days. Idempotent: calls whose number exists are left out (one
    query); a day already rolled up after it ended, and not written to, is not rolled up again.

    Shows progress on ``stream`` (stderr by default) unless ``quiet``. Ctrl-C stops after the
    batch in flight: what was written stays, and loading again writes the rest and rolls up.
    """
    stream = stream if stream is not None else sys.stderr
    wanted = list(calls)
    report = HistoryReport(generated=len(wanted))
    present = set()
    if wanted:
        lo, hi = day_bounds(min(days))[0], day_bounds(max(days))[1]
        present = set(
            Incident.objects.filter(
                number__startswith=f"{NUMBER_PREFIX}-", received_at__gte=lo, received_at__lt=hi
            ).values_list("number", flat=True)
        )
    todo = [c for c in wanted if c.number not in present]
    written = report.written
    if todo:
        with Progress(
            stream, total=len(todo), label=_("Demo history"), unit=_("incidents"), quiet=quiet
        ) as progress:
            for chunk in _chunks(todo, CHUNK):
                imported = import_incidents(_csv(chunk), batch_size=CHUNK)
                if imported.rejected_rows:
                    # The generator writes only what the importer accepts: a rejection is a bug.
                    raise ValueError(
                        f"the importer rejected {imported.rejected_rows} demo incidents: "
                        f"{imported.rejects[:3]}"
                    )
                report.created += imported.imported
                written |= imported.days
                progress.update(len(chunk))
                if progress.stop_requested:
                    report.stopped = progress.stopped_note()
                    return report
    roll = _days_to_roll_up(days, written)
    if roll:
        with Progress(
            stream, total=len(roll), label=_("Daily statistics"), unit=_("days"), quiet=quiet
        ) as progress:
            for day in roll:
                stats_rollup_day(day=day)
                report.days_rolled_up += 1
                progress.update()
                if progress.stop_requested:
                    report.stopped = progress.stopped_note()
                    break
    return report


def local_today() -> date:
    return timezone.localtime(timezone.now(), SHANGHAI).date()
