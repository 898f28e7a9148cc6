"""The grid's admin pages list each map once. A view-only user's page swaps a map field for its
read-only map; it used to list that map a second time (at the end, with the read-only fields),
and the second copy of the same container threw "Map container is already initialized" (the
browser's side: test_admin_maps_browser.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from tests.support.factories import StagingPointFactory, StationFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(role: Role, url: str) -> str:
    client = Client()
    client.force_login(UserFactory(roles=[role], is_staff=True))
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("role", "map_id"),
    [(Role.COMMANDER, "id_location-map"), (Role.DISPATCHER, "id_location_map-map")],
)
def test_the_staging_point_page_has_one_map(role: Role, map_id: str) -> None:
    point = StagingPointFactory()
    html = page(role, reverse("admin:units_stagingpoint_change", args=[point.pk]))
    assert html.count(f'<div id="{map_id}"') == 1
    assert html.count(f"L.Map.djangoMap('{map_id}'") == 1


def test_the_view_only_station_page_has_one_jurisdiction_map() -> None:
    station = StationFactory()
    html = page(Role.DISPATCHER, reverse("admin:units_station_change", args=[station.pk]))
    assert html.count('<div id="id_jurisdiction_map-map"') == 1
    # The polygon's field itself is not listed beside its map.
    assert 'name="jurisdiction"' not in html
