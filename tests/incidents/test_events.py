"""Push payloads are typed and survive JSON."""

from __future__ import annotations

import json

import pytest

from apps.incidents.events import (
    DispatchAlert,
    IncidentUpdated,
    UnitUpdated,
    dispatch_alert,
    incident_updated,
)

from .conftest import World, advance, new_incident

pytestmark = pytest.mark.django_db


def test_payloads_round_trip_through_json(world: World) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    updated = incident_updated(incident, from_status="received", kind="dispatched")
    alert = dispatch_alert(incident)
    unit = UnitUpdated(
        unit_id=world.unit.pk,
        callsign="U0",
        status="dispatched",
        current_incident_id=incident.pk,
        position={"lat": 22.78, "lon": 100.95},
        position_at="2026-01-01T00:00:00+00:00",
    )
    for payload, cls in ((updated, IncidentUpdated), (alert, DispatchAlert), (unit, UnitUpdated)):
        wire = json.loads(json.dumps(payload.to_dict()))
        assert wire["type"] == cls.type
        assert cls.from_dict(wire) == payload  # type: ignore[attr-defined]
    assert alert.to_dict()["type"] == "dispatch.alert"
    assert updated.to_dict()["status"] == "dispatched" and updated.unit_id == world.unit.pk
