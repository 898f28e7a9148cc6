"""Two dispatchers sending the same unit at the same moment: exactly one wins."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, connections

from apps.incidents.models import Event, Incident, IncidentAssignment, StreamKind
from apps.units.models import Unit
from tests.support.api import api
from tests.support.factories import World, new_incident

RACERS = 24

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race needs concurrent connections; SQLite serialises every writer",
    ),
]


def test_concurrent_dispatches_of_one_unit_let_exactly_one_win(world: World) -> None:
    incidents = [new_incident(world) for _ in range(RACERS)]
    unit = world.unit
    barrier = threading.Barrier(RACERS)
    results: list[tuple[int, int, dict[str, Any]]] = []
    lock = threading.Lock()

    def race(incident: Incident) -> None:
        client = api(world.dispatcher)
        try:
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/incidents/{incident.pk}/dispatch/", {"unit": unit.pk}, format="json"
            )
            with lock:
                results.append((incident.pk, response.status_code, response.json()))
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=race, args=(i,)) for i in incidents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    codes = Counter(code for _, code, _ in results)
    assert codes == {200: 1, 409: RACERS - 1}
    assert {body["code"] for _, code, body in results if code == 409} == {"unit_busy"}
    winner = next(pk for pk, code, _ in results if code == 200)
    unit.refresh_from_db()
    assert unit.current_incident_id == winner and unit.status == "dispatched"
    assert Incident.objects.filter(status="dispatched").count() == 1
    assert Incident.objects.filter(status="received").count() == RACERS - 1
    # One status change in the unit's stream, one dispatch event in the incidents' streams.
    assert Event.objects.filter(stream=StreamKind.UNIT, stream_id=unit.pk).count() == 1
    assert Event.objects.filter(stream=StreamKind.INCIDENT, kind="dispatched").count() == 1
    assert Unit.objects.filter(current_incident__isnull=False).count() == 1


def test_concurrent_dispatches_of_one_incident_make_exactly_one_primary(world: World) -> None:
    # Sending a unit to an incident a unit already works adds it as a backup (增援): of many
    # dispatchers at once, exactly one sends the primary and every other unit is a backup, each
    # on this incident once.
    incident = new_incident(world)
    units = [
        Unit.objects.create(callsign=f"R{i:02d}", staging_point=world.city.points[i % 4])
        for i in range(RACERS)
    ]
    barrier = threading.Barrier(RACERS)
    codes: list[int] = []
    lock = threading.Lock()

    def race(unit: Unit) -> None:
        client = api(world.dispatcher)
        try:
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/incidents/{incident.pk}/dispatch/", {"unit": unit.pk}, format="json"
            )
            with lock:
                codes.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=(u,)) for u in units]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert Counter(codes) == {200: RACERS}
    incident.refresh_from_db()
    assert incident.status == "dispatched"
    working = IncidentAssignment.objects.filter(incident=incident, cleared_at__isnull=True)
    assert Counter(working.values_list("role", flat=True)) == {"primary": 1, "backup": RACERS - 1}
    assert working.get(role="primary").unit_id == incident.unit_id
    assert Unit.objects.filter(current_incident=incident).count() == RACERS
    assert Event.objects.filter(stream=StreamKind.INCIDENT, kind="dispatched").count() == 1
    assert Event.objects.filter(stream=StreamKind.INCIDENT, kind="backup_dispatched").count() == (
        RACERS - 1
    )
