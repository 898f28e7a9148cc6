"""GET /api/stats/summary/: permissions, validation and the shape of the answer.

Incidents are created directly as rows with timestamps (see tests.support.factories.incident_row).
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.common.roles import Role
from apps.incidents.models import Incident
from tests.support.factories import UserFactory, small_city
from tests.support.figures import build_six

pytestmark = pytest.mark.django_db

URL = "/api/stats/summary/"


def client_for(*roles: Role) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(roles=list(roles)))
    return client


@pytest.mark.parametrize("role", [Role.COMMANDER, Role.DISPATCHER])
def test_commanders_and_dispatchers_read_the_summary(role: Role) -> None:
    build_six()
    response = client_for(role).get(URL, {"start": "2026-03-02", "end": "2026-03-02"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["transferred"], body["transfer_share"]) == (6, 2, 0.3333)
    assert body["by_category"]["dispute"] == {
        "total": 2,
        "transferred": 1,
        "resolved_on_scene": 1,
        "closed": 2,
        "on_scene_rate": 0.5,
    }
    assert body["response"]["dispatch_to_acknowledge"]["n"] == 4
    assert body["response"]["exact"] is True


def test_filters_are_applied() -> None:
    build_six()
    unit = Incident.objects.get(category="criminal").unit
    response = client_for(Role.COMMANDER).get(
        URL, {"start": "2026-03-02", "end": "2026-03-02", "unit": unit.pk, "category": "criminal"}
    )
    assert response.status_code == 200
    assert response.json()["total"] == 1


@pytest.mark.parametrize("roles", [[Role.HR], [Role.UNIT_OFFICER], [Role.UNIT_AUXILIARY], []])
def test_others_are_refused(roles: list[Role]) -> None:
    response = client_for(*roles).get(URL, {"start": "2026-03-02", "end": "2026-03-02"})
    assert response.status_code == 403


def test_anonymous_is_refused() -> None:
    response = APIClient().get(URL, {"start": "2026-03-02", "end": "2026-03-02"})
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2026-03-02"}, "start"),
        ({"start": "2026-02-30", "end": "2026-03-02"}, "start"),
        ({"start": "02/03/2026", "end": "2026-03-02"}, "start"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end"),
        ({"start": "2026-03-02", "end": "2026-03-02", "unit": 999999}, "unit"),
        ({"start": "2026-03-02", "end": "2026-03-02", "station": "x"}, "station"),
        ({"start": "2026-03-02", "end": "2026-03-02", "staging_point": 999999}, "staging_point"),
        ({"start": "2026-03-02", "end": "2026-03-02", "grid_cell": 999999}, "grid_cell"),
        ({"start": "2026-03-02", "end": "2026-03-02", "category": "murder"}, "category"),
        ({"start": "2026-03-02", "end": "2026-03-02", "shift": 4}, "shift"),
        ({"start": "1990-01-01", "end": "2026-03-02"}, "end"),
    ],
)
def test_bad_queries_are_answered_400_per_field(params: dict[str, object], field: str) -> None:
    response = client_for(Role.COMMANDER).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_street_presence_lists_the_units_hours() -> None:
    small_city()
    client = client_for(Role.COMMANDER)
    response = client.get(
        "/api/stats/street-presence/", {"start": "2026-03-02", "end": "2026-03-02"}
    )
    assert response.status_code == 200
    assert [u["callsign"] for u in response.json()["units"]] == ["U0", "U1", "U2", "U3"]
    refused = client_for(Role.HR).get(
        "/api/stats/street-presence/", {"start": "2026-03-02", "end": "2026-03-02"}
    )
    assert refused.status_code == 403


def test_coverage_answers_shares_reach_and_a_proposal() -> None:
    build_six()
    client = client_for(Role.DISPATCHER)
    response = client.get(
        "/api/stats/coverage/", {"start": "2026-03-02", "end": "2026-03-02", "propose": 2}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["incidents"] == 6
    assert set(body["coverage"]) == {"180s", "300s"}
    assert len(body["points"]) == 4 and len(body["proposal"]) == 2
    bad = client.get(
        "/api/stats/coverage/", {"start": "2026-03-02", "end": "2026-03-02", "propose": 0}
    )
    assert bad.status_code == 400 and "propose" in bad.json()


def test_coverage_gap_is_live_for_the_command_centre() -> None:
    small_city()
    response = client_for(Role.COMMANDER).get("/api/stats/coverage-gap/")
    assert response.status_code == 200
    assert response.json()["uncovered_points"] == []
    assert client_for(Role.UNIT_OFFICER).get("/api/stats/coverage-gap/").status_code == 403
