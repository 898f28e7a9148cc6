"""Location and text fields take only their own JSON types: DRF coerced `"lat": true` to 1.0,
`"lat": "22.7"` to 22.7 and numbers to text, so a wrong-typed body was stored instead of refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from apps.incidents.models import Incident
from tests.support.api import api
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db

INTAKE: dict[str, Any] = {
    "category": "dispute",
    "priority": 2,
    "location": {"lat": 22.775, "lon": 100.951},
    "address": "思茅区振兴大道1号",
    "description": "邻里纠纷",
    "caller_name": "张三",
    "caller_phone": "13800000000",
}


def _with(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = {k: dict(v) if isinstance(v, dict) else v for k, v in body.items()}
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("location", "lat"), True),
        (("location", "lon"), False),
        (("location", "lat"), "22.775"),
        (("address",), 12),
        (("description",), 1.5),
        (("caller_name",), 7),
        (("caller_phone",), 13800000000),
    ],
)
def test_the_intake_refuses_a_wrong_json_type(
    world: World, path: tuple[str, ...], value: Any
) -> None:
    assert api(world.dispatcher).post("/api/incidents/", INTAKE, format="json").status_code == 201
    response = api(world.dispatcher).post(
        "/api/incidents/", _with(INTAKE, path, value), format="json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    for key in path:
        errors = errors[key]
    assert errors
    assert Incident.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("lat", True), ("lon", "100.951"), ("accuracy_m", True), ("accuracy_m", "8")],
)
def test_a_position_refuses_a_wrong_json_type(world: World, field: str, value: Any) -> None:
    fix = {"lat": 22.775, "lon": 100.951, "accuracy_m": 8, "recorded_at": timezone.now()}
    url = f"/api/units/{world.unit.pk}/position/"
    assert api(world.auxiliary).post(url, fix, format="json").status_code == 200
    response = api(world.auxiliary).post(url, {**fix, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(("field", "value"), [("app_version", 3), ("battery_level", True)])
def test_a_device_heartbeat_refuses_a_wrong_json_type(world: World, field: str, value: Any) -> None:
    beat = {
        "app_version": "1.4.0",
        "notification_permission": "granted",
        "battery_level": 0.8,
        "queue_length": 0,
    }
    url = f"/api/units/{world.unit.pk}/health/"
    assert api(world.auxiliary).post(url, beat, format="json").status_code == 200
    response = api(world.auxiliary).post(url, {**beat, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(
    ("state", "path", "field"),
    [
        ("on_scene", "resolve", "summary"),
        ("on_scene", "transfer", "reason"),
        ("dispatched", "cancel", "reason"),
        ("dispatched", "unassign", "reason"),
    ],
)
@pytest.mark.parametrize("value", [42, 1.5])
def test_a_transition_refuses_a_number_as_text(
    world: World, state: str, path: str, field: str, value: Any
) -> None:
    incident = advance(world, new_incident(world), state)
    response = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/{path}/", {field: value}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Incident.objects.get(pk=incident.pk).status == state
