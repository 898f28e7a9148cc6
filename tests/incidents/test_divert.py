"""Priority does something: a priority-1 (紧急) call may take a unit on its way to a priority-3
incident; the dispatcher confirms, and the other incident goes back to the queue with an event."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.common.errors import IllegalTransition, UnitBusy
from apps.common.models import Notice
from apps.common.notices import unit_audience
from apps.incidents import services
from apps.incidents.models import (
    Alert,
    AssignmentRole,
    AssignmentStatus,
    Event,
    IncidentAssignment,
    IncidentStatus,
)
from apps.incidents.selectors import divert_candidates
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_priority_1_call_diverts_a_unit_on_its_way_to_a_priority_3_incident(
    world: World,
) -> None:
    minor = advance(world, new_incident(world, priority=3), "en_route")
    urgent = new_incident(world, priority=1, lat=22.776, address="思茅区振兴大道9号")
    offered = divert_candidates(incident=urgent)
    assert [(c.unit, c.incident) for c in offered] == [(world.unit, minor)]
    answer = api(world.dispatcher).post(
        f"/api/incidents/{urgent.pk}/divert/",
        {"unit": world.unit.pk, "reason": "持刀伤人，就近调派"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["unit"]["id"]) == ("dispatched", world.unit.pk)
    minor.refresh_from_db()
    # The minor incident is back in the queue, and its timeline says why.
    assert (minor.status, minor.unit_id) == (IncidentStatus.RECEIVED, None)
    event = Event.objects.filter(incident=minor, kind="unassigned", stream="incident").get()
    assert urgent.number in event.reason and "持刀伤人" in event.reason
    left = IncidentAssignment.objects.get(incident=minor, unit=world.unit)
    assert left.status == AssignmentStatus.CLEARED
    now = IncidentAssignment.objects.get(incident=urgent, cleared_at__isnull=True)
    assert (now.unit, now.role) == (world.unit, AssignmentRole.PRIMARY)
    # The crew's phone: the old card withdrawn, the new alert pending.
    frames = [
        n.type for n in Notice.objects.filter(audience=unit_audience(world.unit.pk)).order_by("seq")
    ]
    assert frames[-3:] == ["dispatch.withdrawn", "incident.updated", "dispatch.alert"]
    assert Alert.objects.get(incident=urgent).unit == world.unit
    # Offered no more (it works the priority-1 incident now).
    assert divert_candidates(incident=urgent) == []


def test_a_backup_is_diverted_by_releasing_it(world: World) -> None:
    minor = advance(world, new_incident(world, priority=3), "on_scene")
    backup = world.city.units[1]
    services.incident_dispatch(incident=minor, unit=backup, actor=world.dispatcher)
    urgent = new_incident(world, priority=1)
    assert [c.unit for c in divert_candidates(incident=urgent)] == [backup]
    services.incident_divert(
        incident=urgent, unit=backup, reason="紧急警情", actor=world.dispatcher
    )
    minor.refresh_from_db()
    assert (minor.status, minor.unit_id) == (IncidentStatus.ON_SCENE, world.unit.pk)
    assert Event.objects.filter(incident=minor, kind="backup_cleared").exists()


def test_a_unit_on_scene_is_not_diverted(world: World) -> None:
    advance(world, new_incident(world, priority=3), "on_scene")
    urgent = new_incident(world, priority=1)
    assert divert_candidates(incident=urgent) == []
    with pytest.raises(UnitBusy):
        services.incident_divert(
            incident=urgent, unit=world.unit, reason="紧急", actor=world.dispatcher
        )


@pytest.mark.parametrize(("urgent_priority", "minor_priority"), [(2, 3), (1, 2), (1, 1)])
def test_only_priority_1_takes_from_priority_3(
    world: World, urgent_priority: int, minor_priority: int
) -> None:
    minor = advance(world, new_incident(world, priority=minor_priority), "dispatched")
    urgent = new_incident(world, priority=urgent_priority)
    with pytest.raises(IllegalTransition):
        services.incident_divert(
            incident=urgent, unit=world.unit, reason="紧急", actor=world.dispatcher
        )
    minor.refresh_from_db()
    assert minor.unit_id == world.unit.pk  # nothing moved
    answer = api(world.dispatcher).post(
        f"/api/incidents/{urgent.pk}/divert/",
        {"unit": world.unit.pk, "reason": "紧急"},
        format="json",
    )
    assert answer.status_code == 409


def test_diverting_needs_the_command_centre_and_a_reason(world: World) -> None:
    advance(world, new_incident(world, priority=3), "dispatched")
    urgent = new_incident(world, priority=1)
    path = f"/api/incidents/{urgent.pk}/divert/"
    assert api(world.auxiliary).post(path, {"unit": world.unit.pk, "reason": "x"}).status_code in (
        403,
        404,
    )
    assert api(world.auxiliary).get(path).status_code == 403
    missing = api(world.dispatcher).post(path, {"unit": world.unit.pk}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    listed = api(world.dispatcher).get(path).json()
    assert [row["callsign"] for row in listed] == [world.unit.callsign]


def test_a_free_unit_is_simply_dispatched(world: World) -> None:
    urgent = new_incident(world, priority=1)
    incident = services.incident_divert(
        incident=urgent, unit=world.city.units[2], reason="就近", actor=world.dispatcher
    )
    assert incident.unit == world.city.units[2]
