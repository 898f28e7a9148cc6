"""The 3- and 5-minute arrival shares apart (issue 15): counted by the summary, kept by the daily
roll-ups, printed by stats_report; a rolled-up period gives the same figures as its incidents.

The arrival calls below, received at 10:00 on 2 March 2026 in factories.small_city (R0C0 is the
priority zone), offsets in seconds after dispatch:

    target    call                                       arrival  counts
    3 min     R0C0                                       170      met
    3 min     R0C0                                       180      met (the bound is inclusive)
    3 min     R0C1, priority 1 (紧急: the shorter target)  200      missed
    3 min     R0C0, cancelled before arriving            —        not due
    5 min     R0C1                                       250      met
    5 min     R0C2                                       301      missed
    5 min     R1C3                                       400      missed
    5 min     R1C1, dispatched, never arrived            —        missed (overdue, not cancelled)

3-minute share 2/3 = 66.7%, 5-minute share 1/4 = 25.0%, together 3/7.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.incidents.models import Incident, IncidentStatus
from apps.stats.dashboard import Dashboard, dashboard
from apps.stats.models import DailyStats, StatsDay
from apps.stats.selectors import StatsFilter, Summary, summary
from apps.stats.services import stats_rollup_day
from tests.support.factories import SmallCity, at, incident_row, small_city
from tests.support.figures import MODEL_END, MODEL_START, build_model_two_months

pytestmark = pytest.mark.django_db

S = IncidentStatus
DAY = date(2026, 3, 2)
LATER = at(10, 0)  # every target long passed


def build_arrivals(city: SmallCity | None = None) -> None:
    city = city or small_city()
    c, u = city.cells, city.units
    t0 = at(2, 10)

    def call(cell: int, arrive_s: float | None, **extra: Any) -> Incident:
        return incident_row(
            received_at=t0, cell=c[cell], unit=u[0], dispatch_s=20, ack_s=30, arrive_s=arrive_s,
            **extra,
        )  # fmt: skip

    call(0, 170)
    call(0, 180)
    urgent = call(1, 200)
    Incident.objects.filter(pk=urgent.pk).update(priority=1)
    call(0, None, status=S.CANCELLED)
    call(1, 250)
    call(2, 301)
    call(7, 400)
    call(5, None, status=S.DISPATCHED)


def roll_up(start: date, end: date) -> None:
    day = start
    while day <= end:
        stats_rollup_day(day=day, now=LATER)
        day += timedelta(days=1)


def test_the_summary_counts_each_arrival_against_its_own_target() -> None:
    build_arrivals()
    r = summary(start=DAY, end=DAY, now=LATER).response
    assert (r.arrival_zone_due, r.arrival_zone_within_target) == (3, 2)
    assert (r.arrival_standard_due, r.arrival_standard_within_target) == (4, 1)
    assert (r.arrival_due, r.arrival_within_target) == (7, 3)
    assert (r.arrival_zone_target_share, r.arrival_standard_target_share) == (0.6667, 0.25)


def test_the_rollup_keeps_the_priority_zone_part_of_the_arrival_counts() -> None:
    build_arrivals()
    stats_rollup_day(day=DAY, now=LATER)
    rows = DailyStats.objects.filter(day=DAY)
    assert sum(r.arrival_zone_due for r in rows) == 3
    assert sum(r.arrival_zone_met for r in rows) == 2
    assert sum(r.arrival_due for r in rows) == 7
    assert sum(r.arrival_met for r in rows) == 3


def report(*args: str) -> list[str]:
    out = StringIO()
    call_command("stats_report", "--start", "2026-03-02", "--end", "2026-03-02", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_report_prints_the_3_and_5_minute_arrival_shares_apart() -> None:
    build_arrivals()
    english = report("--lang", "en")
    assert "arrived within 3 minutes (priority zone) 66.7%, within 5 minutes 25.0%;" in (english[4])
    chinese = report()
    assert "3分钟到达率（重点区域）66.7%，5分钟到达率25.0%；" in chinese[4]


def figures(result: Summary) -> dict[str, Any]:
    data = result.to_dict()
    del data["aggregated_days"], data["raw_days"]
    return data


def board(data: Dashboard) -> dict[str, Any]:
    return {
        "days": [asdict(d) for d in data.days],
        "histograms": {k: asdict(h) for k, h in data.histograms.items()},
        "tables": {k: t.rows for k, t in data.tables.items()},
    }


def test_a_long_period_gives_the_same_figures_from_its_incidents_and_from_the_rollups() -> None:
    city = small_city()
    build_model_two_months(city)
    build_arrivals(city)
    # Filters on the keys of the roll-ups too.
    filters = [
        StatsFilter(),
        StatsFilter(category="dispute"),
        StatsFilter(shift=2),
        StatsFilter(staging_point_id=city.points[0].pk),
        StatsFilter(station_id=city.stations[1].pk),
        StatsFilter(unit_id=city.units[0].pk),
    ]

    def period(f: StatsFilter) -> Summary:
        return summary(start=MODEL_START, end=MODEL_END, filters=f, now=LATER)

    raw = [period(f) for f in filters]
    raw_board = dashboard(start=MODEL_START, end=MODEL_END, filters=StatsFilter(), now=LATER)
    assert {(r.aggregated_days, r.raw_days) for r in raw} == {(0, 61)}
    roll_up(MODEL_START, MODEL_END)
    rolled = [period(f) for f in filters]
    assert {(r.aggregated_days, r.raw_days) for r in rolled} == {(61, 0)}
    assert [figures(r) for r in rolled] == [figures(r) for r in raw]
    # Both parts of the arrival target are in the data (the model's calls are priority 2, an
    # eighth of them in the zone).
    assert rolled[0].response.arrival_zone_due > 3
    assert rolled[0].response.arrival_standard_due > 4
    rolled_board = dashboard(start=MODEL_START, end=MODEL_END, filters=StatsFilter(), now=LATER)
    assert board(rolled_board) == board(raw_board)


def test_stats_rollup_rolls_up_every_day_of_the_range() -> None:
    build_arrivals()
    out = StringIO()
    call_command("stats_rollup", "--start", "2026-03-01", "--end", "2026-03-03", stdout=out)
    assert sorted(StatsDay.objects.values_list("day", flat=True)) == [
        date(2026, 3, 1),
        DAY,
        date(2026, 3, 3),
    ]
    assert sum(DailyStats.objects.values_list("arrival_zone_due", flat=True)) == 3
    assert out.getvalue().strip() == "已重算 3 天的统计（8 起警情）。"


@pytest.mark.django_db(transaction=True)
def test_migrating_drops_the_rollups_that_lack_the_priority_zone_counts() -> None:
    before = [("stats", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    OldStatsDay = old_apps.get_model("stats", "StatsDay")
    OldDailyStats = old_apps.get_model("stats", "DailyStats")
    OldStatsDay.objects.create(day=DAY, rolled_at=timezone.now(), incidents=7)
    OldDailyStats.objects.create(day=DAY, category="dispute", shift=1, total=7, arrival_due=7)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    # The day is no longer taken as rolled up: its figures come from the incidents.
    assert not StatsDay.objects.exists()
    assert not DailyStats.objects.exists()
