"""The gazetteer's admin: commanders edit places (keys follow through place_save), dispatchers
only look."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from apps.places.models import Place, PlaceKind
from apps.places.selectors import place_search
from apps.places.services import PlaceData, places_upsert
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def admin_client(role: Role) -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[role], is_staff=True))
    return client


def form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "思茅港",
        "aliases": json.dumps(["港口"]),
        "kind": PlaceKind.LANDMARK,
        "address": "思茅区",
        "location": "",
        "lat": "22.79",
        "lon": "100.97",
    }
    data.update(changes)
    return data


def test_a_commander_adds_a_place_that_search_then_finds() -> None:
    client = admin_client(Role.COMMANDER)
    response = client.post(reverse("admin:places_place_add"), form())
    assert response.status_code == 302, response.content.decode()[:2000]
    place = Place.objects.get()
    assert place.key and place.aliases == ["港口"]
    assert [h.place.pk for h in place_search(q="smg")] == [place.pk]
    assert [h.place.pk for h in place_search(q="港口")] == [place.pk]


def test_a_commander_renames_a_place_and_its_keys_follow() -> None:
    place = places_upsert(
        places=[PlaceData(name="旧港", kind=PlaceKind.LANDMARK, lat=22.79, lon=100.97)]
    ).places[0]
    client = admin_client(Role.COMMANDER)
    url = reverse("admin:places_place_change", args=[place.pk])
    assert client.post(url, form(name="新港", aliases="[]")).status_code == 302
    assert place_search(q="旧港") == []
    assert [h.place.pk for h in place_search(q="xg")] == [place.pk]


def test_a_dispatcher_sees_places_but_cannot_change_them() -> None:
    place = places_upsert(
        places=[PlaceData(name="旧港", kind=PlaceKind.LANDMARK, lat=22.79, lon=100.97)]
    ).places[0]
    client = admin_client(Role.DISPATCHER)
    url = reverse("admin:places_place_change", args=[place.pk])
    assert client.get(reverse("admin:places_place_changelist")).status_code == 200
    assert client.get(url).status_code == 200
    assert client.post(url, form(name="新港")).status_code == 403
    assert client.get(reverse("admin:places_place_add")).status_code == 403
    assert Place.objects.get().name == "旧港"
