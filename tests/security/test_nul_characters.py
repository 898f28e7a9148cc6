"""A NUL character in a query string or a form is a 400, at one place for every page (PostgreSQL
text cannot hold NUL: an admin list filter `?status__exact=%00` was a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.common.roles import Role
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[Role.COMMANDER], is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/incidents/incident/?status__exact=%00",
        "/admin/incidents/incident/?category__exact=%00",
        "/admin/incidents/event/?kind__exact=%00",
        "/admin/units/unit/?status__exact=%00",
        "/admin/personnel/person/?kind__exact=%00",
        "/admin/common/accesslog/?action__exact=%00",
        "/admin/incidents/incident/?q=%00",
        "/admin/incidents/incident/?status__exact=received&o=1%00",
        "/admin/incidents/incident/?%00=1",
    ],
)
def test_a_nul_in_an_admin_list_filter_is_a_400(admin_client: Client, url: str, world: Any) -> None:
    assert admin_client.get(url.replace("%00", "")).status_code in (200, 302)
    assert admin_client.get(url).status_code == 400


def test_a_nul_in_an_admin_form_is_a_400(admin_client: Client, world: Any) -> None:
    response = admin_client.post(
        f"/admin/units/unit/{world.unit.pk}/change/", {"callsign": "U\x000"}
    )
    assert response.status_code == 400


def test_a_nul_in_an_api_query_is_a_json_400(world: Any) -> None:
    client = APIClient()
    client.force_authenticate(world.dispatcher)
    response = client.get("/api/incidents/?status=%00")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
