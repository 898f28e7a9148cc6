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
today and yesterday every few minutes and the last week nightly (apps/stats/tasks.py).

``summary`` answers a period like this:
- short periods (≤ EXACT_MAX_DAYS days) or a ``grid_cell`` filter (not an aggregate key): raw
  rows only, exact percentiles (PostgreSQL: ``percentile_cont`` in SQL; SQLite: in Python);
- longer periods: counts from ``DailyStats`` for the full days already rolled up after they
  ended, raw rows for the other days; the percentiles still from the raw rows of the whole period,
  exact (a force publishes them: "派警至签收 30 秒" must be 30 s, not a bucket's interpolation).
  On PostgreSQL that is one ``percentile_cont`` pass over the period's rows with enough sort memory
  (``PERCENTILE_WORK_MEM``) to stay out of temporary files: ~0.7 s for a year of 1,000,000
  incidents on two cores (bench/statistics.py). The histograms remain for the dashboard's charts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractHour, TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.functional import cached_property

from apps.calls.models import Call, CallStatus, CloseReason
from apps.common.shifts import shift_hours as shift_hours
from apps.common.shifts import shift_of as shift_of
from apps.common.shifts import shift_of_hour as shift_of_hour
from apps.incidents.models import (
    SHORT_ARRIVAL_PRIORITIES,
    Category,
    Event,
    Incident,
    IncidentStatus,
    Origin,
    StreamKind,
)
from apps.units.models import Unit, UnitStatus

from .models import (
    COUNT_COLUMNS,
    HIST_EDGES_S,
    INTERVAL_COLUMNS,
    DailyStats,
    StatsDay,
    hist_columns,
)

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
    # The arrival target apart for its two parts, as the model reports them: the incidents with
    # the shorter target (priority zone or priority: "3分钟到达率 (重点区域)") and the others
    # ("5分钟到达率"); each part's due and met add up to arrival_due and arrival_within_target.
    arrival_zone_due: int
    arrival_zone_within_target: int
    arrival_zone_target_share: float | None
    arrival_standard_due: int
    arrival_standard_within_target: int
    arrival_standard_target_share: float | None
    resolved_on_scene: int
    transferred: int
    closed: int
    on_scene_rate: float | None
    escalations: int
    breaches: int
    # Always true since the percentiles of every period are computed from its rows (kept in the
    # API's answer for the clients that read it).
    exact: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- SQL building blocks ------------------------------------------------------------------


class Seconds(Func):
    """``end − start`` in seconds (double precision), computed by the database itself.

    PostgreSQL: ``date_part('epoch', end - start)``. SQLite: ``julianday`` arithmetic, native C
    (Django's own timestamp difference on SQLite is a Python function called for every row and
    every comparison: the embedded dashboard spent 13 s in it for two months), rounded to the
    millisecond so that a value on a bucket's edge stays on it.
    """

    output_field = FloatField()

    def __init__(self, start_field: str, end_field: str) -> None:
        super().__init__(F(end_field), F(start_field))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="date_part('epoch', %(expressions)s)",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(",
            **extra,
        )

    @cached_property
    def convert_value(self) -> Any:
        # Both engines answer a float (or NULL) already: no Python call per value (Django's
        # float() of every interval read was a fifth of the SQLite dashboard's time).
        return self._convert_value_noop  # type: ignore[attr-defined]  # (not in the stubs)


# Sort memory for the percentile queries (per query, SET LOCAL): a year's intervals are sorted in
# memory instead of in temporary files.
PERCENTILE_WORK_MEM = "64MB"


@contextmanager
def sort_memory() -> Iterator[None]:
    """Run the enclosed query with PERCENTILE_WORK_MEM on PostgreSQL (nothing elsewhere)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{PERCENTILE_WORK_MEM}'")
        yield


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
    """The incidents with the shorter (3-minute) arrival target: in a priority-zone cell, or of
    priority 1 (紧急) anywhere (apps.incidents.deadlines.arrival_target_s)."""
    return Q(grid_cell__priority_zone=True) | Q(priority__in=SHORT_ARRIVAL_PRIORITIES)


def _not_priority_zone() -> Q:
    return (Q(grid_cell__isnull=True) | Q(grid_cell__priority_zone=False)) & ~Q(
        priority__in=SHORT_ARRIVAL_PRIORITIES
    )


def target_conditions(now: datetime) -> dict[str, Q]:
    """Q objects for the target counts (see the module docstring), evaluated at ``now``."""
    ack_t = timedelta(seconds=settings.TARGET_ACKNOWLEDGE_S)
    zone_t = timedelta(seconds=settings.TARGET_ARRIVAL_PRIORITY_ZONE_S)
    other_t = timedelta(seconds=settings.TARGET_ARRIVAL_S)
    dispatched = Q(dispatched_at__isnull=False)

    def within(end_field: str, seconds: float) -> Q:
        # The interval in the database's own arithmetic (Seconds): on SQLite, timestamp + interval
        # would be a Python function called for every row.
        return Q(LessThanOrEqual(Seconds("dispatched_at", end_field), float(seconds)))

    ack_met = dispatched & within("acknowledged_at", settings.TARGET_ACKNOWLEDGE_S)
    ack_due = dispatched & (
        Q(acknowledged_at__isnull=False) | (~_cancelled() & Q(dispatched_at__lte=now - ack_t))
    )
    zone_met = _priority_zone() & within("arrived_at", settings.TARGET_ARRIVAL_PRIORITY_ZONE_S)
    arrival_met = dispatched & (
        zone_met | (_not_priority_zone() & within("arrived_at", settings.TARGET_ARRIVAL_S))
    )
    zone_overdue = _priority_zone() & Q(dispatched_at__lte=now - zone_t)
    overdue = zone_overdue | (_not_priority_zone() & Q(dispatched_at__lte=now - other_t))
    arrived = Q(arrived_at__isnull=False)
    return {
        "ack_due": ack_due,
        "ack_met": ack_met,
        "arrival_due": dispatched & (arrived | (~_cancelled() & overdue)),
        "arrival_met": arrival_met,
        # The part with the shorter target (the rest had TARGET_ARRIVAL_S).
        "arrival_zone_due": dispatched
        & ((_priority_zone() & arrived) | (~_cancelled() & zone_overdue)),
        "arrival_zone_met": dispatched & zone_met,
    }


def count_conditions(now: datetime) -> dict[str, Q]:
    """The condition of each counted figure (COUNT_COLUMNS) but ``total``, evaluated at ``now``."""
    return {
        "cancelled": _cancelled(),
        "transferred": Q(status__in=TRANSFERRED_STATUSES),
        "resolved_on_scene": Q(status=IncidentStatus.RESOLVED_ON_SCENE),
        "escalations": Q(escalated_at__isnull=False),
        "breaches": Q(arrival_breached_at__isnull=False),
        **target_conditions(now),
    }


def count_aggregates(now: datetime) -> dict[str, Aggregate]:
    """The counted figures of a set of incidents, as aggregate expressions."""
    return {
        "total": Count("id"),
        **{name: Count("id", filter=cond) for name, cond in count_conditions(now).items()},
    }


def _figures_from(
    counts: Mapping[str, int], intervals: Mapping[str, IntervalFigures]
) -> ResponseFigures:
    closed = counts["resolved_on_scene"] + counts["transferred"]
    zone_due, zone_met = counts["arrival_zone_due"], counts["arrival_zone_met"]
    standard_due = counts["arrival_due"] - zone_due
    standard_met = counts["arrival_met"] - zone_met
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
        arrival_zone_due=zone_due,
        arrival_zone_within_target=zone_met,
        arrival_zone_target_share=rate(zone_met, zone_due),
        arrival_standard_due=standard_due,
        arrival_standard_within_target=standard_met,
        arrival_standard_target_share=rate(standard_met, standard_due),
        resolved_on_scene=counts["resolved_on_scene"],
        transferred=counts["transferred"],
        closed=closed,
        on_scene_rate=rate(counts["resolved_on_scene"], closed),
        escalations=counts["escalations"],
        breaches=counts["breaches"],
    )


EMPTY_INTERVAL = IntervalFigures(n=0, median_s=None, p90_s=None)


def interval_percentiles(
    incidents: QuerySet[Incident], key: str | None = None
) -> dict[Hashable, dict[str, IntervalFigures]]:
    """Median and p90 of each response interval, exact, per value of ``key`` (a field path such
    as ``unit_id``; without one, a single group ``None``). One code path, two engines:
    PostgreSQL's ``percentile_cont`` in SQL (an ordered-set aggregate groups like any other),
    with sort memory for long periods; on SQLite the database computes the seconds and Python
    sorts them."""
    base = incidents.order_by()
    keys = [key] if key else []

    def group(row: Mapping[str, Any]) -> Hashable:
        return row[key] if key else None

    if connection.vendor == "postgresql":
        aggs: dict[str, Aggregate] = {}
        for name, (a, b) in INTERVALS.items():
            both = Q(**{f"{a}__isnull": False, f"{b}__isnull": False})
            aggs[f"{name}__n"] = Count("id", filter=both)
            aggs[f"{name}__median"] = _PercentileCont(Seconds(a, b), 0.5)
            aggs[f"{name}__p90"] = _PercentileCont(Seconds(a, b), 0.9)
        with sort_memory():
            rows = list(base.values(*keys).annotate(**aggs)) if key else [base.aggregate(**aggs)]
        return {
            group(row): {
                name: IntervalFigures(
                    n=row[f"{name}__n"],
                    median_s=_round_s(row[f"{name}__median"]),
                    p90_s=_round_s(row[f"{name}__p90"]),
                )
                for name in INTERVALS
            }
            for row in rows
        }
    # Tuples, not dicts, and no call per row: this loop is most of the SQLite dashboard's time.
    values: dict[Hashable, tuple[list[float], ...]] = {}
    in_seconds = {f"_s_{name}": Seconds(a, b) for name, (a, b) in INTERVALS.items()}
    width = len(keys)
    seconds_rows = base.annotate(**in_seconds).values_list(*keys, *in_seconds)
    for row in seconds_rows.iterator(chunk_size=5000):
        g = row[0] if width else None
        lists = values.get(g)
        if lists is None:
            lists = values[g] = tuple([] for _name in INTERVALS)
        for seconds_list, value in zip(lists, row[width:], strict=True):
            if value is not None:
                seconds_list.append(value)
    result: dict[Hashable, dict[str, IntervalFigures]] = {}
    for g, lists in values.items():
        result[g] = {}
        for name, seconds_list in zip(INTERVALS, lists, strict=True):
            seconds_list.sort()
            result[g][name] = IntervalFigures(
                n=len(seconds_list),
                median_s=_round_s(percentile(seconds_list, 0.5)),
                p90_s=_round_s(percentile(seconds_list, 0.9)),
            )
    return result


def intervals_of(
    found: Mapping[Hashable, Mapping[str, IntervalFigures]], group: Hashable = None
) -> dict[str, IntervalFigures]:
    """One group's interval figures, each interval present (none: n = 0)."""
    mine = found.get(group, {})
    return {name: mine.get(name, EMPTY_INTERVAL) for name in INTERVALS}


def _exact_intervals(incidents: QuerySet[Incident]) -> dict[str, IntervalFigures]:
    return intervals_of(interval_percentiles(incidents))


def response_figures(
    incidents: QuerySet[Incident], *, now: datetime | None = None
) -> ResponseFigures:
    """Response figures of any set of incidents, exact, from the raw rows (two queries).

    Used by the summary and by the personnel assessments (an auxiliary's call handling is
    ``response_figures(Incident.objects.filter(unit=…, received_at__range=…))``).
    """
    now = now or timezone.now()
    counts = incidents.order_by().aggregate(**count_aggregates(now))
    return _figures_from(counts, _exact_intervals(incidents))


# --- Shifts -------------------------------------------------------------------------------


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


# --- Histograms ---------------------------------------------------------------------------


ALL_HIST_COLUMNS: tuple[str, ...] = tuple(
    col for prefix in INTERVAL_COLUMNS.values() for col in (f"{prefix}_n", *hist_columns(prefix))
)
SUMMED_COLUMNS: tuple[str, ...] = COUNT_COLUMNS + ALL_HIST_COLUMNS


# --- Filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsFilter:
    """Which incidents a summary covers (see the module docstring for each dimension)."""

    station_id: int | None = None
    staging_point_id: int | None = None
    unit_id: int | None = None
    grid_cell_id: int | None = None
    category: str | None = None
    shift: int | None = None

    def incident_q(self) -> Q:
        q = Q()
        if self.station_id is not None:
            q &= Q(station_id=self.station_id)
        if self.staging_point_id is not None:
            q &= Q(grid_cell__staging_point_id=self.staging_point_id)
        if self.unit_id is not None:
            q &= Q(unit_id=self.unit_id)
        if self.grid_cell_id is not None:
            q &= Q(grid_cell_id=self.grid_cell_id)
        if self.category is not None:
            q &= Q(category=self.category)
        if self.shift is not None:
            q &= Q(_local_hour__in=shift_hours(self.shift))
        return q

    def daily_q(self) -> Q:
        if self.grid_cell_id is not None:
            raise ValueError("grid cells are not a key of the daily aggregates")
        q = Q()
        for name in ("station_id", "staging_point_id", "unit_id", "category", "shift"):
            value = getattr(self, name)
            if value is not None:
                q &= Q(**{name: value})
        return q


def _local_hour() -> ExtractHour:
    return ExtractHour("received_at", tzinfo=SHANGHAI)


def shift_case() -> Case:
    return Case(
        *[When(_local_hour__in=shift_hours(s), then=Value(s)) for s in (1, 2, 3)],
        output_field=IntegerField(),
    )


def incidents_in(start: datetime, end: datetime, filters: StatsFilter) -> QuerySet[Incident]:
    """Incidents received in [start, end) that pass the filters."""
    return (
        Incident.objects.order_by()
        .alias(_local_hour=_local_hour())
        .filter(received_at__gte=start, received_at__lt=end)
        .filter(filters.incident_q())
    )


# --- Sums per group -----------------------------------------------------------------------

# What the counts can be summed by: name → (DailyStats column, the incident's value).
SUM_KEYS: dict[str, tuple[str, str]] = {
    "category": ("category", "category"),
    "station": ("station_id", "station_id"),
    "staging_point": ("staging_point_id", "grid_cell__staging_point_id"),
    "unit": ("unit_id", "unit_id"),
    "shift": ("shift", ""),  # shift_case()
    "day": ("day", ""),  # local_date()
}


# Asia/Shanghai has kept UTC+8 all year since its last summer time ended in September 1991.
SHANGHAI_FIXED_SINCE = datetime(1992, 1, 1, tzinfo=SHANGHAI)


class LocalDate(TruncDate):
    """The Asia/Shanghai date of a moment (``TruncDate`` with that zone), computed by SQLite
    itself where the zone's offset is fixed: Django's own is a Python function called for every
    row there (half the time of grouping two months by day)."""

    def __init__(self, expression: str) -> None:
        super().__init__(expression, tzinfo=SHANGHAI)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        moment, params = compiler.compile(self.lhs)
        general, general_params = self.as_sql(compiler, connection)
        since = connection.ops.adapt_datetimefield_value(SHANGHAI_FIXED_SINCE)
        return (
            f"CASE WHEN {moment} >= %s THEN date({moment}, '+8 hours') ELSE {general} END",
            (*params, since, *params, *general_params),
        )


def local_date() -> LocalDate:
    """The Asia/Shanghai date an incident was received (the day it counts for)."""
    return LocalDate("received_at")


def _key_value(name: str) -> Expression | F:
    if name == "shift":
        return shift_case()
    if name == "day":
        return local_date()
    return F(SUM_KEYS[name][1])


# A subquery the planner must run as written instead of merging it into the outer query.
_FENCE = {"sqlite": "LIMIT -1 OFFSET 0", "postgresql": "OFFSET 0"}

Sums = dict[tuple[Hashable, ...], dict[str, int]]


def grouped_sums(
    incidents: QuerySet[Incident],
    keys: Sequence[str],
    *,
    now: datetime,
    columns: Sequence[str] = COUNT_COLUMNS,
) -> Sums:
    """Summed columns of DailyStats for a set of incidents, per value of ``keys`` (names in
    SUM_KEYS; none: one group ``()``, present even when empty). One query. ``columns`` says
    which are wanted: the counted figures (COUNT_COLUMNS) and/or the interval histograms
    (ALL_HIST_COLUMNS: each interval's ``_n`` and its count in each HIST_EDGES_S bucket); the
    answer has all of each part asked for, and ``total`` always.

    The histograms are 22 conditional counts per interval, and neither engine evaluates a row's
    interval once for all of them (SQLite called julianday() some 250 times a row: 0.8 s for the
    model's two months of 5,046 calls). So an inner query computes each row's keys, interval
    seconds and count conditions (``count_conditions``) once; an OFFSET keeps the planners from
    merging it into the outer query (SQLite's and PostgreSQL's documented fence), which only
    counts.
    """
    names = {f"k{i}": _key_value(k) for i, k in enumerate(keys)}
    histograms = any(col in ALL_HIST_COLUMNS for col in columns)
    counts_wanted = any(col in COUNT_COLUMNS and col != "total" for col in columns)
    if not histograms:
        # Without the histograms, the plain aggregate is the cheaper one.
        counted = incidents.order_by().annotate(**names).values(*names)
        aggs = count_aggregates(now)
        rows = counted.annotate(**aggs) if names else [incidents.order_by().aggregate(**aggs)]
        return {tuple(row[k] for k in names): {col: row[col] for col in aggs} for row in rows}
    db = incidents.db
    quote = connections[db].ops.quote_name
    flags = {
        f"f_{name}": ExpressionWrapper(cond, output_field=BooleanField())
        for name, cond in (count_conditions(now) if counts_wanted else {}).items()
    }
    seconds = {f"s_{INTERVAL_COLUMNS[n]}": Seconds(a, b) for n, (a, b) in INTERVALS.items()}
    inner = incidents.order_by().annotate(**names, **flags, **seconds)
    inner = inner.values(*names, *flags, *seconds)
    inner_sql, params = inner.query.get_compiler(using=db).as_sql()

    answered = ["total", *(name[2:] for name in flags)]
    counts = ["COUNT(*)", *(f"COUNT(*) FILTER (WHERE {quote(name)})" for name in flags)]
    for prefix in INTERVAL_COLUMNS.values():
        iv = quote(f"s_{prefix}")
        answered.append(f"{prefix}_n")
        counts.append(f"COUNT(*) FILTER (WHERE {iv} IS NOT NULL)")
        for i, col in enumerate(hist_columns(prefix)):
            cond = [f"{iv} IS NOT NULL"]
            if i > 0:
                cond.append(f"{iv} >= {float(HIST_EDGES_S[i])!r}")
            if i + 1 < len(HIST_EDGES_S):
                cond.append(f"{iv} < {float(HIST_EDGES_S[i + 1])!r}")
            answered.append(col)
            counts.append(f"COUNT(*) FILTER (WHERE {' AND '.join(cond)})")
    group = ", ".join(quote(k) for k in names)
    sql = (
        f"SELECT {', '.join([*(quote(k) for k in names), *counts])} "
        f"FROM ({inner_sql} {_FENCE[connections[db].vendor]}) AS rows"
        + (f" GROUP BY {group}" if names else "")
    )
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    result: Sums = {}
    for row in found:
        group_key = tuple(
            date.fromisoformat(v) if k == "day" and isinstance(v, str) else v
            for k, v in zip(keys, row, strict=False)
        )
        result[group_key] = dict(zip(answered, (int(v) for v in row[len(keys) :]), strict=True))
    return result


@dataclass(frozen=True)
class PeriodSums:
    groups: Sums
    aggregated_days: list[date]


def period_sums(
    *,
    start: date,
    end: date,
    filters: StatsFilter,
    now: datetime,
    keys: Sequence[str],
    columns: Sequence[str] = COUNT_COLUMNS,
) -> PeriodSums:
    """The sums of ``columns`` (of DailyStats: counts, histograms) over the period's incidents
    per value of ``keys`` (names in SUM_KEYS). Periods longer than EXACT_MAX_DAYS without a
    grid-cell filter read them from ``DailyStats`` for the days rolled up after they ended, and
    from the incidents for the other days; the sums are the same either way (the roll-up stores
    ``grouped_sums`` of its day). Two queries, one of them on the markers."""
    groups: Sums = defaultdict(dict)
    aggregated: list[date] = []
    if (end - start).days + 1 > EXACT_MAX_DAYS and filters.grid_cell_id is None:
        aggregated = _rolled_up_days(start, end, local_today(now))
    if aggregated:
        daily_keys = [SUM_KEYS[k][0] for k in keys]
        daily = DailyStats.objects.filter(day__in=aggregated).filter(filters.daily_q()).order_by()
        summed = {col: Sum(col) for col in columns}
        rows = (
            daily.values(*daily_keys).annotate(**summed)
            if daily_keys
            else [daily.aggregate(**summed)]
        )
        for row in rows:
            _add(groups[tuple(row[k] for k in daily_keys)], row, columns)
    ranges = _raw_ranges(start, end, set(aggregated))
    if ranges:
        raw = incidents_in(*period_bounds(start, end), filters)
        if aggregated:
            span = Q()
            for r_lo, r_hi in ranges:
                span |= Q(received_at__gte=r_lo, received_at__lt=r_hi)
            raw = raw.filter(span)
        for group, counts in grouped_sums(raw, keys, now=now, columns=columns).items():
            _add(groups[group], counts, columns)
    return PeriodSums(dict(groups), aggregated)


# --- Summary ------------------------------------------------------------------------------

# Up to this many days a summary is computed from the raw rows, percentiles exact.
EXACT_MAX_DAYS = 31


@dataclass(frozen=True)
class CategoryFigures:
    total: int
    transferred: int
    resolved_on_scene: int
    closed: int
    on_scene_rate: float | None


@dataclass(frozen=True)
class CallFigures:
    """The 110 calls the telephony link reported in the period (the whole centre's: the filters
    of the incidents do not apply to a call that opened none). A further call about an incident
    already open is `linked`: the incident is counted once, the call as a call."""

    reported: int
    opened_incident: int
    linked: int
    closed: int
    not_taken: int
    closed_by_reason: dict[str, int]


def call_figures(start: datetime, end: datetime) -> CallFigures:
    """One grouped count over the calls received in [start, end)."""
    counts: dict[str, int] = {}
    reasons = {r.value: 0 for r in CloseReason}
    rows = (
        Call.objects.filter(received_at__gte=start, received_at__lt=end)
        .order_by()
        .values("status", "close_reason")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
        if row["status"] == CallStatus.CLOSED and row["close_reason"] in reasons:
            reasons[row["close_reason"]] += row["n"]
    return CallFigures(
        reported=sum(counts.values()),
        opened_incident=counts.get(CallStatus.INCIDENT, 0),
        linked=counts.get(CallStatus.LINKED, 0),
        closed=counts.get(CallStatus.CLOSED, 0),
        not_taken=counts.get(CallStatus.RINGING, 0),
        closed_by_reason=reasons,
    )


@dataclass(frozen=True)
class Summary:
    start: date
    end: date
    total: int
    cancelled: int
    transferred: int
    transfer_share: float | None
    resolved_on_scene: int
    closed: int
    on_scene_rate: float | None
    escalations: int
    breaches: int
    by_category: dict[str, CategoryFigures]
    # How the incidents came in: 110 calls, or raised by a crew on patrol (以巡待接; counted in
    # every count, never in the response intervals: nobody was dispatched).
    by_origin: dict[str, int]
    response: ResponseFigures
    calls: CallFigures
    aggregated_days: int
    raw_days: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        return data


def _add(into: dict[str, int], row: Mapping[str, Any], columns: Sequence[str]) -> None:
    for col in columns:
        into[col] = into.get(col, 0) + int(row.get(col) or 0)


def _rolled_up_days(start: date, end: date, today: date) -> list[date]:
    """Days of [start, end] before today whose rollup ran after the day ended."""
    days = []
    for marker in StatsDay.objects.filter(day__gte=start, day__lte=end, day__lt=today):
        if marker.rolled_at >= day_bounds(marker.day)[1]:
            days.append(marker.day)
    return sorted(days)


def _raw_ranges(start: date, end: date, skip: set[date]) -> list[tuple[datetime, datetime]]:
    """[from, to) datetime ranges covering the days of [start, end] not in ``skip``."""
    ranges: list[tuple[datetime, datetime]] = []
    day = start
    while day <= end:
        if day not in skip:
            lo, hi = day_bounds(day)
            if ranges and ranges[-1][1] == lo:
                ranges[-1] = (ranges[-1][0], hi)
            else:
                ranges.append((lo, hi))
        day += timedelta(days=1)
    return ranges


def _by_origin(period: QuerySet[Incident], total: int) -> dict[str, int]:
    # Patrol-raised incidents are few: counted on their own partial index.
    patrol = period.filter(origin=Origin.PATROL).order_by().count()
    return {Origin.CALL.value: total - patrol, Origin.PATROL.value: patrol}


def summary(
    *, start: date, end: date, filters: StatsFilter | None = None, now: datetime | None = None
) -> Summary:
    """The figures of the incidents received from ``start`` to ``end`` (inclusive dates)."""
    filters = filters or StatsFilter()
    now = now or timezone.now()
    days = (end - start).days + 1
    lo, hi = period_bounds(start, end)
    period = incidents_in(lo, hi, filters)
    per_cat: dict[str, dict[str, int]] = {c.value: {} for c in Category}
    sums = period_sums(start=start, end=end, filters=filters, now=now, keys=("category",))
    for (category,), found in sums.groups.items():
        _add(per_cat[str(category)], found, COUNT_COLUMNS)
    aggregated = sums.aggregated_days
    # The percentiles: exact, from the rows of the whole period (see the module docstring).
    intervals = _exact_intervals(period)
    totals: dict[str, int] = {}
    for counts in per_cat.values():
        _add(totals, counts, COUNT_COLUMNS)
    response = _figures_from({col: totals.get(col, 0) for col in COUNT_COLUMNS}, intervals)
    by_category = {}
    for cat, counts in per_cat.items():
        closed = counts.get("resolved_on_scene", 0) + counts.get("transferred", 0)
        by_category[cat] = CategoryFigures(
            total=counts.get("total", 0),
            transferred=counts.get("transferred", 0),
            resolved_on_scene=counts.get("resolved_on_scene", 0),
            closed=closed,
            on_scene_rate=rate(counts.get("resolved_on_scene", 0), closed),
        )
    return Summary(
        start=start,
        end=end,
        total=response.count,
        cancelled=totals.get("cancelled", 0),
        transferred=response.transferred,
        transfer_share=rate(response.transferred, response.count),
        resolved_on_scene=response.resolved_on_scene,
        closed=response.closed,
        on_scene_rate=response.on_scene_rate,
        escalations=response.escalations,
        breaches=response.breaches,
        by_category=by_category,
        by_origin=_by_origin(period, response.count),
        response=response,
        calls=call_figures(lo, hi),
        aggregated_days=len(aggregated),
        raw_days=days - len(aggregated),
    )


# --- The incidents one by one (the incident export) ----------------------------------------

# How many rows an incident listing reads from the database at a time.
LINES_CHUNK = 2000


def incident_lines(*, start: date, end: date, filters: StatsFilter) -> Iterator[dict[str, Any]]:
    """The incidents of the period that pass the filters, oldest first, one dict each: number,
    ``received_at``, category, priority, status, origin, ``station_name``,
    ``staging_point_name``, ``unit_callsign``, ``short_target`` (whether the priority-zone
    arrival target applies) and the seconds of each interval (keyed by the names of INTERVALS,
    ``None`` when a time is missing).
    Never the caller's name or phone, nor the address. Read LINES_CHUNK rows at a time, so a
    year of incidents never sits in memory."""
    lo, hi = period_bounds(start, end)
    rows = (
        incidents_in(lo, hi, filters)
        .annotate(
            short_target=Case(
                When(_priority_zone(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            station_name=F("station__name"),
            staging_point_name=F("grid_cell__staging_point__name"),
            unit_callsign=F("unit__callsign"),
            **{name: Seconds(a, b) for name, (a, b) in INTERVALS.items()},
        )
        .order_by("received_at", "id")
        .values(
            "number",
            "received_at",
            "category",
            "priority",
            "status",
            "origin",
            "station_name",
            "staging_point_name",
            "unit_callsign",
            "short_target",
            *INTERVALS,
        )
    )
    yield from rows.iterator(chunk_size=LINES_CHUNK)


# --- Street presence ----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitPresence:
    """Seconds a unit spent in each status during a period (from its event stream)."""

    unit_id: int
    callsign: str
    seconds: dict[str, float]

    @property
    def hours(self) -> dict[str, float]:
        return {status: round(s / 3600, 2) for status, s in self.seconds.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "callsign": self.callsign, "hours": self.hours}


def street_presence(
    *, start: date, end: date, unit_id: int | None = None, now: datetime | None = None
) -> list[UnitPresence]:
    """Hours patrolling, at post, travelling, on scene, out of service per unit in a period.

    Reads the units' event streams (every status change is an event with from/to states): the
    status at the start of the period is the last change before it (or, for a unit with no
    change before, the ``from`` of its first change in the period, or its current status when it
    never changed). The period ends at ``now`` if that is earlier, and starts no earlier than the
    unit exists: its ``created_at`` or its first status record, whichever is earlier (a unit
    added minutes ago has minutes, not the whole period). Two queries.
    """

    now = now or timezone.now()
    lo, hi = period_bounds(start, end)
    hi = min(hi, now)
    before = (
        Event.objects.filter(stream=StreamKind.UNIT, stream_id=OuterRef("pk"), at__lt=lo)
        .exclude(to_state="")
        .order_by("-at", "-seq")
        .values("to_state")[:1]
    )
    first = (
        Event.objects.filter(stream=StreamKind.UNIT, stream_id=OuterRef("pk"))
        .exclude(to_state="")
        .order_by("at", "seq")
        .values("at")[:1]
    )
    units = Unit.objects.order_by("callsign").annotate(
        _before=Subquery(before), _first=Subquery(first)
    )
    if unit_id is not None:
        units = units.filter(pk=unit_id)
    states: dict[int, tuple[str | None, datetime]] = {}
    seconds: dict[int, dict[str, float]] = {}
    names: dict[int, str] = {}
    for unit in units:
        exists = unit.created_at if unit._first is None else min(unit.created_at, unit._first)
        since = max(lo, exists)
        states[unit.pk] = (unit._before, since)
        seconds[unit.pk] = {s.value: 0.0 for s in UnitStatus}
        names[unit.pk] = unit.callsign
        if unit._before is None and (
            unit.status_changed_at is None or unit.status_changed_at <= since
        ):
            states[unit.pk] = (unit.status, since)
    changes = (
        Event.objects.filter(stream=StreamKind.UNIT, stream_id__in=list(states))
        .filter(at__gte=lo, at__lt=hi)
        .exclude(to_state="")
        .order_by("stream_id", "at", "seq")
        .values_list("stream_id", "at", "from_state", "to_state")
    )
    for uid, at, from_state, to_state in changes.iterator(chunk_size=5000):
        state, since = states[uid]
        state = state or from_state
        if state in seconds[uid]:
            seconds[uid][state] += (at - since).total_seconds()
        states[uid] = (to_state, at)
    for uid, (state, since) in states.items():
        if state in seconds[uid] and hi > since:
            seconds[uid][state] += (hi - since).total_seconds()
    return [UnitPresence(uid, names[uid], seconds[uid]) for uid in states]
