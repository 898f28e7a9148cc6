"""The demo city's gazetteer: loaded with the city, marked as demo data, idempotent."""

from __future__ import annotations

import pytest

from apps.demo.city import STAGING_POINTS, STATIONS, load_demo_city
from apps.places.models import Place, PlaceKey, PlaceKind
from apps.places.selectors import place_search
from apps.units.selectors import station_at

pytestmark = pytest.mark.django_db


def test_the_demo_city_loads_a_gazetteer_of_simao_once() -> None:
    first = load_demo_city(password="pw", history=False)
    assert 60 <= first.places <= 150
    assert not Place.objects.filter(demo=False).exists()
    snapshot = list(Place.objects.order_by("pk").values())
    keys = PlaceKey.objects.count()
    names = set(Place.objects.values_list("name", flat=True))
    assert {f"{p.name}屯警点" for p in STAGING_POINTS} <= names
    assert {s.name for s in STATIONS} <= names
    for road in ("振兴大道", "茶城大道", "月光路", "思茅大道", "人民路", "洗马湖路"):
        assert Place.objects.get(name=road).line is not None, road
    for kind in PlaceKind.values:
        assert Place.objects.filter(kind=kind).exists(), kind

    again = load_demo_city(password="pw", history=False)
    assert again.created == 0
    assert list(Place.objects.order_by("pk").values()) == snapshot
    assert PlaceKey.objects.count() == keys


def test_demo_places_are_where_the_city_is() -> None:
    load_demo_city(password="pw", history=False)
    for spec in STATIONS:
        place = Place.objects.get(name=spec.name)
        station = station_at(lat=place.lat, lon=place.lon)
        assert station is not None and station.code == spec.code
    crossing = place_search(q="振兴大道月光路")[0].place
    assert crossing.kind == PlaceKind.INTERSECTION
    road = Place.objects.get(name="振兴大道")
    assert crossing.lat == road.lat  # on the east–west road's line
    assert place_search(q="zsj")[0].place.name == "珠市街"
