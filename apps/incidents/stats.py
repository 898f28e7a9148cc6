"""The one statistics service: every figure the API, the reports and the assessments show.

Definitions (also in README.md, "Statistics definitions"):

- An incident belongs to the period of the Asia/Shanghai date of its ``received_at``; a period
  [start, end] is inclusive of both dates.
- ``total`` counts every call received in the period, cancelled ones included (the model's
  "接警 5046 起" counts calls); ``cancelled`` is reported beside it.
- ``transferred`` = transfer_pending + transfer_received; ``transfer_share`` = transferred ÷ total.
- ``closed`` = resolved_on_scene + transferred; ``on_scene_rate`` = resolved_on_scene ÷ closed.
- Response intervals: intake → dispatch (received_at → dispatched_at), dispatch → acknowledge,
  dispatch → arrival, arrival → close; each over the incidents that have both timestamps; median
  and 90th percentile are ``percentile_cont`` (linear interpolation between closest ranks).
- The acknowledge target (TARGET_ACKNOWLEDGE_S) and the arrival target
  (TARGET_ARRIVAL_PRIORITY_ZONE_S in a priority-zone grid cell, TARGET_ARRIVAL_S elsewhere) are
  measured from dispatch. An incident counts toward a target once its outcome is known: it has
  the later timestamp, or it was not cancelled and the target time has passed. Met = the later
  timestamp is within the target.
- Rates are fractions rounded to 4 decimals; ``None`` when the denominator is zero.
- Filters: ``station`` = the station whose jurisdiction holds the location; ``staging_point`` =
  the staging point of the incident's grid cell (the area it happened in); ``unit`` = the unit
  that handled it; ``shift`` = the shift (SHIFT_START_HOURS) of the time it was received.

Speed (the 1,000,000-incident year must answer in < 1 s): ``DailyStats`` keeps, per
(day, category, station, staging point, unit, shift), the counts above and a fixed-bucket
histogram of each response interval (one integer column per bucket, so summing a year is one
plain ``SUM`` over ~50k rows). ``stats_rollup_day`` recomputes one day in one transaction
(delete + insert, the day's ``StatsDay`` row locked), so it is idempotent; Celery beat rolls up
today and yesterday every few minutes and the last week nightly (apps/incidents/tasks.py).

``summary`` answers a period like this:
- short periods (≤ EXACT_MAX_DAYS days) or a ``grid_cell`` filter (not an aggregate key): raw
  rows only, exact percentiles (PostgreSQL: ``percentile_cont`` in SQL; SQLite: in Python);
- longer periods: counts and histograms from ``DailyStats`` for the full days already rolled up
  after they ended, raw rows (bucketed in SQL) for the other days; percentiles interpolated in
  the histogram buckets, and the answer says ``"exact": false``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
)
from django.utils import timezone

from .models import Incident, IncidentStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")

TRANSFERRED_STATUSES = (IncidentStatus.TRANSFER_PENDING, IncidentStatus.TRANSFER_RECEIVED)

# The four response intervals: name → (from field, to field).
INTERVALS: dict[str, tuple[str, str]] = {
    "intake_to_dispatch": ("received_at", "dispatched_at"),
    "dispatch_to_acknowledge": ("dispatched_at", "acknowledged_at"),
    "dispatch_to_arrival": ("dispatched_at", "arrived_at"),
    "arrival_to_close": ("arrived_at", "closed_at"),
}


def rate(numerator: int, denominator: int) -> float | None:
    """A fraction rounded to 4 decimals, or None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return round(numerator / denominator, 4)


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """``percentile_cont``: linear interpolation between the closest ranks (as PostgreSQL)."""
    n = len(sorted_values)
    if n == 0:
        return None
    pos = p * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


def _round_s(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


@dataclass(frozen=True)
class IntervalFigures:
    """One response interval: how many incidents have it, its median and 90th percentile (s)."""

    n: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class ResponseFigures:
    count: int
    intake_to_dispatch: IntervalFigures
    dispatch_to_acknowledge: IntervalFigures
    dispatch_to_arrival: IntervalFigures
    arrival_to_close: IntervalFigures
    acknowledge_due: int
    acknowledge_within_target: int
    acknowledge_target_share: float | None
    arrival_due: int
    arrival_within_target: int
    arrival_target_share: float | None
    resolved_on_scene: int
    transferred: int
    closed: int
    on_scene_rate: float | None
    escalations: int
    breaches: int
    # False when the percentiles were interpolated in the daily histograms.
    exact: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- SQL building blocks ------------------------------------------------------------------


def _interval_expr(start_field: str, end_field: str) -> ExpressionWrapper[Any]:
    return ExpressionWrapper(F(end_field) - F(start_field), output_field=DurationField())


class _EpochSeconds(Func):
    """PostgreSQL: an interval as (double precision) seconds."""

    template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"
    output_field = FloatField()


class _PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate ``percentile_cont(p) WITHIN GROUP (ORDER BY …)``."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Expression, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _cancelled() -> Q:
    return Q(status=IncidentStatus.CANCELLED)


def _priority_zone() -> Q:
    return Q(grid_cell__priority_zone=True)


def _not_priority_zone() -> Q:
    return Q(grid_cell__isnull=True) | Q(grid_cell__priority_zone=False)


def target_conditions(now: datetime) -> dict[str, Q]:
    """Q objects for the target counts (see the module docstring), evaluated at ``now``."""
    ack_t = timedelta(seconds=settings.TARGET_ACKNOWLEDGE_S)
    zone_t = timedelta(seconds=settings.TARGET_ARRIVAL_PRIORITY_ZONE_S)
    other_t = timedelta(seconds=settings.TARGET_ARRIVAL_S)
    dispatched = Q(dispatched_at__isnull=False)
    ack_met = dispatched & Q(acknowledged_at__lte=F("dispatched_at") + ack_t)
    ack_due = dispatched & (
        Q(acknowledged_at__isnull=False) | (~_cancelled() & Q(dispatched_at__lte=now - ack_t))
    )
    arrival_met = dispatched & (
        (_priority_zone() & Q(arrived_at__lte=F("dispatched_at") + zone_t))
        | (_not_priority_zone() & Q(arrived_at__lte=F("dispatched_at") + other_t))
    )
    overdue = (_priority_zone() & Q(dispatched_at__lte=now - zone_t)) | (
        _not_priority_zone() & Q(dispatched_at__lte=now - other_t)
    )
    arrival_due = dispatched & (Q(arrived_at__isnull=False) | (~_cancelled() & overdue))
    return {
        "ack_due": ack_due,
        "ack_met": ack_met,
        "arrival_due": arrival_due,
        "arrival_met": arrival_met,
    }


def count_aggregates(now: datetime) -> dict[str, Aggregate]:
    """The counted figures of a set of incidents, as aggregate expressions."""
    targets = target_conditions(now)
    return {
        "total": Count("id"),
        "cancelled": Count("id", filter=_cancelled()),
        "transferred": Count("id", filter=Q(status__in=TRANSFERRED_STATUSES)),
        "resolved_on_scene": Count("id", filter=Q(status=IncidentStatus.RESOLVED_ON_SCENE)),
        "escalations": Count("id", filter=Q(escalated_at__isnull=False)),
        "breaches": Count("id", filter=Q(arrival_breached_at__isnull=False)),
        **{name: Count("id", filter=cond) for name, cond in targets.items()},
    }


def _figures_from(
    counts: Mapping[str, int], intervals: Mapping[str, IntervalFigures], *, exact: bool
) -> ResponseFigures:
    closed = counts["resolved_on_scene"] + counts["transferred"]
    return ResponseFigures(
        count=counts["total"],
        intake_to_dispatch=intervals["intake_to_dispatch"],
        dispatch_to_acknowledge=intervals["dispatch_to_acknowledge"],
        dispatch_to_arrival=intervals["dispatch_to_arrival"],
        arrival_to_close=intervals["arrival_to_close"],
        acknowledge_due=counts["ack_due"],
        acknowledge_within_target=counts["ack_met"],
        acknowledge_target_share=rate(counts["ack_met"], counts["ack_due"]),
        arrival_due=counts["arrival_due"],
        arrival_within_target=counts["arrival_met"],
        arrival_target_share=rate(counts["arrival_met"], counts["arrival_due"]),
        resolved_on_scene=counts["resolved_on_scene"],
        transferred=counts["transferred"],
        closed=closed,
        on_scene_rate=rate(counts["resolved_on_scene"], closed),
        escalations=counts["escalations"],
        breaches=counts["breaches"],
        exact=exact,
    )


def _exact_intervals(incidents: QuerySet[Incident]) -> dict[str, IntervalFigures]:
    """Median and p90 of each interval. One code path, two engines: SQL on PostgreSQL."""
    base = incidents.order_by()
    if connection.vendor == "postgresql":
        aggs: dict[str, Aggregate] = {}
        for name, (a, b) in INTERVALS.items():
            seconds = _EpochSeconds(_interval_expr(a, b))
            both = Q(**{f"{a}__isnull": False, f"{b}__isnull": False})
            aggs[f"{name}__n"] = Count("id", filter=both)
            aggs[f"{name}__median"] = _PercentileCont(seconds, 0.5)
            aggs[f"{name}__p90"] = _PercentileCont(seconds, 0.9)
        row = base.aggregate(**aggs)
        return {
            name: IntervalFigures(
                n=row[f"{name}__n"],
                median_s=_round_s(row[f"{name}__median"]),
                p90_s=_round_s(row[f"{name}__p90"]),
            )
            for name in INTERVALS
        }
    # SQLite (the embedded demo): no percentile aggregate; sort the intervals in Python.
    fields = sorted({f for pair in INTERVALS.values() for f in pair})
    values: dict[str, list[float]] = {name: [] for name in INTERVALS}
    for row_values in base.values_list(*fields).iterator(chunk_size=5000):
        stamp = dict(zip(fields, row_values, strict=True))
        for name, (a, b) in INTERVALS.items():
            if stamp[a] is not None and stamp[b] is not None:
                values[name].append((stamp[b] - stamp[a]).total_seconds())
    result = {}
    for name, seconds_list in values.items():
        seconds_list.sort()
        result[name] = IntervalFigures(
            n=len(seconds_list),
            median_s=_round_s(percentile(seconds_list, 0.5)),
            p90_s=_round_s(percentile(seconds_list, 0.9)),
        )
    return result


def response_figures(
    incidents: QuerySet[Incident], *, now: datetime | None = None
) -> ResponseFigures:
    """Response figures of any set of incidents, exact, from the raw rows (two queries).

    Used by the summary and by the personnel assessments (an auxiliary's call handling is
    ``response_figures(Incident.objects.filter(unit=…, received_at__range=…))``).
    """
    now = now or timezone.now()
    counts = incidents.order_by().aggregate(**count_aggregates(now))
    return _figures_from(counts, _exact_intervals(incidents), exact=True)


# --- Shifts -------------------------------------------------------------------------------


def shift_of_hour(hour: int) -> int:
    """The shift (1, 2, 3) whose start hour is the latest at or before ``hour``, cyclically."""
    starts = settings.SHIFT_START_HOURS
    return min(range(3), key=lambda i: (hour - starts[i]) % 24) + 1


def shift_of(moment: datetime) -> int:
    return shift_of_hour(timezone.localtime(moment, SHANGHAI).hour)


def shift_hours(shift: int) -> list[int]:
    return [h for h in range(24) if shift_of_hour(h) == shift]


# --- Periods ------------------------------------------------------------------------------


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of an Asia/Shanghai date as aware datetimes."""
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in Asia/Shanghai: the inclusive date range."""
    return day_bounds(start)[0], day_bounds(end)[1]


def local_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), SHANGHAI).date()
