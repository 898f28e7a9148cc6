"""Assignment history answers "who was on unit X at 03:00 on date D" and the current shift."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from apps.personnel.models import Assignment, Person, TeamRole
from apps.personnel.selectors import current_shift, on_duty_at, shift_at, shift_hours
from tests.support.factories import PersonFactory, UnitFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SH)


def post(
    person: Person,
    unit: object,
    shift: int | None,
    start: datetime,
    end: datetime | None,
    role: TeamRole = TeamRole.MEMBER,
) -> Assignment:
    return Assignment.objects.create(
        person=person,
        staging_point=unit.staging_point,  # type: ignore[attr-defined]
        shift=shift,
        team_role=role,
        valid_from=start,
        valid_to=end,
    )


def test_the_shift_running_at_a_moment_follows_the_configured_start_hours() -> None:
    # defaults 8,16,0: shift 1 08–16, shift 2 16–24, shift 3 00–08
    assert current_shift(at(10, 3)) == 3
    assert current_shift(at(10, 8)) == 1
    assert current_shift(at(10, 15, 59)) == 1
    assert current_shift(at(10, 23, 30)) == 2
    assert shift_at(at(10, 3)).start == at(10, 0)


@override_settings(SHIFT_START_HOURS=[7, 15, 23])
def test_a_night_shift_crossing_midnight_is_found_on_both_sides_of_it() -> None:
    assert current_shift(at(10, 23, 30)) == 3
    assert current_shift(at(11, 3)) == 3
    window = shift_at(at(11, 3))
    assert (window.start, window.end) == (at(10, 23), at(11, 7))
    assert shift_hours(3) == [23, 0, 1, 2, 3, 4, 5, 6]


def test_who_was_on_the_unit_at_three_in_the_morning() -> None:
    unit = UnitFactory()
    other_unit = UnitFactory()
    night = PersonFactory(name="夜班")
    day_shift = PersonFactory(name="白班")
    officer = PersonFactory(name="责任民警")
    moved_away = PersonFactory(name="已调走")
    came_later = PersonFactory(name="后来的")
    elsewhere = PersonFactory(name="别处")
    start = at(1, 0)
    post(night, unit, 3, start, None)
    post(day_shift, unit, 1, start, None)
    post(officer, unit, None, start, None, TeamRole.RESPONSIBLE_OFFICER)
    post(moved_away, unit, 3, start, at(10, 2, 59))
    post(came_later, unit, 3, at(10, 3, 1), None)
    post(elsewhere, other_unit, 3, start, None)

    names = set(on_duty_at(unit=unit, at=at(10, 3)).values_list("name", flat=True))
    assert names == {"夜班", "责任民警"}

    # The same question a week earlier: the one who moved away was there then.
    earlier = set(on_duty_at(unit=unit, at=at(3, 3)).values_list("name", flat=True))
    assert earlier == {"夜班", "责任民警", "已调走"}

    afternoon = set(on_duty_at(unit=unit, at=at(10, 9)).values_list("name", flat=True))
    assert afternoon == {"白班", "责任民警"}


def test_a_posting_ending_exactly_at_the_moment_is_not_on_duty() -> None:
    unit = UnitFactory()
    p = PersonFactory()
    post(p, unit, 3, at(1, 0), at(10, 3))
    assert not on_duty_at(unit=unit, at=at(10, 3)).exists()
    assert on_duty_at(unit=unit, at=at(10, 3) - timedelta(seconds=1)).exists()


@pytest.mark.parametrize("starts", [[8, 16, 0], [7, 15, 23]])
def test_the_shift_agrees_with_the_statistics_service_at_every_hour(starts: list[int]) -> None:
    from apps.stats.selectors import shift_of

    with override_settings(SHIFT_START_HOURS=starts):
        for hour in range(24):
            moment = at(10, hour, 30)
            assert current_shift(moment) == shift_of(moment), hour
