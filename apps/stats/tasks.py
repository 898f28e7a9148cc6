"""Celery tasks of the statistics: keeping the daily aggregates (names kept from the time they
belonged to the incidents app, so queued messages still run).

Tasks take plain values and call the statistics service; each is idempotent (a rollup replaces
its day's rows as a whole), so a redelivered or duplicated task does no harm.
"""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task

from . import selectors, services


@shared_task(name="incidents.stats_rollup_day")
def stats_rollup_day(day: str) -> int:
    """Recompute the aggregates of one Asia/Shanghai day (ISO date); returns its incidents."""
    return services.stats_rollup_day(day=date.fromisoformat(day))


@shared_task(name="incidents.stats_rollup_recent")
def stats_rollup_recent(days: int = 2) -> dict[str, int]:
    """Roll up today and the days before it (beat: today + yesterday every few minutes, the
    last week nightly, which picks up late changes such as transfers received days later)."""
    today = selectors.local_today()
    done: dict[str, int] = {}
    for back in range(max(days, 1)):
        day = today - timedelta(days=back)
        done[day.isoformat()] = services.stats_rollup_day(day=day)
    return done
