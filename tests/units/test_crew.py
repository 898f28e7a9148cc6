"""Who is crew of a unit, and who acts for a station."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.common.roles import Role
from apps.personnel.models import Assignment
from apps.units.models import StationDuty
from apps.units.selectors import is_crew, station_ids_for_user, unit_for_user
from tests.support.factories import PersonFactory, UserFactory, crew_member, small_city

pytestmark = pytest.mark.django_db


def test_a_posted_crew_member_crews_the_unit_of_their_staging_point() -> None:
    city = small_city()
    officer = crew_member(city.units[2], role=Role.UNIT_OFFICER)
    assert unit_for_user(officer) == city.units[2]
    assert is_crew(officer, city.units[2]) and not is_crew(officer, city.units[1])


def test_crew_needs_both_the_role_and_a_current_assignment() -> None:
    city = small_city()
    now = timezone.now()
    # A posting without a crew role (e.g. an hr account with a person record).
    no_role = UserFactory(roles=[Role.HR])
    Assignment.objects.create(
        person=PersonFactory(user=no_role), staging_point=city.points[0], valid_from=now
    )
    # A crew role whose posting has not started yet / has ended.
    future = UserFactory(roles=[Role.UNIT_AUXILIARY])
    Assignment.objects.create(
        person=PersonFactory(user=future),
        staging_point=city.points[0],
        valid_from=now + timezone.timedelta(days=1),
    )
    ended = crew_member(city.units[0])
    Assignment.objects.filter(person__user=ended).update(valid_to=now)
    for user in (no_role, future, ended):
        assert unit_for_user(user) is None
        assert not is_crew(user, city.units[0])


def test_a_reposted_member_crews_only_the_new_unit() -> None:
    city = small_city()
    user = crew_member(city.units[0])
    now = timezone.now()
    Assignment.objects.filter(person__user=user).update(valid_to=now)
    Assignment.objects.create(
        person=user.person,  # type: ignore[attr-defined]
        staging_point=city.points[1],
        valid_from=now,
    )
    assert unit_for_user(user) == city.units[1]
    assert not is_crew(user, city.units[0])


def test_station_links_need_the_station_role() -> None:
    city = small_city()
    clerk = UserFactory(roles=[Role.STATION])
    impostor = UserFactory(roles=[Role.DISPATCHER])
    for user in (clerk, impostor):
        StationDuty.objects.create(user=user, station=city.stations[1])
    assert station_ids_for_user(clerk) == {city.stations[1].pk}
    assert station_ids_for_user(impostor) == set()


def test_the_unit_list_takes_a_fixed_number_of_queries(django_assert_num_queries: Any) -> None:
    small_city()
    small_city_user = UserFactory(roles=[Role.DISPATCHER])
    client = APIClient()
    client.force_authenticate(small_city_user)
    # Role lookup (one) and the units with their staging points (one).
    with django_assert_num_queries(2):
        response = client.get("/api/units/")
    assert len(response.json()) == 4
