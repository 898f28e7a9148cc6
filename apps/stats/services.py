"""The writes of the statistics service: the daily roll-up of the aggregates (see selectors.py for
the definitions and the design)."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from django.db import transaction
from django.utils import timezone

from .models import DailyStats, StatsDay
from .selectors import SUMMED_COLUMNS, StatsFilter, day_bounds, grouped_sums, incidents_in

# The keys of a DailyStats row besides its day.
ROLLUP_KEYS = ("category", "station", "unit", "staging_point", "shift")


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
        grouped = grouped_sums(
            incidents_in(lo, hi, StatsFilter()), ROLLUP_KEYS, now=now, columns=SUMMED_COLUMNS
        )
        rows = []
        for key, sums in grouped.items():
            category, station_id, unit_id, staging_point_id, shift = cast(
                tuple[str, int | None, int | None, int | None, int], key
            )
            rows.append(
                DailyStats(
                    day=day,
                    category=category,
                    station_id=station_id,
                    unit_id=unit_id,
                    staging_point_id=staging_point_id,
                    shift=shift,
                    **{col: sums[col] for col in SUMMED_COLUMNS},
                )
            )
        DailyStats.objects.bulk_create(rows, batch_size=500)
        marker.rolled_at = now
        marker.incidents = sum(r.total for r in rows)
        marker.save(update_fields=["rolled_at", "incidents"])
    return marker.incidents


def stats_days_forget(*, days: list[date]) -> int:
    """Drop the roll-ups of these days (their incidents changed and the roll-up did not run):
    the summary computes them from the incidents until they are rolled up again."""
    with transaction.atomic():
        DailyStats.objects.filter(day__in=days).delete()
        deleted, _ = StatsDay.objects.filter(day__in=days).delete()
    return deleted
