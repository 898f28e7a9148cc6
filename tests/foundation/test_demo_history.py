"""The demo city's last two months: incidents with the model's load and mix, rolled up into the
statistics, and the force's assessments, training, mentoring and care — loaded once.

The model (Simao, two months): 5,046 calls, 1,088 (21.6%) transferred to the station; disputes
resolved on scene 84.8%, assistance 94.1%.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import models
from django.utils import translation

from apps.common.geo import haversine_m
from apps.demo.city import (
    AREA_EAST,
    AREA_NORTH,
    AREA_SOUTH,
    AREA_WEST,
    SEED,
    STAGING_POINTS,
    nearest_point,
    unit_callsign,
)
from apps.demo.history import (
    MODEL_CALLS,
    Area,
    HistoricalCall,
    history_calls,
    history_days,
    history_load,
)
from apps.incidents.models import Category, Incident, IncidentAssignment
from apps.personnel.models import (
    Assessment,
    AssessmentAdjustment,
    AssessmentPeriod,
    AssessmentScore,
    CareRecord,
    ModelStatus,
    PeriodStatus,
    SchemeItemCode,
)
from apps.stats.models import DailyStats, StatsDay
from apps.stats.selectors import summary
from apps.training.models import Attendance, Mentorship, SignOff, TrainingSession
from apps.training.selectors import daily_roster

SH = ZoneInfo("Asia/Shanghai")
# A Monday morning in March: the history is 14 January – 15 March, over three months.
NOW = datetime(2026, 3, 16, 10, 30, tzinfo=SH)
TODAY = NOW.date()
CALLSIGNS = [unit_callsign(i) for i in range(len(STAGING_POINTS))]
AREA = Area(AREA_SOUTH, AREA_WEST, AREA_NORTH, AREA_EAST)


def calls_of(days: list[date]) -> list[HistoricalCall]:
    return list(
        history_calls(days=days, points=STAGING_POINTS, callsigns=CALLSIGNS, area=AREA, seed=SEED)
    )


# --- The generator (no database) ----------------------------------------------------------------


def test_the_history_is_the_61_days_before_today() -> None:
    days = history_days(TODAY)
    assert len(days) == 61
    assert days[0] == date(2026, 1, 14) and days[-1] == date(2026, 3, 15)


def test_a_day_is_drawn_the_same_whatever_window_it_is_in() -> None:
    day = date(2026, 2, 10)
    alone = calls_of([day])
    in_window = [c for c in calls_of(history_days(TODAY)[20:40]) if c.received_at.date() == day]
    assert alone == in_window and alone
    assert [c.number for c in alone] == [f"DEMO-20260210-{n:04d}" for n in range(1, len(alone) + 1)]


def test_the_calls_have_the_models_load_mix_and_plausible_times() -> None:
    calls = calls_of(history_days(TODAY))
    assert abs(len(calls) - MODEL_CALLS) <= 0.04 * MODEL_CALLS
    categories = Counter(c.category for c in calls)
    # 刑事 327, 治安 459, 纠纷 1286, 救助 2239, 其它 735 of 5046
    assert categories[Category.ASSISTANCE] > categories[Category.DISPUTE] > categories["other"]
    assert categories["other"] > categories[Category.PUBLIC_ORDER] > categories[Category.CRIMINAL]
    hours = Counter(c.received_at.astimezone(SH).hour for c in calls)
    assert sum(hours[h] for h in (19, 20, 21)) > 4 * sum(hours[h] for h in (3, 4, 5))
    for c in calls:
        assert c.received_at.astimezone(SH).date() == date.fromisoformat(
            f"{c.number[5:9]}-{c.number[9:11]}-{c.number[11:13]}"
        )
        assert 15 <= (c.dispatched_at - c.received_at).total_seconds() <= 75
        assert c.dispatched_at < c.acknowledged_at < c.arrived_at < c.closed_at
        assert 10 * 60 <= (c.closed_at - c.arrived_at).total_seconds() <= 90 * 60
        assert AREA_SOUTH < c.lat < AREA_NORTH and AREA_WEST < c.lon < AREA_EAST
        assert c.unit == CALLSIGNS[STAGING_POINTS.index(nearest_point(c.lat, c.lon))]
    ack = sorted((c.acknowledged_at - c.dispatched_at).total_seconds() for c in calls)
    assert 0.85 < sum(s <= 60 for s in ack) / len(ack) < 0.97  # mostly within the minute
    assert ack[-1] > 90  # with a tail
    arrival = [(c.arrived_at - c.dispatched_at).total_seconds() for c in calls]
    assert 0.75 < sum(s <= 300 for s in arrival) / len(arrival) < 0.97  # most, not all
    # Clustered: most calls within 1.5 km of a staging point (its unit reaches them in time).
    near = sum(
        min(haversine_m(c.lat, c.lon, p.lat, p.lon) for p in STAGING_POINTS) < 1500 for c in calls
    )
    assert near / len(calls) > 0.8


# --- Loading ----------------------------------------------------------------------------------

TABLES: tuple[type[models.Model], ...] = (
    Incident,
    IncidentAssignment,
    StatsDay,
    DailyStats,
    AssessmentPeriod,
    Assessment,
    AssessmentScore,
    AssessmentAdjustment,
    TrainingSession,
    Attendance,
    Mentorship,
    SignOff,
    CareRecord,
)


def counts() -> dict[str, int]:
    return {m.__name__: m._default_manager.count() for m in TABLES}


def load(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("load_demo_city", "--password", "pw", "--quiet", *args, stdout=out, stderr=err)
    assert err.getvalue() == ""  # --quiet: no progress
    return out.getvalue()


@pytest.mark.django_db
def test_an_empty_database_gets_two_months_of_history_and_a_second_run_adds_nothing() -> None:
    with time_machine.travel(NOW, tick=True):
        first = load()
        after_first = counts()
        days = history_days(TODAY)
        figures = summary(start=days[0], end=days[-1])

        # The dashboard's figures, computed from the incidents by the statistics service.
        assert abs(figures.total - 5046) <= 0.04 * 5046
        assert figures.transfer_share == pytest.approx(1088 / 5046, abs=0.015)
        dispute = figures.by_category[Category.DISPUTE]
        assistance = figures.by_category[Category.ASSISTANCE]
        assert dispute.on_scene_rate == pytest.approx(0.848, abs=0.04)
        assert assistance.on_scene_rate == pytest.approx(0.941, abs=0.025)
        assert figures.cancelled == 0 and figures.closed == figures.total
        assert 0.85 < (figures.response.acknowledge_target_share or 0) < 0.97
        assert 0.75 < (figures.response.arrival_target_share or 0) < 0.97
        assert figures.aggregated_days == 61  # every day rolled up after it ended
        assert Incident.objects.filter(grid_cell__isnull=True).count() == 0
        assert Incident.objects.filter(station__isnull=True).count() == 0
        assert f"History: {figures.total} incidents" in first

        # Assessment: January and February closed (call handling from the incidents), March open.
        periods = {p.month: p for p in AssessmentPeriod.objects.all()}
        assert sorted(periods) == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
        assert [periods[date(2026, m, 1)].status for m in (1, 2, 3)] == [
            PeriodStatus.CLOSED,
            PeriodStatus.CLOSED,
            PeriodStatus.OPEN,
        ]
        february = periods[date(2026, 2, 1)]
        assert february.assessments.count() == 224
        assert february.assessments.filter(total__isnull=True).count() == 0
        handled = AssessmentScore.objects.filter(
            assessment__period=february, item__code=SchemeItemCode.CALL_HANDLING
        )
        assert handled.count() == 144  # the auxiliaries of the staging points' shifts
        assert (
            periods[date(2026, 1, 1)]
            .assessments.filter(model_status=ModelStatus.CONFIRMED)
            .exists()
        )
        assert february.assessments.filter(model_status=ModelStatus.PROPOSED).exists()

        # Training: every day, two of the six auxiliaries of each staging point's shift (one
        # third) are in a session; the roster keeps two thirds on the street. Past sessions
        # have their attendance recorded (a few absent), the coming ones planned.
        sessions = TrainingSession.objects.filter(starts_at__date__gte=days[0])
        assert sessions.count() == 3 * (61 + 1 + 6)
        per_session = Counter(Attendance.objects.values_list("session_id", flat=True))
        assert set(per_session.values()) == {16}
        for day in (days[-1], TODAY + timedelta(days=3)):
            rows = daily_roster(day=day)
            assert len(rows) == 24
            for row in rows:
                assert 1 <= len(row.in_training) <= 2 and not row.warnings
        assert all(len(row.in_training) == 2 for row in daily_roster(day=TODAY + timedelta(3)))
        assert Attendance.objects.filter(status="present").exists()
        assert Attendance.objects.filter(session__starts_at__gt=NOW, status="planned").exists()

        assert Mentorship.objects.count() == 16
        assert SignOff.objects.filter(competency__code="call-taking").count() == 8
        assert 3 <= CareRecord.objects.count() <= 10

        again = load()
        assert counts() == after_first
        assert "0 rows created" in again and "(0 written now)" in again


@pytest.mark.django_db
def test_a_day_written_in_part_is_completed_and_rolled_up_again() -> None:
    """What an interrupted load leaves (some of a day's incidents, no roll-up) is completed."""
    call_command("load_demo_city", "--password", "pw", "--no-history", stdout=io.StringIO())
    day = date(2026, 2, 10)
    calls = calls_of([day])
    first = history_load(days=[day], calls=calls[:10])
    assert first.created == 10 and first.days_rolled_up == 1
    StatsDay.objects.all().delete()
    DailyStats.objects.all().delete()

    rest = history_load(days=[day], calls=calls)
    assert rest.created == len(calls) - 10 and rest.days_rolled_up == 1
    assert summary(start=day, end=day).total == len(calls)
    assert sum(DailyStats.objects.values_list("total", flat=True)) == len(calls)
    assert history_load(days=[day], calls=calls).created == 0
