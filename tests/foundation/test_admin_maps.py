"""The admin's Leaflet maps: pages render with a map, and the maps read and write the geometry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.common.geo import rectangle
from apps.common.roles import Role
from tests.support.factories import (
    GridCellFactory,
    StagingPointFactory,
    StationFactory,
    UnitFactory,
    UserFactory,
)
from tests.support.pages import has_map

pytestmark = pytest.mark.django_db


def admin_client(role: Role) -> Client:
    user: User = UserFactory(roles=[role], is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def url(obj: Any, view: str = "change") -> str:
    meta = obj._meta
    args = [obj.pk] if view == "change" else []
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def point_post(point: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "name": point.name,
        "code": point.code,
        "station": point.station_id,
        "address": point.address,
        "location": json.dumps({"type": "Point", "coordinates": [point.lon, point.lat]}),
        "lat": str(point.lat),
        "lon": str(point.lon),
        "approximate": "on",
    }
    data.update(changes)
    return data


def test_every_change_page_renders_its_map_for_a_commander() -> None:
    client = admin_client(Role.COMMANDER)
    cell = GridCellFactory()
    unit = UnitFactory(staging_point=cell.staging_point)
    pages = {
        url(cell.staging_point.station): "jurisdiction",
        url(cell.staging_point): "location",
        url(cell): "area",
        url(unit.staging_point, "add"): "location",
        url(cell.staging_point.station, "add"): "jurisdiction",
    }
    for page, field in pages.items():
        response = client.get(page)
        assert response.status_code == 200, page
        assert has_map(response.content.decode(), field), page


def test_the_unit_page_maps_the_last_reported_position() -> None:
    client = admin_client(Role.COMMANDER)
    unit = UnitFactory(lat=22.781, lon=100.972, position_at=timezone.now())
    html = client.get(url(unit)).content.decode()
    assert has_map(html, "position_map")
    assert "100.972" in html
    silent = UnitFactory()
    html = client.get(url(silent)).content.decode()
    assert 'id="id_position_map-map"' not in html


def test_moving_the_marker_writes_lat_and_lon() -> None:
    client = admin_client(Role.COMMANDER)
    point = StagingPointFactory(lat=22.78, lon=100.97)
    moved = json.dumps({"type": "Point", "coordinates": [100.981234567, 22.791234567]})
    response = client.post(url(point), point_post(point, location=moved))
    assert response.status_code == 302
    point.refresh_from_db()
    assert (point.lat, point.lon) == (22.791235, 100.981235)


def test_typed_coordinates_win_over_the_marker() -> None:
    client = admin_client(Role.COMMANDER)
    point = StagingPointFactory(lat=22.78, lon=100.97)
    moved = json.dumps({"type": "Point", "coordinates": [100.99, 22.79]})
    response = client.post(url(point), point_post(point, location=moved, lat="22.8", lon="101.0"))
    assert response.status_code == 302
    point.refresh_from_db()
    assert (point.lat, point.lon) == (22.8, 101.0)


def test_a_marker_off_the_map_is_a_form_error_not_a_crash() -> None:
    client = admin_client(Role.COMMANDER)
    point = StagingPointFactory(lat=22.78, lon=100.97)
    bad = json.dumps({"type": "Point", "coordinates": [500, 22.79]})
    response = client.post(url(point), point_post(point, location=bad))
    assert response.status_code == 200
    assert "location" in response.context["adminform"].form.errors
    point.refresh_from_db()
    assert point.lon == 100.97


def test_saving_a_station_recomputes_its_bounding_box() -> None:
    client = admin_client(Role.COMMANDER)
    station = StationFactory()
    polygon = rectangle(22.70, 100.90, 22.75, 100.99)
    response = client.post(
        url(station),
        {
            "name": station.name,
            "code": station.code,
            "phone": "",
            "jurisdiction": json.dumps(polygon),
            "duties-TOTAL_FORMS": "0",
            "duties-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    station.refresh_from_db()
    assert (station.min_lat, station.min_lon, station.max_lat, station.max_lon) == (
        22.70,
        100.90,
        22.75,
        100.99,
    )


def test_a_commander_names_the_duty_accounts_of_a_station() -> None:
    client = admin_client(Role.COMMANDER)
    station = StationFactory()
    duty_officer = UserFactory(roles=[Role.STATION], is_staff=True)
    response = client.post(
        url(station),
        {
            "name": station.name,
            "code": station.code,
            "jurisdiction": json.dumps(station.jurisdiction),
            "duties-TOTAL_FORMS": "1",
            "duties-INITIAL_FORMS": "0",
            "duties-0-user": duty_officer.pk,
        },
    )
    assert response.status_code == 302, response.content[:3000]
    assert list(station.duties.values_list("user", flat=True)) == [duty_officer.pk]


def test_a_line_is_not_a_jurisdiction() -> None:
    client = admin_client(Role.COMMANDER)
    station = StationFactory()
    line = {"type": "LineString", "coordinates": [[100.9, 22.7], [101.0, 22.8]]}
    response = client.post(
        url(station),
        {
            "name": station.name,
            "code": station.code,
            "jurisdiction": json.dumps(line),
            "duties-TOTAL_FORMS": "0",
            "duties-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "jurisdiction" in response.context["adminform"].form.errors


def test_a_commander_reassigns_a_cell_but_not_its_rectangle() -> None:
    client = admin_client(Role.COMMANDER)
    cell = GridCellFactory(priority_zone=False)
    other = StagingPointFactory(station=cell.staging_point.station)
    response = client.post(
        url(cell),
        {"staging_point": other.pk, "priority_zone": "on", "min_lat": "1", "max_lat": "2"},
    )
    assert response.status_code == 302
    cell.refresh_from_db()
    assert cell.staging_point == other and cell.priority_zone
    assert (cell.min_lat, cell.max_lat) == (22.77, 22.79)
    assert client.get(reverse("admin:units_gridcell_add")).status_code == 403


def test_view_only_pages_draw_read_only_maps() -> None:
    client = admin_client(Role.DISPATCHER)
    point = StagingPointFactory()
    html = client.get(url(point.station)).content.decode()
    assert has_map(html, "jurisdiction_map")
    assert "modifiable = false" in html
    html = client.get(url(point)).content.decode()
    assert has_map(html, "location_map")


def test_the_unit_board_lists_status_incident_and_position_age() -> None:
    client = admin_client(Role.DISPATCHER)
    fresh = UnitFactory(lat=22.78, lon=100.97, position_at=timezone.now())
    old = UnitFactory(
        lat=22.78, lon=100.97, position_at=timezone.now() - timezone.timedelta(minutes=30)
    )
    response = client.get(reverse("admin:units_unit_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert fresh.callsign in html and old.callsign in html
    assert "30\xa0minutes (stale)" in html
    response = client.get(reverse("admin:units_unit_changelist"), {"status__exact": "patrolling"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def queries_for(client: Client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_the_unit_board_costs_the_same_queries_for_more_units() -> None:
    client = admin_client(Role.COMMANDER)
    point = StagingPointFactory()
    for _ in range(2):
        UnitFactory(staging_point=point, lat=22.78, lon=100.97, position_at=timezone.now())
    few = queries_for(client, reverse("admin:units_unit_changelist"))
    for _ in range(6):
        UnitFactory(staging_point=StagingPointFactory(station=point.station))
    assert queries_for(client, reverse("admin:units_unit_changelist")) == few


def test_the_editable_grid_list_costs_the_same_queries_for_more_cells() -> None:
    client = admin_client(Role.COMMANDER)
    point = StagingPointFactory()
    for _ in range(3):
        GridCellFactory(staging_point=point)
    few = queries_for(client, reverse("admin:units_gridcell_changelist"))
    for _ in range(9):
        GridCellFactory(staging_point=StagingPointFactory(station=point.station))
    assert queries_for(client, reverse("admin:units_gridcell_changelist")) == few


def test_a_new_staging_point_can_be_placed_with_the_marker_alone() -> None:
    client = admin_client(Role.COMMANDER)
    station = StationFactory()
    data = {
        "name": "新点",
        "code": "xindian",
        "station": station.pk,
        "location": json.dumps({"type": "Point", "coordinates": [100.975, 22.785]}),
        "lat": "",
        "lon": "",
    }
    response = client.post(reverse("admin:units_stagingpoint_add"), data)
    assert response.status_code == 302
    point = station.staging_points.get(code="xindian")
    assert (point.lat, point.lon) == (22.785, 100.975)


def test_a_new_staging_point_needs_a_position() -> None:
    client = admin_client(Role.COMMANDER)
    station = StationFactory()
    data = {"name": "无位置", "code": "nowhere", "station": station.pk, "location": ""}
    response = client.post(reverse("admin:units_stagingpoint_add"), data)
    assert response.status_code == 200
    assert {"lat", "lon"} <= set(response.context["adminform"].form.errors)
    assert not station.staging_points.exists()
