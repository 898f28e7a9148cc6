"""The beat task keeping the daily aggregates (run in-process with ``apply``).

Incidents are created directly as rows with timestamps (see tests.support.factories.incident_row).
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.conf import settings

from apps.stats.models import DailyStats, StatsDay
from apps.stats.tasks import stats_rollup_day, stats_rollup_recent
from tests.support.factories import at, incident_row, small_city

pytestmark = pytest.mark.django_db


def test_the_recent_rollup_covers_today_and_yesterday_and_is_repeatable() -> None:
    city = small_city()
    incident_row(received_at=at(1, 23), status="received", cell=city.cells[1])
    incident_row(received_at=at(2, 9), status="received", cell=city.cells[1])
    incident_row(received_at=at(2, 9, 5), status="received", cell=city.cells[2])
    with time_machine.travel(at(2, 12), tick=False):
        first = stats_rollup_recent.apply(kwargs={"days": 2}).get()
        again = stats_rollup_recent.apply(kwargs={"days": 2}).get()
    assert first == again == {"2026-03-02": 2, "2026-03-01": 1}
    assert sorted(StatsDay.objects.values_list("day", flat=True)) == [
        date(2026, 3, 1),
        date(2026, 3, 2),
    ]
    assert sum(DailyStats.objects.values_list("total", flat=True)) == 3


def test_a_day_is_rolled_up_by_its_iso_date() -> None:
    city = small_city()
    incident_row(received_at=at(2, 9), status="received", cell=city.cells[1])
    assert stats_rollup_day.apply(args=["2026-03-02"]).get() == 1


def test_beat_schedules_the_recent_rollup() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "incidents.stats_rollup_recent" in tasks
