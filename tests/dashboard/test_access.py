"""Who may open /command/stats/: commanders and dispatchers; others 403; anonymous → login."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.common.roles import Role
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/command/stats/"


@pytest.mark.parametrize("role", [Role.COMMANDER, Role.DISPATCHER])
def test_commanders_and_dispatchers_open_the_dashboard(role: Role) -> None:
    client = Client()
    client.force_login(UserFactory(roles=[role]))
    response = client.get(URL)
    assert response.status_code == 200
    assert b'id="loading"' in response.content
    assert b"leaflet/leaflet.js" in response.content
    fragment = client.get(URL, {"format": "fragment"})
    assert fragment.status_code == 200
    assert b'id="dashboard-figures"' in fragment.content


@pytest.mark.parametrize(
    "roles", [[Role.HR], [Role.STATION], [Role.UNIT_OFFICER], [Role.UNIT_AUXILIARY], []]
)
def test_other_roles_are_refused(roles: list[Role]) -> None:
    client = Client()
    client.force_login(UserFactory(roles=roles))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"format": "csv", "table": "units"}).status_code == 403
    assert client.get(URL, {"format": "fragment"}).status_code == 403


def test_anonymous_visitors_are_sent_to_the_admin_login() -> None:
    response = Client().get(URL, {"format": "json"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/command/stats/")


def test_the_page_is_in_simplified_chinese_by_default() -> None:
    client = Client()
    client.force_login(UserFactory(roles=[Role.COMMANDER]))
    response = client.get(URL)
    assert response.status_code == 200
    assert b'lang="zh-hans"' in response.content
