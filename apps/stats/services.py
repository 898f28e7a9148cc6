"""The writes of the statistics service: the daily roll-up of the aggregates (see selectors.py for
the definitions and the design)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import DailyStats, StatsDay
from .selectors import (
    SUMMED_COLUMNS,
    StatsFilter,
    alias_intervals,
    count_aggregates,
    day_bounds,
    histogram_aggregates,
    incidents_in,
    shift_case,
)


def stats_rollup_day(*, day: date, now: datetime | None = None) -> int:
    """Recompute the DailyStats rows of one Asia/Shanghai day; returns the incidents counted.

    Idempotent: deletes and inserts the day's rows in one transaction with the day's StatsDay
    row locked (select_for_update), so concurrent rollups of one day run one after the other.
    """
    now = now or timezone.now()
    lo, hi = day_bounds(day)
    with transaction.atomic():
        StatsDay.objects.get_or_create(day=day, defaults={"rolled_at": now})
        marker = StatsDay.objects.select_for_update().get(day=day)
        DailyStats.objects.filter(day=day).delete()
        grouped = (
            alias_intervals(incidents_in(lo, hi, StatsFilter()))
            .annotate(_shift=shift_case(), _sp=F("grid_cell__staging_point_id"))
            .values("category", "station_id", "unit_id", "_sp", "_shift")
            .annotate(**count_aggregates(now), **histogram_aggregates())
        )
        rows = []
        for g in grouped:
            rows.append(
                DailyStats(
                    day=day,
                    category=g["category"],
                    station_id=g["station_id"],
                    staging_point_id=g["_sp"],
                    unit_id=g["unit_id"],
                    shift=g["_shift"],
                    **{col: g[col] for col in SUMMED_COLUMNS},
                )
            )
        DailyStats.objects.bulk_create(rows, batch_size=500)
        marker.rolled_at = now
        marker.incidents = sum(r.total for r in rows)
        marker.save(update_fields=["rolled_at", "incidents"])
    return marker.incidents
