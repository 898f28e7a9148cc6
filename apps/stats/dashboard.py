"""Reads of the commanders' dashboard (/command/stats/) that the statistics service lacks.

Every figure comes from apps/incidents/stats.py: the same incident set (``incidents_in``), the
same counted figures (``count_aggregates``), the same percentiles (``percentile_cont``) and the
same ``ResponseFigures``; here they are only grouped (per staging point, per unit, per day), each
group-by being one SQL aggregate query, never a query per row.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, FloatField, Q, QuerySet
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.incidents.models import AssignmentRole, Category, Incident, IncidentAssignment
from apps.units.models import StagingPoint, Unit, UnitStatus

from . import selectors
from .exports import Column, Kind, Table
from .models import COUNT_COLUMNS, HIST_EDGES_S, INTERVAL_COLUMNS, hist_columns
from .selectors import (
    EXACT_MAX_DAYS,
    IntervalFigures,
    ResponseFigures,
    StatsFilter,
    Summary,
    _figures_from,
    count_aggregates,
    incidents_in,
    interval_percentiles,
    intervals_of,
    period_bounds,
    rate,
    street_presence,
    summary,
)

# Heat layer: incidents grouped by location rounded to this many decimals (≈ 110 m × 100 m).
HEAT_DECIMALS = 3
# The heaviest cells only: a browser draws a few thousand rectangles without effort.
HEAT_MAX_CELLS = 4000


def grouped_figures(
    incidents: QuerySet[Incident], key: str, *, now: datetime
) -> dict[Hashable, ResponseFigures]:
    """``ResponseFigures`` per value of ``key`` (a field path such as ``unit_id``): the counts
    grouped in SQL, the exact interval percentiles (``interval_percentiles``). Two queries."""
    base = incidents.order_by()
    counts = {row[key]: row for row in base.values(key).annotate(**count_aggregates(now))}
    return _per_group(counts, interval_percentiles(base, key))


def _per_group(
    counts: Mapping[Hashable, Mapping[str, int]],
    intervals: Mapping[Hashable, Mapping[str, IntervalFigures]],
) -> dict[Hashable, ResponseFigures]:
    return {
        group: _figures_from(row, intervals_of(intervals, group)) for group, row in counts.items()
    }


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
        .annotate(_day=selectors.local_date())
        .values("_day", "category")
        .annotate(**count_aggregates(now))
        .order_by("_day", "category")
    )
    days: dict[date, dict[str, Any]] = {}
    for row in rows:
        day = days.setdefault(row["_day"], {"by_category": {}, **dict.fromkeys(_TARGET_COUNTS, 0)})
        day["by_category"][row["category"]] = row["total"]
        for col in _TARGET_COUNTS:
            day[col] += row[col]
    return [_day_figures(d, v) for d, v in sorted(days.items())]


_TARGET_COUNTS = ("ack_due", "ack_met", "arrival_due", "arrival_met")


def _day_figures(day: date, v: dict[str, Any]) -> DayFigures:
    return DayFigures(
        day=day,
        by_category=v["by_category"],
        acknowledge_due=v["ack_due"],
        acknowledge_within_target=v["ack_met"],
        arrival_due=v["arrival_due"],
        arrival_within_target=v["arrival_met"],
    )


@dataclass(frozen=True)
class Histogram:
    """Counts of one response interval in the buckets [edges[i], edges[i+1]) (last: open)."""

    edges_s: tuple[int, ...]
    counts: list[int]


def response_histograms(incidents: QuerySet[Incident]) -> dict[str, Histogram]:
    """The distribution of every response interval in the statistics buckets. One query."""
    row = selectors.grouped_sums(
        incidents, (), now=timezone.now(), columns=selectors.ALL_HIST_COLUMNS
    )[()]
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


# --- Long periods: the daily aggregates ----------------------------------------------------

# Group keys: (DailyStats column, expression on incidents).
GROUP_KEYS: dict[str, tuple[str, str]] = {
    "staging_point": ("staging_point_id", "grid_cell__staging_point"),
    "unit": ("unit_id", "unit_id"),
    "day": ("day", "_day"),
    "category": ("category", "category"),
    "all": ("", ""),
}


def backups_per_unit(*, start: date, end: date) -> dict[int, int]:
    """How often each unit was sent as a backup (增援) in the period: the per-unit figures count
    every assignment, while the response figures stay the primary's (the incident's own)."""
    lo, hi = period_bounds(start, end)
    rows = (
        IncidentAssignment.objects.filter(
            role=AssignmentRole.BACKUP, dispatched_at__gte=lo, dispatched_at__lt=hi
        )
        .order_by()
        .values("unit_id")
        .annotate(n=Count("id"))
    )
    return {row["unit_id"]: row["n"] for row in rows}


def uses_aggregates(start: date, end: date, filters: StatsFilter) -> bool:
    """As ``stats.summary``: periods longer than EXACT_MAX_DAYS read the daily aggregates."""
    return (end - start).days + 1 > EXACT_MAX_DAYS and filters.grid_cell_id is None


def period_sums(
    *,
    start: date,
    end: date,
    filters: StatsFilter,
    now: datetime,
    keys: tuple[str, ...],
) -> dict[tuple[Hashable, ...], dict[str, int]]:
    """Summed counts (for the key ``all``: the interval histograms) per group, as
    ``stats.summary`` sums them (``selectors.period_sums``): the aggregates for the days rolled
    up after they ended, the incidents themselves for the other days. Two queries."""
    return selectors.period_sums(
        start=start,
        end=end,
        filters=filters,
        now=now,
        keys=tuple(k for k in keys if k != "all"),  # the names of selectors.SUM_KEYS
        columns=selectors.ALL_HIST_COLUMNS if "all" in keys else COUNT_COLUMNS,
    ).groups


def period_grouped_figures(
    *, start: date, end: date, filters: StatsFilter, key: str, now: datetime
) -> dict[Hashable, ResponseFigures]:
    """``grouped_figures`` of a period (``key``: ``staging_point`` or ``unit``): the counts from
    the incidents for short periods and from the daily aggregates for long ones; the percentiles
    exact from the incidents either way (as ``stats.summary``)."""
    lo, hi = period_bounds(start, end)
    incidents = incidents_in(lo, hi, filters)
    if not uses_aggregates(start, end, filters):
        return grouped_figures(incidents, GROUP_KEYS[key][1], now=now)
    sums = period_sums(start=start, end=end, filters=filters, now=now, keys=(key,))
    counts = {group[0]: {col: s.get(col, 0) for col in COUNT_COLUMNS} for group, s in sums.items()}
    return _per_group(counts, interval_percentiles(incidents, GROUP_KEYS[key][1]))


def period_daily_figures(
    *, start: date, end: date, filters: StatsFilter, now: datetime
) -> list[DayFigures]:
    if not uses_aggregates(start, end, filters):
        lo, hi = period_bounds(start, end)
        return daily_figures(incidents_in(lo, hi, filters), now=now)
    sums = period_sums(start=start, end=end, filters=filters, now=now, keys=("day", "category"))
    days: dict[date, dict[str, Any]] = {}
    for (day, category), s in sums.items():
        assert isinstance(day, date)
        entry = days.setdefault(day, {"by_category": {}, **dict.fromkeys(_TARGET_COUNTS, 0)})
        entry["by_category"][category] = entry["by_category"].get(category, 0) + s.get("total", 0)
        for col in _TARGET_COUNTS:
            entry[col] += s.get(col, 0)
    return [_day_figures(d, v) for d, v in sorted(days.items())]


def period_histograms(
    *, start: date, end: date, filters: StatsFilter, now: datetime
) -> dict[str, Histogram]:
    if not uses_aggregates(start, end, filters):
        lo, hi = period_bounds(start, end)
        return response_histograms(incidents_in(lo, hi, filters))
    sums = period_sums(start=start, end=end, filters=filters, now=now, keys=("all",)).get((), {})
    return {
        name: Histogram(HIST_EDGES_S, [sums.get(col, 0) for col in hist_columns(prefix)])
        for name, prefix in INTERVAL_COLUMNS.items()
    }


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
        Column("ack_late", _("Not acknowledged within target")),
        Column("arrival_share", _("Arrived within target"), Kind.RATE),
        Column("arrival_late", _("Not arrived within target")),
        # Recorded by the live timers (apps/incidents/deadlines.py): an imported call had none,
        # so these are not the complements of the shares (which read every call's times).
        Column("escalations", _("Live escalations")),
        Column("breaches", _("Live arrival alarms")),
    ]


def late_acknowledgements(fig: ResponseFigures) -> int:
    """Calls due for the acknowledge target that missed it (late or never): the complement of
    the share, from the same timestamps."""
    return fig.acknowledge_due - fig.acknowledge_within_target


def late_arrivals(fig: ResponseFigures) -> int:
    """Calls due for the arrival target that missed it: the complement of the share."""
    return fig.arrival_due - fig.arrival_within_target


def _response_values(fig: ResponseFigures | None) -> dict[str, Any]:
    if fig is None:
        return {
            "total": 0,
            "transferred": 0,
            "resolved_on_scene": 0,
            "ack_late": 0,
            "arrival_late": 0,
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
        "ack_late": late_acknowledgements(fig),
        "arrival_share": fig.arrival_target_share,
        "arrival_late": late_arrivals(fig),
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
    # Calls of the period imported from history: no live timers, so no escalation or arrival
    # alarm could be recorded for them.
    imported: int

    @property
    def live(self) -> int:
        return self.summary.total - self.imported

    @property
    def ack_late(self) -> int:
        return late_acknowledgements(self.summary.response)

    @property
    def arrival_late(self) -> int:
        return late_arrivals(self.summary.response)


def dashboard(
    *, start: date, end: date, filters: StatsFilter, now: datetime | None = None
) -> Dashboard:
    """Everything the dashboard shows for a period and filters; a bounded number of queries
    whatever the number of incidents, units or staging points.

    Staging point rows: the points the filters select (station, staging point) and any point
    whose area had a call; a call in no staging point's area gets its own row. Unit rows: the
    units the filters select (unit, their staging point, its station) and any unit that handled
    a call; street presence hours are the unit's whole period (not filtered by category/shift).
    Long periods (see ``uses_aggregates``) read the daily aggregates as ``stats.summary`` does;
    the heat layer always reads the incidents (locations are not aggregated).
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
    by_point = period_grouped_figures(
        start=start, end=end, filters=filters, key="staging_point", now=now
    )
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
    by_unit = period_grouped_figures(start=start, end=end, filters=filters, key="unit", now=now)
    units = list(
        Unit.objects.filter(Q(pk__in=units_qs.values("pk")) | Q(pk__in=set(by_unit) - {None}))
        .select_related("staging_point")
        .order_by("callsign")
    )
    presence = {
        p.unit_id: p
        for p in street_presence(start=start, end=end, unit_id=filters.unit_id, now=now)
    }
    backups = backups_per_unit(start=start, end=end)
    units_table = Table(
        "units",
        _("Per unit"),
        [
            Column("callsign", _("Unit"), Kind.TEXT),
            Column("staging_point", _("Staging point"), Kind.TEXT),
            *_response_columns(),
            Column("backups", _("Sent as backup"), Kind.COUNT),
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
                "backups": backups.get(unit.pk, 0),
                **hours,
            }
        )
    unknown = by_unit.get(None)
    if unknown is not None and unknown.intake_to_dispatch.n:
        # Calls that were answered by a unit nobody recorded: imported from a 110 platform's
        # export, which has no unit column. (Calls cancelled before any dispatch had no unit.)
        units_table.add({"callsign": str(_("No unit recorded")), **_response_values(unknown)})

    return Dashboard(
        start=start,
        end=end,
        summary=result,
        days=period_daily_figures(start=start, end=end, filters=filters, now=now),
        histograms=period_histograms(start=start, end=end, filters=filters, now=now),
        heat=heat_cells(incidents),
        points=points,
        tables={t.key: t for t in (category_table(result), points_table, units_table)},
        imported=incidents.filter(imported=True).count(),
    )
