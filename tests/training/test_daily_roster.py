"""The 2/3 street, 1/3 training rule: the daily roster per staging point and shift."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import translation

from apps.personnel.models import Assignment, Person, TeamRole
from apps.training.models import Attendance, AttendanceStatus, SessionType, TrainingSession
from apps.training.selectors import daily_roster
from apps.units.models import StagingPoint
from tests.support.factories import PersonFactory, StagingPointFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The warnings are asserted in the source language (the default is zh-Hans)."""
    with translation.override("en"):
        yield


def crew(point: StagingPoint, shift: int | None, n: int) -> list[Person]:
    people = [PersonFactory() for _ in range(n)]
    for p in people:
        Assignment.objects.create(
            person=p,
            staging_point=point,
            shift=shift,
            team_role=TeamRole.MEMBER if shift else TeamRole.RESPONSIBLE_OFFICER,
            valid_from=datetime(2026, 1, 1, tzinfo=SH),
        )
    return people


def training(
    people: list[Person],
    start: datetime,
    hours: int = 2,
    status: AttendanceStatus = AttendanceStatus.PLANNED,
) -> TrainingSession:
    session = TrainingSession.objects.create(
        type=SessionType.DRILL, starts_at=start, ends_at=start + timedelta(hours=hours)
    )
    for p in people:
        Attendance.objects.create(session=session, person=p, status=status)
    return session


def test_one_third_in_training_keeps_the_rule_without_warnings() -> None:
    point = StagingPointFactory()
    people = crew(point, 1, 6)
    training(people[:2], datetime(2026, 3, 10, 9, tzinfo=SH))
    [row] = daily_roster(day=DAY, staging_point=point, shift=1)
    assert len(row.rostered) == 6 and len(row.in_training) == 2 and len(row.on_street) == 4
    assert row.street_share == pytest.approx(4 / 6)
    assert row.warnings == []


def test_fewer_than_two_thirds_on_the_street_is_warned() -> None:
    point = StagingPointFactory()
    people = crew(point, 1, 6)
    training(people[:3], datetime(2026, 3, 10, 9, tzinfo=SH))
    [row] = daily_roster(day=DAY, staging_point=point, shift=1)
    assert len(row.on_street) == 3
    assert any("two thirds" in w for w in row.warnings)
    assert not any("minimum crew" in w for w in row.warnings)


@override_settings(MIN_CREW_ON_STREET=2)
def test_a_unit_left_below_its_minimum_crew_is_warned() -> None:
    point = StagingPointFactory()
    people = crew(point, 2, 3)
    training(people[:2], datetime(2026, 3, 10, 17, tzinfo=SH))
    [row] = daily_roster(day=DAY, staging_point=point, shift=2)
    assert [p.pk for p in row.on_street] == [people[2].pk]
    assert any("minimum crew of 2" in w for w in row.warnings)


def test_training_outside_the_shift_or_excused_does_not_count() -> None:
    point = StagingPointFactory()
    people = crew(point, 1, 3)
    training(people[:1], datetime(2026, 3, 10, 18, tzinfo=SH))  # during shift 2
    training(people[1:2], datetime(2026, 3, 10, 9, tzinfo=SH), status=AttendanceStatus.EXCUSED)
    [row] = daily_roster(day=DAY, staging_point=point, shift=1)
    assert row.in_training == []
    assert row.warnings == []


def test_the_responsible_officer_is_rostered_in_every_shift_and_each_shift_is_a_row() -> None:
    point = StagingPointFactory()
    [officer] = crew(point, None, 1)
    crew(point, 3, 2)
    rows = daily_roster(day=DAY, staging_point=point)
    assert [r.shift for r in rows] == [1, 2, 3]
    assert all(officer in r.rostered for r in rows)
    assert len(rows[2].rostered) == 3
    # Shift 1 has only the officer: below the minimum crew.
    assert any("minimum crew" in w for w in rows[0].warnings)


def test_a_shift_crossing_midnight_counts_training_after_midnight() -> None:
    with override_settings(SHIFT_START_HOURS=[7, 15, 23]):
        point = StagingPointFactory()
        people = crew(point, 3, 3)
        training(people[:2], datetime(2026, 3, 11, 2, tzinfo=SH))  # 02:00 the next morning
        [row] = daily_roster(day=DAY, staging_point=point, shift=3)
        assert len(row.in_training) == 2
        assert row.warnings
