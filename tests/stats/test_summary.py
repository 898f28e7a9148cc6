"""The summary: the definitions on hand-built incidents, filters, and the daily aggregates.

Incidents are created directly as rows with timestamps (see tests.support.factories.incident_row):
the lifecycle services are being written in parallel.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from apps.incidents.models import Incident, IncidentStatus
from apps.stats import selectors as stats
from apps.stats.models import DailyStats, StatsDay
from apps.stats.selectors import (
    IntervalFigures,
    StatsFilter,
    response_figures,
    summary,
)
from apps.stats.services import stats_rollup_day
from tests.support.factories import SH, at, incident_row, small_city
from tests.support.figures import (
    MODEL_END,
    MODEL_NUMBERS,
    MODEL_START,
    build_model_two_months,
    build_six,
)

pytestmark = pytest.mark.django_db

S = IncidentStatus


def roll_up(start: date, end: date, *, now: datetime) -> None:
    """Every day of [start, end] rolled up after it ended, as beat does."""
    day = start
    while day <= end:
        stats_rollup_day(day=day, now=now)
        day += timedelta(days=1)


def assert_model_report(result: stats.Summary) -> None:
    assert result.total == 5046
    assert result.transferred == 1088
    assert result.transfer_share == 0.2156
    assert result.closed == 5046
    assert {c: (f.total, f.transferred) for c, f in result.by_category.items()} == {
        str(c): v for c, v in MODEL_NUMBERS.items()
    }
    # Dispute: (1286 − 195) ÷ 1286 = 0.84837…; assistance: (2239 − 131) ÷ 2239 = 0.94149…
    assert result.by_category["dispute"].on_scene_rate == 0.8484
    assert result.by_category["assistance"].on_scene_rate == 0.9415
    assert result.by_category["dispute"].resolved_on_scene == 1091


def test_the_models_two_months_give_its_published_shares_from_raw_rows(monkeypatch) -> None:
    monkeypatch.setattr(stats, "EXACT_MAX_DAYS", 100)
    build_model_two_months(small_city())
    result = summary(start=MODEL_START, end=MODEL_END, now=at(10, 0))
    assert_model_report(result)
    assert (result.aggregated_days, result.raw_days) == (0, 61)
    assert result.response.exact is True


def test_the_models_two_months_give_the_same_counts_from_daily_aggregates() -> None:
    build_model_two_months(small_city())
    later = at(10, 0)
    roll_up(MODEL_START, MODEL_END, now=later)
    result = summary(start=MODEL_START, end=MODEL_END, now=later)
    assert (result.aggregated_days, result.raw_days) == (61, 0)
    assert_model_report(result)
    # Counts from the aggregates, percentiles from the rows: the same figures as the raw path.
    assert result.response == response_figures(Incident.objects.all(), now=later)


def test_a_short_period_is_exact_and_counts_cancelled_calls_in_the_total() -> None:
    build_six()
    result = summary(start=date(2026, 3, 2), end=date(2026, 3, 2), now=at(3, 0))
    assert (result.total, result.cancelled, result.transferred) == (6, 1, 2)
    assert result.transfer_share == 0.3333
    assert (result.resolved_on_scene, result.closed, result.on_scene_rate) == (2, 4, 0.5)
    assert result.by_category["dispute"] == stats.CategoryFigures(
        total=2, transferred=1, resolved_on_scene=1, closed=2, on_scene_rate=0.5
    )
    assert result.by_category["public_order"].on_scene_rate is None
    assert result.response == response_figures(Incident.objects.all(), now=at(3, 0))
    data = result.to_dict()
    assert data["start"] == "2026-03-02" and data["by_category"]["other"]["total"] == 1


def test_the_period_is_inclusive_in_shanghai_dates() -> None:
    city = small_city()
    # 23:59 on 1 March and 00:00 on 3 March (Asia/Shanghai) are outside [2 March, 2 March].
    for moment in (at(1, 23, 59), at(2, 0, 0), at(2, 23, 59), at(3, 0, 0)):
        incident_row(received_at=moment, status=S.RECEIVED, cell=city.cells[1])
    assert summary(start=date(2026, 3, 2), end=date(2026, 3, 2)).total == 2
    assert summary(start=date(2026, 3, 1), end=date(2026, 3, 3)).total == 4


def test_filters_narrow_the_incidents() -> None:
    build_six()
    city_unit = Incident.objects.get(category="criminal").unit
    day = date(2026, 3, 2)

    def total(**kw: object) -> int:
        return summary(start=day, end=day, filters=StatsFilter(**kw), now=at(3, 0)).total

    assert total(category="dispute") == 2
    assert total(unit_id=city_unit.pk) == 2  # the criminal and the cancelled call
    cell = Incident.objects.get(category="assistance").grid_cell
    assert total(grid_cell_id=cell.pk) == 1
    assert total(staging_point_id=cell.staging_point_id) == 2  # R0C1 and R1C1
    assert total(station_id=cell.staging_point.station_id) == 3  # cells 1, 5, 0 are west
    assert total(shift=1) == 6  # 10:00 is in shift 1 (08–16)
    assert total(shift=2) == 0


def test_a_long_period_mixes_rolled_up_days_and_raw_rows() -> None:
    city = small_city()
    unit, cell = city.units[1], city.cells[1]
    incident_row(
        received_at=at(1, 9, month=2),
        unit=unit,
        cell=cell,
        dispatch_s=10,
        ack_s=30,
        arrive_s=170,
        close_s=60,
    )
    incident_row(
        received_at=at(5, 9, month=3),
        unit=unit,
        cell=cell,
        dispatch_s=10,
        ack_s=30,
        arrive_s=250,
        close_s=60,
    )
    incident_row(
        received_at=at(10, 9),
        unit=unit,
        cell=cell,
        dispatch_s=10,
        ack_s=30,
        arrive_s=300,
        close_s=60,
        status=S.TRANSFER_PENDING,
    )
    incident_row(
        received_at=at(10, 9, 30),
        unit=unit,
        cell=cell,
        dispatch_s=10,
        ack_s=30,
        arrive_s=400,
        close_s=60,
    )
    now = at(10, 12)  # 10 March is today: always raw
    stats_rollup_day(day=date(2026, 2, 1), now=now)
    # Rolled up before the day ended: not trusted, read raw.
    stats_rollup_day(day=date(2026, 3, 5), now=at(5, 20))
    result = summary(start=date(2026, 2, 1), end=date(2026, 3, 10), now=now)
    assert (result.aggregated_days, result.raw_days) == (1, 37)
    assert (result.total, result.transferred, result.transfer_share) == (4, 1, 0.25)
    # Arrival times 170, 250, 300, 400 s, exact although a day comes from the aggregates:
    # median = (250 + 300) / 2, p90 = 300 + 0.7 × (400 − 300).
    assert result.response.dispatch_to_arrival == IntervalFigures(n=4, median_s=275.0, p90_s=370.0)
    assert result.response.arrival_within_target == 3


def test_rollup_is_idempotent_and_picks_up_later_changes() -> None:
    build_six()
    day = date(2026, 3, 2)
    assert stats_rollup_day(day=day, now=at(3, 0)) == 6
    rows = DailyStats.objects.filter(day=day).count()
    assert stats_rollup_day(day=day, now=at(3, 0)) == 6
    assert DailyStats.objects.filter(day=day).count() == rows
    pending = Incident.objects.get(status=S.TRANSFER_PENDING)
    Incident.objects.filter(pk=pending.pk).update(status=S.TRANSFER_RECEIVED)
    Incident.objects.filter(category="public_order").delete()
    assert stats_rollup_day(day=day, now=at(3, 1)) == 5
    marker = StatsDay.objects.get(day=day)
    assert marker.incidents == 5 and marker.rolled_at == at(3, 1)
    sums = DailyStats.objects.filter(day=day)
    assert sum(r.transferred for r in sums) == 2
    assert sum(r.total for r in sums if r.category == "dispute") == 2
    criminal = sums.get(category="criminal")
    assert criminal.shift == 1 and criminal.unit_id is not None
    assert (
        criminal.staging_point_id
        == Incident.objects.get(category="criminal").grid_cell.staging_point_id
    )
    assert criminal.day == at(2, 10).astimezone(SH).date()


def test_percentiles_over_61_rolled_up_days_are_exact_not_bucket_interpolations() -> None:
    """The issue's case: every acknowledgement took exactly 30 s, over 61 days read from the
    daily aggregates; the report must say 30 s (bucket interpolation said 38 s). The journeys are
    a hand-computed set: 0, 30, 60, … 1830 s (62 calls, two on the first day)."""
    city = small_city()
    arrivals = [30.0 * i for i in range(62)]
    first = at(9, 0) - timedelta(days=61)
    for i, arrive in enumerate(arrivals):
        incident_row(
            received_at=first + timedelta(days=max(i - 1, 0)),
            unit=city.units[0],
            dispatch_s=20,
            ack_s=30,
            arrive_s=arrive,
            close_s=600,
        )
    start = first.astimezone(SH).date()
    end = start + timedelta(days=60)
    later = at(10, 0)
    roll_up(start, end, now=later)
    result = summary(start=start, end=end, now=later)
    assert (result.aggregated_days, result.raw_days) == (61, 0)
    assert result.response.exact is True
    assert result.response.dispatch_to_acknowledge == IntervalFigures(
        n=62, median_s=30.0, p90_s=30.0
    )
    # percentile_cont: median at rank 30.5 = (900 + 930) / 2; p90 at rank 0.9 × 61 = 54.9 =
    # 1620 + 0.9 × 30.
    assert result.response.dispatch_to_arrival == IntervalFigures(
        n=62, median_s=915.0, p90_s=1647.0
    )
