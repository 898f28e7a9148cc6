"""Grid cell and station lookup at intake."""

from __future__ import annotations

import pytest

from apps.common.geo import rectangle
from apps.units.selectors import grid_cell_at, station_at
from tests.support.factories import StationFactory, UserFactory, small_city

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("lat", "lon", "cell", "station"),
    [
        (22.765, 100.945, "R0C0", "s0"),
        (22.795, 100.975, "R1C1", "s0"),
        (22.765, 100.985, "R0C2", "s1"),
        (22.799, 101.019, "R1C3", "s1"),
    ],
)
def test_point_falls_in_its_cell_and_station(
    lat: float, lon: float, cell: str, station: str
) -> None:
    small_city()
    found_cell = grid_cell_at(lat=lat, lon=lon)
    found_station = station_at(lat=lat, lon=lon)
    assert found_cell is not None and found_cell.code == cell
    assert found_station is not None and found_station.code == station


def test_outside_the_city_there_is_no_cell_and_no_station() -> None:
    small_city()
    assert grid_cell_at(lat=23.5, lon=100.0) is None
    assert station_at(lat=23.5, lon=100.0) is None


def test_station_lookup_uses_the_polygon_not_only_its_bounding_box() -> None:
    # An L-shaped jurisdiction: its bounding box covers the notch, the polygon does not.
    l_shape = {
        "type": "Polygon",
        "coordinates": [
            [
                [100.0, 22.0],
                [100.2, 22.0],
                [100.2, 22.1],
                [100.1, 22.1],
                [100.1, 22.2],
                [100.0, 22.2],
                [100.0, 22.0],
            ]
        ],
    }
    StationFactory(code="L", jurisdiction=l_shape)
    notch = StationFactory(code="N", jurisdiction=rectangle(22.1, 100.1, 22.2, 100.2))
    assert station_at(lat=22.15, lon=100.15) == notch
    assert station_at(lat=22.05, lon=100.15).code == "L"  # type: ignore[union-attr]


def test_intake_outside_every_jurisdiction_falls_back_to_the_cells_station() -> None:
    from apps.common.roles import Role
    from apps.incidents.services import incident_create
    from apps.units.models import Station

    city = small_city()
    # Shrink the west jurisdiction so that its south-west corner is outside every station.
    west = city.stations[0]
    Station.objects.filter(pk=west.pk).update(
        jurisdiction=rectangle(22.77, 100.95, 22.80, 100.98), min_lat=22.77, min_lon=100.95
    )
    incident = incident_create(
        category="other",
        priority=3,
        lat=22.761,
        lon=100.941,
        address="郊外",
        actor=UserFactory(roles=[Role.DISPATCHER]),
    )
    assert incident.grid_cell is not None and incident.grid_cell.code == "R0C0"
    assert incident.station == west
