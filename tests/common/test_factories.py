from __future__ import annotations

import pytest

from apps.common.geo import polygon_contains
from tests.support.factories import crew_member, small_city

pytestmark = pytest.mark.django_db


def test_small_city_cells_tile_the_stations_without_overlap() -> None:
    city = small_city()
    assert len(city.units) == 4 and len(city.cells) == 8
    for cell in city.cells:
        centre = ((cell.min_lat + cell.max_lat) / 2, (cell.min_lon + cell.max_lon) / 2)
        inside = [s for s in city.stations if polygon_contains(s.jurisdiction, *centre)]
        assert len(inside) == 1


def test_crew_member_is_posted_at_the_units_staging_point() -> None:
    city = small_city()
    user = crew_member(city.units[0])
    assert user.person.assignments.get().staging_point == city.points[0]
    assert user.groups.filter(name="unit_auxiliary").exists()
