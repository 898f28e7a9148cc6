"""Payloads are typed and survive JSON; what a dispatch publishes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
from tests.support.api import api
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


def _notice_writes(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if '"common_notice' in q["sql"]]


def test_a_dispatch_and_its_cancel_number_their_notices_in_a_few_statements(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """Over HTTP, as the console sends them. The dispatch: the alert's notice at once (its
    number goes on the Alert row), the command centre's two together at the end; the cancel:
    the crew's two notices and the command centre's two in one cursor statement and one insert,
    pushed in one hop."""
    incident = new_incident(world)
    before = Notice.objects.order_by("pk").last()
    unit = world.unit.pk
    client = api(world.dispatcher)
    with django_capture_on_commit_callbacks() as _, CaptureQueriesContext(connection) as ctx:
        answer = client.post(f"/api/incidents/{incident.pk}/dispatch/", {"unit": unit}, "json")
    assert answer.status_code == 200, answer.content
    assert len(_notice_writes(ctx)) == 4, _notice_writes(ctx)
    with django_capture_on_commit_callbacks() as pushes, CaptureQueriesContext(connection) as ctx:
        answer = client.post(f"/api/incidents/{incident.pk}/cancel/", {"reason": "误报"}, "json")
    assert answer.status_code == 200, answer.content
    assert len(_notice_writes(ctx)) == 2, _notice_writes(ctx)
    assert len(pushes) == 1
    told = Notice.objects.filter(pk__gt=before.pk if before else 0)
    by_audience = {
        a: [t for _, t in sorted((n.seq, n.type) for n in told if n.audience == a)]
        for a in ("command", f"unit:{unit}")
    }
    assert by_audience == {
        "command": ["unit.updated", "incident.updated", "unit.updated", "incident.updated"],
        f"unit:{unit}": ["dispatch.alert", "dispatch.withdrawn", "incident.updated"],
    }
