"""Every transition of the lifecycle, allowed and refused, through the real services."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.common.errors import IllegalTransition, UnitBusy
from apps.incidents import services
from apps.incidents.models import Event, Incident, IncidentStatus, StreamKind
from apps.units.models import Unit, UnitStatus
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db

S = IncidentStatus
ALL_STATES = [
    "received",
    "dispatched",
    "acknowledged",
    "en_route",
    "on_scene",
    "resolved_on_scene",
    "transfer_pending",
    "transfer_received",
    "cancelled",
]

# action → (allowed from-states, resulting state, the call)
ACTIONS: dict[str, tuple[set[str], str, Callable[[World, Incident], Incident]]] = {
    "dispatch": (
        {"received"},
        "dispatched",
        lambda w, i: services.incident_dispatch(
            incident=i, unit=w.city.units[1], actor=w.dispatcher
        ),
    ),
    "acknowledge": (
        {"dispatched"},
        "acknowledged",
        lambda w, i: services.incident_acknowledge(incident=i, actor=w.auxiliary),
    ),
    "en_route": (
        {"acknowledged"},
        "en_route",
        lambda w, i: services.incident_en_route(incident=i, actor=w.auxiliary),
    ),
    "arrive": (
        {"en_route"},
        "on_scene",
        lambda w, i: services.incident_arrive(incident=i, actor=w.auxiliary),
    ),
    "resolve": (
        {"on_scene"},
        "resolved_on_scene",
        lambda w, i: services.incident_resolve(incident=i, summary="已调解", actor=w.officer),
    ),
    "transfer": (
        {"on_scene"},
        "transfer_pending",
        lambda w, i: services.incident_transfer(incident=i, reason="需立案", actor=w.officer),
    ),
    "receive_transfer": (
        {"transfer_pending"},
        "transfer_received",
        lambda w, i: services.incident_receive_transfer(incident=i, actor=w.station_user),
    ),
    "cancel": (
        {"received", "dispatched", "acknowledged", "en_route", "on_scene"},
        "cancelled",
        lambda w, i: services.incident_cancel(incident=i, reason="误报", actor=w.dispatcher),
    ),
    "unassign": (
        {"dispatched", "acknowledged", "en_route"},
        "received",
        lambda w, i: services.incident_unassign(incident=i, reason="改派", actor=w.dispatcher),
    ),
}

CASES = [(a, s) for a in ACTIONS for s in ALL_STATES]
# Sending a unit to an incident a unit already works adds it as a backup (tests/incidents/
# test_assignments.py): the incident's state does not change.
BACKUP_STATES = {"dispatched", "acknowledged", "en_route", "on_scene"}


@pytest.mark.parametrize(("action", "state"), CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
def test_transition_matrix(world: World, action: str, state: str) -> None:
    incident = advance(world, new_incident(world), state)
    assert incident.status == state
    allowed, result, call = ACTIONS[action]
    events_before = Event.objects.count()
    if action == "dispatch" and state in BACKUP_STATES:
        incident = call(world, incident)
        assert Incident.objects.get(pk=incident.pk).status == state
        last = Event.objects.filter(stream=StreamKind.INCIDENT, stream_id=incident.pk).last()
        assert last is not None and (last.kind, last.from_state, last.to_state) == (
            "backup_dispatched",
            state,
            state,
        )
    elif state in allowed:
        incident = call(world, incident)
        assert incident.status == result
        assert Incident.objects.get(pk=incident.pk).status == result
        last = Event.objects.filter(stream=StreamKind.INCIDENT, stream_id=incident.pk).last()
        assert last is not None and (last.from_state, last.to_state) == (state, result)
    else:
        with pytest.raises(IllegalTransition) as refused:
            call(world, incident)
        assert refused.value.context["current_status"] == state
        assert str(S(state).label) in refused.value.message
        assert Incident.objects.get(pk=incident.pk).status == state
        assert Event.objects.count() == events_before


def test_intake_numbers_by_shanghai_date_and_locates_cell_and_station(world: World) -> None:
    # 17:30 UTC on 1 Mar is 01:30 on 2 Mar in Shanghai.
    with time_machine.travel("2026-03-01T17:30:00Z", tick=False):
        first = new_incident(world)
        second = new_incident(world, lat=22.795, lon=101.015)
    assert first.number == "110-20260302-0001"
    assert second.number == "110-20260302-0002"
    assert re.fullmatch(r"110-\d{8}-\d{4}", first.number)
    assert first.grid_cell is not None and first.grid_cell.code == "R0C0"
    assert first.station == world.city.stations[0]
    assert second.grid_cell is not None and second.grid_cell.code == "R1C3"
    assert second.station == world.city.stations[1]
    event = Event.objects.get(stream=StreamKind.INCIDENT, stream_id=first.pk)
    assert (event.kind, event.to_state, event.actor) == ("received", "received", world.dispatcher)


def test_unit_status_follows_the_incident_and_each_change_is_a_unit_event(world: World) -> None:
    incident = new_incident(world)
    seen = []
    for action in ("dispatch", "acknowledge", "en_route", "arrive", "resolve"):
        call = ACTIONS[action][2]
        if action == "dispatch":
            incident = services.incident_dispatch(
                incident=incident, unit=world.unit, actor=world.dispatcher
            )
        else:
            incident = call(world, incident)
        unit = Unit.objects.get(pk=world.unit.pk)
        seen.append((incident.status, unit.status, unit.current_incident_id))
    assert seen == [
        ("dispatched", "dispatched", incident.pk),
        ("acknowledged", "dispatched", incident.pk),
        ("en_route", "en_route", incident.pk),
        ("on_scene", "on_scene", incident.pk),
        ("resolved_on_scene", "patrolling", None),
    ]
    unit_events = list(
        Event.objects.filter(stream=StreamKind.UNIT, stream_id=world.unit.pk).values_list(
            "from_state", "to_state"
        )
    )
    assert unit_events == [
        ("available", "dispatched"),
        ("dispatched", "en_route"),
        ("en_route", "on_scene"),
        ("on_scene", "patrolling"),
    ]
    incident.refresh_from_db()
    assert incident.unit == world.unit  # kept for statistics
    assert incident.closed_at is not None and incident.summary == "已调解"


def test_dispatch_refuses_a_busy_unit_and_writes_nothing(world: World) -> None:
    first = advance(world, new_incident(world), "dispatched")
    second = new_incident(world)
    events_before = Event.objects.count()
    with pytest.raises(UnitBusy) as refused:
        services.incident_dispatch(incident=second, unit=world.unit, actor=world.dispatcher)
    assert refused.value.context["unit_status"] == "dispatched"
    assert Event.objects.count() == events_before
    second.refresh_from_db()
    assert second.status == "received" and second.unit is None
    assert Unit.objects.get(pk=world.unit.pk).current_incident_id == first.pk


def test_dispatch_refuses_an_out_of_service_unit(world: World) -> None:
    Unit.objects.filter(pk=world.unit.pk).update(status=UnitStatus.OUT_OF_SERVICE)
    with pytest.raises(UnitBusy):
        services.incident_dispatch(
            incident=new_incident(world), unit=world.unit, actor=world.dispatcher
        )


def test_transfer_defaults_to_the_jurisdiction_station_and_frees_the_unit(world: World) -> None:
    incident = advance(world, new_incident(world), "transfer_pending")
    assert incident.transfer_station == world.city.stations[0]
    assert incident.handed_over_at is not None
    unit = Unit.objects.get(pk=world.unit.pk)
    assert unit.status == "patrolling" and unit.current_incident is None
    # The freed unit can be sent at once, while the station has not yet signed.
    other = services.incident_dispatch(
        incident=new_incident(world), unit=world.unit, actor=world.dispatcher
    )
    assert other.status == "dispatched"


def test_transfer_to_a_named_station_is_received_only_by_that_station(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    incident = services.incident_transfer(
        incident=incident, reason="跨辖区", station=world.city.stations[1], actor=world.auxiliary
    )
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.incident_receive_transfer(incident=incident, actor=world.station_user)
    incident = services.incident_receive_transfer(incident=incident, actor=world.east_station_user)
    assert incident.status == "transfer_received"
    assert incident.transfer_received_by == world.east_station_user
    assert incident.transfer_received_at is not None


def test_transfer_refuses_a_handover_time_in_the_future(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    with pytest.raises(ValidationError):
        services.incident_transfer(
            incident=incident,
            reason="x",
            handed_over_at=timezone.now() + timezone.timedelta(hours=1),
            actor=world.officer,
        )
    assert Incident.objects.get(pk=incident.pk).status == "on_scene"


def test_unassign_returns_the_incident_to_received_and_another_unit_can_be_sent(
    world: World,
) -> None:
    incident = advance(world, new_incident(world), "en_route")
    incident = services.incident_unassign(
        incident=incident, reason="车辆故障", actor=world.commander
    )
    assert (incident.status, incident.unit, incident.dispatched_at) == ("received", None, None)
    assert Unit.objects.get(pk=world.unit.pk).status == "patrolling"
    incident = services.incident_dispatch(
        incident=incident, unit=world.city.units[1], actor=world.dispatcher
    )
    assert incident.unit == world.city.units[1]
    kinds = list(
        Event.objects.filter(stream=StreamKind.INCIDENT, stream_id=incident.pk).values_list(
            "kind", flat=True
        )
    )
    assert kinds == [
        "received",
        "dispatched",
        "acknowledge",
        "en_route",
        "unassigned",
        "dispatched",
    ]


@pytest.mark.parametrize("reason", ["", "   "])
def test_unassign_and_cancel_require_a_reason(world: World, reason: str) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    with pytest.raises(ValidationError):
        services.incident_unassign(incident=incident, reason=reason, actor=world.dispatcher)
    with pytest.raises(ValidationError):
        services.incident_cancel(incident=incident, reason=reason, actor=world.dispatcher)
    assert Incident.objects.get(pk=incident.pk).status == "dispatched"


def test_cancel_frees_the_owning_unit(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    services.incident_cancel(incident=incident, reason="报警人撤回", actor=world.dispatcher)
    unit = Unit.objects.get(pk=world.unit.pk)
    assert (unit.status, unit.current_incident) == ("patrolling", None)


def test_pushes_happen_only_after_commit(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    import apps.common.push as push

    original = push.group_sends_now
    push.group_sends_now = sent.extend  # type: ignore[assignment]
    try:
        incident = new_incident(world)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.incident_dispatch(incident=incident, unit=world.unit, actor=world.dispatcher)
        assert sent == []
        for callback in callbacks:
            callback()
    finally:
        push.group_sends_now = original
    assert {message["type"] for _, message in sent} == {"notice.push"}
    types = {(group, message["frame"]["type"]) for group, message in sent}
    assert ("command", "incident.updated") in types
    assert (f"unit.{world.unit.pk}", "dispatch.alert") in types
    assert ("command", "unit.updated") in types
