"""GET /api/places/ and /api/places/reverse/: command centre only, per-field 400s, shapes."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.common.roles import Role
from apps.places.models import PlaceKind
from apps.places.services import PlaceData, places_upsert
from tests.support.factories import UserFactory, small_city

pytestmark = pytest.mark.django_db


def client_for(*roles: Role, superuser: bool = False) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(roles=list(roles), is_superuser=superuser))
    return client


@pytest.fixture
def places() -> list[Any]:
    rows = [
        PlaceData(name="珠市街", kind=PlaceKind.ROAD, lat=22.7865, lon=100.977, code="a"),
        PlaceData(
            name="珠市街菜市场",
            kind=PlaceKind.POI,
            lat=22.786,
            lon=100.974,
            code="b",
            address="思茅区珠市街",
        ),
        PlaceData(name="月光路", kind=PlaceKind.ROAD, lat=22.785, lon=100.980, code="c"),
    ]
    return places_upsert(places=rows).places


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.COMMANDER])
def test_the_command_centre_searches_best_first(role: Role, places: list[Any]) -> None:
    response = client_for(role).get("/api/places/", {"q": "珠市街"})
    assert response.status_code == 200
    body = response.json()
    assert [p["name"] for p in body] == ["珠市街", "珠市街菜市场"]
    assert body[1] == {
        "id": places[1].pk,
        "name": "珠市街菜市场",
        "address": "思茅区珠市街",
        "kind": "poi",
        "lat": 22.786,
        "lon": 100.974,
    }


def test_a_superuser_searches_too(places: list[Any]) -> None:
    assert client_for(superuser=True).get("/api/places/", {"q": "zsj"}).status_code == 200


@pytest.mark.parametrize("role", [Role.UNIT_OFFICER, Role.UNIT_AUXILIARY, Role.STATION, Role.HR])
def test_other_roles_may_not_search_or_reverse(role: Role, places: list[Any]) -> None:
    client = client_for(role)
    assert client.get("/api/places/", {"q": "珠市街"}).status_code == 403
    assert client.get("/api/places/reverse/", {"lat": 22.78, "lon": 100.97}).status_code == 403


def test_anonymous_requests_are_refused(places: list[Any]) -> None:
    assert APIClient().get("/api/places/", {"q": "珠市街"}).status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "珠市", "limit": 51}, "limit"),
        ({"q": "珠市", "limit": 0}, "limit"),
        ({"q": "珠市", "limit": "many"}, "limit"),
        ({"q": "珠市", "near": "north"}, "near"),
        ({"q": "珠市", "near": "22.78"}, "near"),
        ({"q": "珠市", "near": "95,100"}, "near"),
        ({"q": "珠市", "near": "nan,100"}, "near"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(params: dict[str, Any], field: str) -> None:
    response = client_for(Role.DISPATCHER).get("/api/places/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_near_and_limit_are_honoured(places: list[Any]) -> None:
    client = client_for(Role.DISPATCHER)
    body = client.get("/api/places/", {"q": "珠市街", "limit": 1, "near": "22.786,100.974"}).json()
    assert [p["name"] for p in body] == ["珠市街"]  # the exact name, though the market is nearer


def test_reverse_names_the_cell_station_nearest_point_and_places(places: list[Any]) -> None:
    city = small_city()  # staging points at lat 22.78, lon 100.95 / .97 / .99 / 101.01
    response = client_for(Role.DISPATCHER).get(
        "/api/places/reverse/", {"lat": 22.7862, "lon": 100.9745}
    )
    assert response.status_code == 200
    body = response.json()
    assert [p["name"] for p in body["places"]] == ["珠市街菜市场", "珠市街", "月光路"]
    distances = [p["distance_m"] for p in body["places"]]
    assert distances == sorted(distances) and distances[0] < 100
    assert body["grid_cell"] == {"id": city.cells[5].pk, "code": "R1C1"}
    assert body["station"]["code"] == "s0"
    assert body["staging_point"]["code"] == "p1"
    assert 700 < body["staging_point"]["distance_m"] < 1000


def test_reverse_outside_the_grid_says_so(places: list[Any]) -> None:
    body = client_for(Role.DISPATCHER).get("/api/places/reverse/", {"lat": 0, "lon": 0}).json()
    assert body == {"places": [], "grid_cell": None, "station": None, "staging_point": None}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 100.97}, "lat"),
        ({"lat": 22.78, "lon": 181}, "lon"),
        ({"lat": "x", "lon": 1}, "lat"),
    ],
)
def test_reverse_refuses_a_bad_point(params: dict[str, Any], field: str) -> None:
    response = client_for(Role.DISPATCHER).get("/api/places/reverse/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]
