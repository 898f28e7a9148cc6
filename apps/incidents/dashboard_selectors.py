"""Reads of the commanders' dashboard (/command/stats/) that the statistics service lacks.

Every figure comes from apps/incidents/stats.py: the same incident set (``incidents_in``), the
same counted figures (``count_aggregates``), the same percentiles (``percentile_cont``) and the
same ``ResponseFigures``; here they are only grouped (per staging point, per unit, per day), each
group-by being one SQL aggregate query, never a query per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Q, QuerySet
from django.db.models.functions import Round, TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.units.models import StagingPoint, Unit, UnitStatus

from .exports import Column, Kind, Table
from .models import Category, Incident
from .stats import (
    INTERVALS,
    SHANGHAI,
    IntervalFigures,
    ResponseFigures,
    StatsFilter,
    Summary,
    _alias_intervals,
    _EpochSeconds,
    _figures_from,
    _interval_expr,
    _PercentileCont,
    _round_s,
    count_aggregates,
    histogram_aggregates,
    incidents_in,
    percentile,
    period_bounds,
    rate,
    street_presence,
    summary,
)
from .stats_models import HIST_EDGES_S, INTERVAL_COLUMNS, hist_columns

# Heat layer: incidents grouped by location rounded to this many decimals (≈ 110 m × 100 m).
HEAT_DECIMALS = 3
# The heaviest cells only: a browser draws a few thousand rectangles without effort.
HEAT_MAX_CELLS = 4000


def grouped_figures(
    incidents: QuerySet[Incident], key: str, *, now: datetime
) -> dict[Hashable, ResponseFigures]:
    """``ResponseFigures`` per value of ``key`` (a field path such as ``unit_id``).

    Two queries: the counts grouped in SQL, then the interval percentiles grouped in SQL on
    PostgreSQL (``percentile_cont`` is an ordered-set aggregate, so it groups like any other);
    SQLite has none, so its intervals are read in one query and sorted in Python, as stats does.
    """
    base = incidents.order_by()
    counts = {row[key]: row for row in base.values(key).annotate(**count_aggregates(now))}
    intervals = _grouped_intervals(base, key)
    empty = IntervalFigures(n=0, median_s=None, p90_s=None)
    return {
        group: _figures_from(
            row, {name: intervals.get(group, {}).get(name, empty) for name in INTERVALS}, exact=True
        )
        for group, row in counts.items()
    }


def _grouped_intervals(
    incidents: QuerySet[Incident], key: str
) -> dict[Hashable, dict[str, IntervalFigures]]:
    result: dict[Hashable, dict[str, IntervalFigures]] = defaultdict(dict)
    if connection.vendor == "postgresql":
        aggs: dict[str, Aggregate] = {}
        for name, (a, b) in INTERVALS.items():
            seconds = _EpochSeconds(_interval_expr(a, b))
            both = Q(**{f"{a}__isnull": False, f"{b}__isnull": False})
            aggs[f"{name}__n"] = Count("id", filter=both)
            aggs[f"{name}__median"] = _PercentileCont(seconds, 0.5)
            aggs[f"{name}__p90"] = _PercentileCont(seconds, 0.9)
        for row in incidents.values(key).annotate(**aggs):
            for name in INTERVALS:
                result[row[key]][name] = IntervalFigures(
                    n=row[f"{name}__n"],
                    median_s=_round_s(row[f"{name}__median"]),
                    p90_s=_round_s(row[f"{name}__p90"]),
                )
        return result
    fields = sorted({f for pair in INTERVALS.values() for f in pair})
    values: dict[Hashable, dict[str, list[float]]] = defaultdict(
        lambda: {name: [] for name in INTERVALS}
    )
    for row in incidents.values(key, *fields).iterator(chunk_size=5000):
        for name, (a, b) in INTERVALS.items():
            if row[a] is not None and row[b] is not None:
                values[row[key]][name].append((row[b] - row[a]).total_seconds())
    for group, per_interval in values.items():
        for name, durations in per_interval.items():
            durations.sort()
            result[group][name] = IntervalFigures(
                n=len(durations),
                median_s=_round_s(percentile(durations, 0.5)),
                p90_s=_round_s(percentile(durations, 0.9)),
            )
    return result


@dataclass(frozen=True)
class DayFigures:
    """One Asia/Shanghai day: calls per category and the target counts (for the trend)."""

    day: date
    by_category: dict[str, int]
    acknowledge_due: int
    acknowledge_within_target: int
    arrival_due: int
    arrival_within_target: int


def daily_figures(incidents: QuerySet[Incident], *, now: datetime) -> list[DayFigures]:
    """Per day of receipt (Asia/Shanghai) and category: calls and target counts. One query."""
    rows = (
        incidents.order_by()
        .annotate(_day=TruncDate("received_at", tzinfo=SHANGHAI))
        .values("_day", "category")
        .annotate(**count_aggregates(now))
        .order_by("_day", "category")
    )
    days: dict[date, dict[str, Any]] = {}
    for row in rows:
        day = days.setdefault(
            row["_day"],
            {"by_category": {}, "ack_due": 0, "ack_met": 0, "arrival_due": 0, "arrival_met": 0},
        )
        day["by_category"][row["category"]] = row["total"]
        for col in ("ack_due", "ack_met", "arrival_due", "arrival_met"):
            day[col] += row[col]
    return [
        DayFigures(
            day=d,
            by_category=v["by_category"],
            acknowledge_due=v["ack_due"],
            acknowledge_within_target=v["ack_met"],
            arrival_due=v["arrival_due"],
            arrival_within_target=v["arrival_met"],
        )
        for d, v in sorted(days.items())
    ]


@dataclass(frozen=True)
class Histogram:
    """Counts of one response interval in the buckets [edges[i], edges[i+1]) (last: open)."""

    edges_s: tuple[int, ...]
    counts: list[int]


def response_histograms(incidents: QuerySet[Incident]) -> dict[str, Histogram]:
    """The distribution of every response interval in the statistics buckets. One query."""
    row = _alias_intervals(incidents.order_by()).aggregate(**histogram_aggregates())
    return {
        name: Histogram(HIST_EDGES_S, [int(row[col]) for col in hist_columns(prefix)])
        for name, prefix in INTERVAL_COLUMNS.items()
    }


@dataclass(frozen=True)
class HeatCell:
    lat: float
    lon: float
    n: int


def heat_cells(incidents: QuerySet[Incident]) -> list[HeatCell]:
    """Incidents counted per location rounded to HEAT_DECIMALS, heaviest first. One query."""
    rows = (
        incidents.order_by()
        .annotate(
            _lat=Round("lat", HEAT_DECIMALS, output_field=FloatField()),
            _lon=Round("lon", HEAT_DECIMALS, output_field=FloatField()),
        )
        .values("_lat", "_lon")
        .annotate(n=Count("id"))
        .order_by("-n", "_lat", "_lon")[:HEAT_MAX_CELLS]
    )
    return [HeatCell(float(r["_lat"]), float(r["_lon"]), int(r["n"])) for r in rows]


# --- The page ---------------------------------------------------------------------------------


def _response_columns() -> list[Column]:
    return [
        Column("total", _("Calls")),
        Column("transferred", _("Transferred")),
        Column("transfer_share", _("Transfer share"), Kind.RATE),
        Column("resolved_on_scene", _("Resolved on scene")),
        Column("on_scene_rate", _("On-scene resolution rate"), Kind.RATE),
        Column("ack_median", _("Acknowledge median (s)"), Kind.SECONDS),
        Column("ack_p90", _("Acknowledge p90 (s)"), Kind.SECONDS),
        Column("arrival_median", _("Arrival median (s)"), Kind.SECONDS),
        Column("arrival_p90", _("Arrival p90 (s)"), Kind.SECONDS),
        Column("ack_share", _("Acknowledged within target"), Kind.RATE),
        Column("arrival_share", _("Arrived within target"), Kind.RATE),
        Column("escalations", _("Escalations")),
        Column("breaches", _("Arrival targets missed")),
    ]


def _response_values(fig: ResponseFigures | None) -> dict[str, Any]:
    if fig is None:
        return {
            "total": 0,
            "transferred": 0,
            "resolved_on_scene": 0,
            "escalations": 0,
            "breaches": 0,
        }
    return {
        "total": fig.count,
        "transferred": fig.transferred,
        "transfer_share": rate(fig.transferred, fig.count),
        "resolved_on_scene": fig.resolved_on_scene,
        "on_scene_rate": fig.on_scene_rate,
        "ack_median": fig.dispatch_to_acknowledge.median_s,
        "ack_p90": fig.dispatch_to_acknowledge.p90_s,
        "arrival_median": fig.dispatch_to_arrival.median_s,
        "arrival_p90": fig.dispatch_to_arrival.p90_s,
        "ack_share": fig.acknowledge_target_share,
        "arrival_share": fig.arrival_target_share,
        "escalations": fig.escalations,
        "breaches": fig.breaches,
    }


def category_table(result: Summary) -> Table:
    """The summary by category (the model's report), with a total row."""
    table = Table(
        "category",
        _("Summary by category"),
        [
            Column("category", _("Category"), Kind.TEXT),
            Column("total", _("Calls")),
            Column("transferred", _("Transferred")),
            Column("transfer_share", _("Transfer share"), Kind.RATE),
            Column("resolved_on_scene", _("Resolved on scene")),
            Column("closed", _("Closed")),
            Column("on_scene_rate", _("On-scene resolution rate"), Kind.RATE),
        ],
    )
    labels = dict(Category.choices)
    for code, fig in result.by_category.items():
        table.add(
            {
                "category": str(labels[code]),
                "transfer_share": rate(fig.transferred, fig.total),
                **asdict(fig),
            }
        )
    table.add(
        {
            "category": str(_("All categories")),
            "total": result.total,
            "transferred": result.transferred,
            "transfer_share": result.transfer_share,
            "resolved_on_scene": result.resolved_on_scene,
            "closed": result.closed,
            "on_scene_rate": result.on_scene_rate,
        }
    )
    return table


PRESENCE_COLUMNS: tuple[tuple[str, Promise, tuple[str, ...]], ...] = (
    ("hours_patrolling", _("Hours patrolling"), (UnitStatus.PATROLLING,)),
    ("hours_at_post", _("Hours at post"), (UnitStatus.AVAILABLE,)),
    ("hours_travelling", _("Hours travelling"), (UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE)),
    ("hours_on_scene", _("Hours on scene"), (UnitStatus.ON_SCENE,)),
    ("hours_out_of_service", _("Hours out of service"), (UnitStatus.OUT_OF_SERVICE,)),
)


@dataclass
class Dashboard:
    start: date
    end: date
    summary: Summary
    days: list[DayFigures]
    histograms: dict[str, Histogram]
    heat: list[HeatCell]
    points: list[StagingPoint]
    tables: dict[str, Table]


def dashboard(
    *, start: date, end: date, filters: StatsFilter, now: datetime | None = None
) -> Dashboard:
    """Everything the dashboard shows for a period and filters; a bounded number of queries
    whatever the number of incidents, units or staging points.

    Staging point rows: the points the filters select (station, staging point) and any point
    whose area had a call; a call in no staging point's area gets its own row. Unit rows: the
    units the filters select (unit, their staging point, its station) and any unit that handled
    a call; street presence hours are the unit's whole period (not filtered by category/shift).
    """
    now = now or timezone.now()
    lo, hi = period_bounds(start, end)
    incidents = incidents_in(lo, hi, filters)
    result = summary(start=start, end=end, filters=filters, now=now)

    points_qs = StagingPoint.objects.order_by("code")
    if filters.station_id is not None:
        points_qs = points_qs.filter(station_id=filters.station_id)
    if filters.staging_point_id is not None:
        points_qs = points_qs.filter(pk=filters.staging_point_id)
    by_point = grouped_figures(incidents, "grid_cell__staging_point", now=now)
    point_ids = set(by_point) - {None}
    points = list(
        StagingPoint.objects.filter(Q(pk__in=points_qs.values("pk")) | Q(pk__in=point_ids))
        .select_related("station")
        .order_by("code")
    )
    points_table = Table(
        "staging_points",
        _("Per staging point"),
        [
            Column("code", _("Code"), Kind.TEXT),
            Column("name", _("Staging point"), Kind.TEXT),
            Column("station", _("Station"), Kind.TEXT),
            *_response_columns(),
        ],
    )
    for point in points:
        points_table.add(
            {
                "code": point.code,
                "name": point.name,
                "station": point.station.name,
                **_response_values(by_point.get(point.pk)),
            }
        )
    if None in by_point:
        points_table.add(
            {"name": str(_("Outside any staging point area")), **_response_values(by_point[None])}
        )

    units_qs = Unit.objects.all()
    if filters.unit_id is not None:
        units_qs = units_qs.filter(pk=filters.unit_id)
    if filters.staging_point_id is not None:
        units_qs = units_qs.filter(staging_point_id=filters.staging_point_id)
    if filters.station_id is not None:
        units_qs = units_qs.filter(staging_point__station_id=filters.station_id)
    by_unit = grouped_figures(incidents, "unit_id", now=now)
    units = list(
        Unit.objects.filter(Q(pk__in=units_qs.values("pk")) | Q(pk__in=set(by_unit) - {None}))
        .select_related("staging_point")
        .order_by("callsign")
    )
    presence = {
        p.unit_id: p
        for p in street_presence(start=start, end=end, unit_id=filters.unit_id, now=now)
    }
    units_table = Table(
        "units",
        _("Per unit"),
        [
            Column("callsign", _("Unit"), Kind.TEXT),
            Column("staging_point", _("Staging point"), Kind.TEXT),
            *_response_columns(),
            *[Column(key, label, Kind.HOURS) for key, label, _s in PRESENCE_COLUMNS],
        ],
    )
    for unit in units:
        hours: dict[str, float | None] = {}
        seen = presence.get(unit.pk)
        for key, _label, statuses in PRESENCE_COLUMNS:
            hours[key] = (
                None
                if seen is None
                else round(sum(seen.seconds.get(s, 0.0) for s in statuses) / 3600, 2)
            )
        units_table.add(
            {
                "callsign": unit.callsign,
                "staging_point": unit.staging_point.name if unit.staging_point else "",
                **_response_values(by_unit.get(unit.pk)),
                **hours,
            }
        )

    return Dashboard(
        start=start,
        end=end,
        summary=result,
        days=daily_figures(incidents, now=now),
        histograms=response_histograms(incidents),
        heat=heat_cells(incidents),
        points=points,
        tables={t.key: t for t in (category_table(result), points_table, units_table)},
    )
