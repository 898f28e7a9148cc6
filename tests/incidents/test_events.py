"""Payloads are typed and survive JSON; what a dispatch publishes."""

from __future__ import annotations

import json

import pytest

from apps.common.models import Notice
from apps.incidents.models import Alert, Deadline
from apps.incidents.notify import (
    DispatchAlert,
    DispatchWithdrawn,
    IncidentBrief,
    IncidentEscalated,
    IncidentUpdated,
    incident_updated,
)
from apps.units.notify import UnitPosition, UnitUpdated
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db


def test_payloads_round_trip_through_json(world: World) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    brief = IncidentBrief.of(incident)
    payloads = [
        incident_updated(incident, from_status="received", kind="dispatched"),
        DispatchAlert(alert_id="6f1c2a52-3a8e-4a57-9f7e-0d3b5f2c1a00", incident=brief),
        UnitUpdated(
            unit_id=world.unit.pk, callsign="U0", status="dispatched", current_incident_id=1
        ),
        UnitPosition(
            unit_id=world.unit.pk,
            callsign="U0",
            status="patrolling",
            position={"lat": 22.78, "lon": 100.95},
            position_at="2026-01-01T00:00:00+00:00",
        ),
        IncidentEscalated(
            incident_id=incident.pk,
            number=incident.number,
            unit_id=world.unit.pk,
            target="arrival",
            target_s=300,
            at="2026-01-01T00:05:00+00:00",
        ),
        DispatchWithdrawn(
            incident_id=incident.pk, number=incident.number, kind="unassigned", reason="改派"
        ),
    ]
    for payload in payloads:
        wire = json.loads(json.dumps(payload.to_dict()))
        assert type(payload).from_dict(wire) == payload  # type: ignore[attr-defined]
    assert payloads[0].to_dict()["type"] == IncidentUpdated.type
    assert payloads[4].to_dict()["type"] == "incident.breach"


def test_a_dispatch_writes_the_alert_its_notice_and_two_deadlines(world: World) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    alert = Alert.objects.get(incident=incident)
    assert alert.unit_id == world.unit.pk and alert.delivered_at is None
    notice = Notice.objects.get(audience=f"unit:{world.unit.pk}", seq=alert.seq)
    assert notice.type == "dispatch.alert"
    assert notice.payload["alert_id"] == str(alert.pk)
    assert notice.payload["incident"]["number"] == incident.number
    assert sorted(Deadline.objects.filter(incident=incident).values_list("kind", flat=True)) == [
        "acknowledge",
        "arrival",
    ]
