"""Several units on one incident (the primary and its backups, 增援), and incidents a crew raises
on patrol (以巡待接), through the real services and the HTTP API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.common.errors import IllegalTransition, UnitBusy
from apps.common.models import Notice
from apps.common.roles import Role
from apps.common.sms import LocmemBackend
from apps.incidents import services
from apps.incidents.deadlines import deadline_fire
from apps.incidents.models import (
    Alert,
    AssignmentRole,
    AssignmentStatus,
    Deadline,
    DeadlineKind,
    DeadlineOutcome,
    Event,
    Incident,
    IncidentAssignment,
    IncidentStatus,
    StreamKind,
)
from apps.personnel.models import Person
from apps.realtime.selectors import live_alert_ids, pending_alert_frames, unit_snapshot
from apps.realtime.sweeper import deadlines_sweep
from apps.units.health import health_key
from apps.units.models import Unit, UnitStatus
from tests.support.api import api
from tests.support.factories import World, advance, crew_member, new_incident

pytestmark = pytest.mark.django_db

# Cell R1C0 of the small city: near unit U0, outside the priority zone (5-minute arrival target).
CALM = {"lat": 22.79, "lon": 100.951}


def _crew(world: World, index: int) -> User:
    """An auxiliary posted to unit U<index>."""
    return crew_member(world.city.units[index], username=f"crew{index}")


def _send(world: World, incident: Incident, index: int) -> Incident:
    return services.incident_dispatch(
        incident=incident, unit=world.city.units[index], actor=world.dispatcher
    )


def _assignment(incident: Incident, index: int, world: World) -> IncidentAssignment:
    return IncidentAssignment.objects.get(incident=incident, unit=world.city.units[index])


def _unit(world: World, index: int) -> Unit:
    return Unit.objects.get(pk=world.city.units[index].pk)


def _on_scene_backup(world: World, incident: Incident, index: int) -> User:
    """Send U<index> as a backup and walk its crew to the scene; returns the crew member."""
    crew = _crew(world, index)
    _send(world, incident, index)
    services.incident_acknowledge(incident=incident, actor=crew)
    services.incident_en_route(incident=incident, actor=crew)
    services.incident_arrive(incident=incident, actor=crew)
    return crew


def _when(value: Any) -> datetime | None:
    return parse_datetime(value) if value is not None else None


# --- sending several units -----------------------------------------------------------------


def test_two_further_units_join_as_backups_each_with_its_own_times_alert_and_deadlines(
    world: World,
) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start = timezone.now()
        incident = new_incident(world, **CALM)
        _send(world, incident, 0)
        clock.shift(20)
        _send(world, incident, 1)
        clock.shift(20)
        incident = _send(world, incident, 2)

    # The incident is still the primary's: its status, unit and stamp.
    incident.refresh_from_db()
    assert (incident.status, incident.unit_id) == (IncidentStatus.DISPATCHED, world.unit.pk)
    assert incident.dispatched_at == start

    rows = list(IncidentAssignment.objects.filter(incident=incident).order_by("dispatched_at"))
    assert [(a.unit.callsign, a.role, a.status) for a in rows] == [
        ("U0", AssignmentRole.PRIMARY, AssignmentStatus.DISPATCHED),
        ("U1", AssignmentRole.BACKUP, AssignmentStatus.DISPATCHED),
        ("U2", AssignmentRole.BACKUP, AssignmentStatus.DISPATCHED),
    ]
    assert [a.dispatched_at - start for a in rows] == [
        timedelta(0),
        timedelta(seconds=20),
        timedelta(seconds=40),
    ]
    assert all(a.dispatched_by == world.dispatcher and a.cleared_at is None for a in rows)

    # Two deadlines per dispatch, each timed from that unit's own dispatch.
    for a in rows:
        due = {d.kind: d for d in Deadline.objects.filter(assignment=a)}
        assert set(due) == {DeadlineKind.ACKNOWLEDGE, DeadlineKind.ARRIVAL}
        assert due[DeadlineKind.ACKNOWLEDGE].due_at == a.dispatched_at + timedelta(
            seconds=settings.TARGET_ACKNOWLEDGE_S
        )
        assert due[DeadlineKind.ARRIVAL].due_at == a.dispatched_at + timedelta(
            seconds=settings.TARGET_ARRIVAL_S
        )
        assert {d.unit_id for d in due.values()} == {a.unit_id}
    assert Deadline.objects.filter(incident=incident).count() == 6

    # One alert per unit, each on its crew's audience.
    alerts = {a.unit_id: a for a in Alert.objects.filter(incident=incident)}
    assert set(alerts) == {u.pk for u in world.city.units[:3]}
    for unit_id, alert in alerts.items():
        frame = Notice.objects.get(audience=f"unit:{unit_id}", seq=alert.seq)
        assert frame.type == "dispatch.alert"
        assert frame.payload["incident"]["id"] == incident.pk

    for i in (1, 2):
        unit = _unit(world, i)
        assert (unit.status, unit.current_incident_id) == (UnitStatus.DISPATCHED, incident.pk)
    backups = Event.objects.filter(
        stream=StreamKind.INCIDENT, stream_id=incident.pk, kind="backup_dispatched"
    ).order_by("seq")
    assert [(e.payload["callsign"], e.from_state, e.to_state) for e in backups] == [
        ("U1", "dispatched", "dispatched"),
        ("U2", "dispatched", "dispatched"),
    ]


def test_a_backups_unacknowledged_alert_still_stands_for_its_phone(world: World) -> None:
    incident = advance(world, new_incident(world), "acknowledged")
    _send(world, incident, 1)
    unit1 = world.city.units[1].pk
    alert = Alert.objects.get(incident=incident, unit_id=unit1)
    # The phone was offline when it was sent: on reconnect it is replayed, not `dispatch.expired`;
    # it is in the snapshot's pending alerts; and the re-send loop sends it again.
    assert live_alert_ids([str(alert.id)]) == {str(alert.id)}
    assert unit_snapshot(unit1)["pending_alerts"] == [str(alert.id)]
    frames, ids = pending_alert_frames([unit1])
    assert ids == [alert.id]
    assert [f["alert_id"] for f in frames[unit1]] == [str(alert.id)]


def test_a_busy_unit_cannot_be_sent_as_a_backup(world: World) -> None:
    first = advance(world, new_incident(world), "acknowledged")
    second = _send(world, new_incident(world, **CALM), 1)
    with pytest.raises(UnitBusy):
        _send(world, second, 0)
    with pytest.raises(UnitBusy):
        _send(world, first, 0)  # already its primary
    assert IncidentAssignment.objects.filter(unit=world.unit).count() == 1
    response = api(world.dispatcher).post(
        f"/api/incidents/{second.pk}/dispatch/", {"unit": world.unit.pk}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "unit_busy"


def test_the_backup_crews_own_steps_move_its_assignment_and_not_the_incident(
    world: World,
) -> None:
    crew1 = _crew(world, 1)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        incident = advance(world, new_incident(world, **CALM), "acknowledged")
        primary_ack = incident.acknowledged_at
        clock.shift(5)
        _send(world, incident, 1)
        clock.shift(10)
        services.incident_acknowledge(incident=incident, actor=crew1)
        acked = timezone.now()
        clock.shift(10)
        services.incident_en_route(incident=incident, actor=crew1)
        clock.shift(60)
        services.incident_arrive(incident=incident, actor=crew1)
        arrived = timezone.now()

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_at == primary_ack
    assert incident.en_route_at is None and incident.arrived_at is None
    backup = _assignment(incident, 1, world)
    assert backup.status == AssignmentStatus.ON_SCENE
    assert backup.acknowledged_at == acked
    assert backup.en_route_at == acked + timedelta(seconds=10)
    assert backup.arrived_at == arrived
    assert _assignment(incident, 0, world).status == AssignmentStatus.ACKNOWLEDGED
    unit1 = _unit(world, 1)
    assert (unit1.status, unit1.current_incident_id) == (UnitStatus.ON_SCENE, incident.pk)
    assert _unit(world, 0).status == UnitStatus.DISPATCHED
    steps = Event.objects.filter(
        stream=StreamKind.INCIDENT, stream_id=incident.pk, kind__startswith="backup_"
    ).order_by("seq")
    assert [(e.kind, e.from_state, e.to_state, e.actor) for e in steps] == [
        ("backup_dispatched", "acknowledged", "acknowledged", world.dispatcher),
        ("backup_acknowledge", "dispatched", "acknowledged", crew1),
        ("backup_en_route", "acknowledged", "en_route", crew1),
        ("backup_arrive", "en_route", "on_scene", crew1),
    ]
    alert = Alert.objects.get(incident=incident, unit=world.city.units[1])
    assert alert.delivered_at == acked and alert.withdrawn_at is None
    # Its deadlines are met; the primary's arrival is still to come.
    outcomes = {}
    for d in Deadline.objects.filter(incident=incident):
        outcomes[(d.unit_id, d.kind)] = deadline_fire(deadline_id=d.pk, now=d.due_at)
    assert outcomes == {
        (world.unit.pk, DeadlineKind.ACKNOWLEDGE): DeadlineOutcome.MET,
        (world.unit.pk, DeadlineKind.ARRIVAL): DeadlineOutcome.MISSED,
        (unit1.pk, DeadlineKind.ACKNOWLEDGE): DeadlineOutcome.MET,
        (unit1.pk, DeadlineKind.ARRIVAL): DeadlineOutcome.MET,
    }


def test_a_backups_step_over_http_keeps_the_phones_time_and_refuses_a_skipped_step(
    world: World,
) -> None:
    crew1 = _crew(world, 1)
    incident = advance(world, new_incident(world), "on_scene")
    unit1 = world.city.units[1]
    base = f"/api/incidents/{incident.pk}/units/{unit1.pk}"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _send(world, incident, 1)
        skipped = api(crew1).post(f"{base}/arrive/", {}, format="json")
        assert skipped.status_code == 409
        # Tapped 10 s after the dispatch, reaching the server 20 s later (queued offline).
        tapped = timezone.now() + timedelta(seconds=10)
        clock.shift(30)
        response = api(crew1).post(
            f"{base}/acknowledge/", {"occurred_at": tapped.isoformat()}, format="json"
        )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "on_scene"
    assert _assignment(incident, 1, world).acknowledged_at == tapped
    # The primary's crew does not step for another unit.
    other = api(world.auxiliary).post(f"{base}/en-route/", {}, format="json")
    assert other.status_code == 403
    assert _assignment(incident, 1, world).status == AssignmentStatus.ACKNOWLEDGED
    # The command centre may, for a crew on the radio.
    radio = api(world.dispatcher).post(f"{base}/en-route/", {}, format="json")
    assert radio.status_code == 200
    assert _assignment(incident, 1, world).status == AssignmentStatus.EN_ROUTE
    assert api(world.dispatcher).post(f"{base}/land/", {}, format="json").status_code == 404


def test_a_backup_crew_cannot_resolve_the_incident(world: World) -> None:
    crew1 = _on_scene_backup(world, advance(world, new_incident(world), "on_scene"), 1)
    incident = Incident.objects.get(unit=world.unit)
    response = api(crew1).post(
        f"/api/incidents/{incident.pk}/resolve/", {"summary": "已处理"}, format="json"
    )
    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.ON_SCENE


# --- deadlines -----------------------------------------------------------------------------


def _deadline(incident: Incident, index: int, kind: DeadlineKind, world: World) -> Deadline:
    return Deadline.objects.get(incident=incident, unit=world.city.units[index], kind=kind)


def test_a_backups_missed_acknowledge_does_not_escalate_the_incident_but_the_primarys_does(
    world: World,
) -> None:
    incident = _send(world, new_incident(world, **CALM), 0)
    _send(world, incident, 1)
    backup_ack = _deadline(incident, 1, DeadlineKind.ACKNOWLEDGE, world)
    late = backup_ack.due_at + timedelta(seconds=1)

    assert deadline_fire(deadline_id=backup_ack.pk, now=late) == DeadlineOutcome.MISSED
    incident.refresh_from_db()
    assert incident.escalated_at is None
    escalated = Event.objects.get(incident=incident, kind="escalated")
    assert escalated.payload["unit"] == world.city.units[1].pk
    assert escalated.payload["primary"] is False
    told = Notice.objects.get(audience="command", type="incident.escalated")
    assert told.payload["unit_id"] == world.city.units[1].pk

    primary_ack = _deadline(incident, 0, DeadlineKind.ACKNOWLEDGE, world)
    later = primary_ack.due_at + timedelta(seconds=2)
    assert deadline_fire(deadline_id=primary_ack.pk, now=later) == DeadlineOutcome.MISSED
    incident.refresh_from_db()
    assert incident.escalated_at == later
    assert Event.objects.filter(incident=incident, kind="escalated").count() == 2


def test_a_backups_missed_arrival_is_no_breach_of_the_incident(world: World) -> None:
    incident = advance(world, new_incident(world, **CALM), "on_scene")
    crew1 = _crew(world, 1)
    _send(world, incident, 1)
    services.incident_acknowledge(incident=incident, actor=crew1)
    arrival = _deadline(incident, 1, DeadlineKind.ARRIVAL, world)
    outcome = deadline_fire(deadline_id=arrival.pk, now=arrival.due_at + timedelta(seconds=1))
    assert outcome == DeadlineOutcome.MISSED
    incident.refresh_from_db()
    assert incident.arrival_breached_at is None
    missed = Event.objects.get(incident=incident, kind="arrival_target_missed")
    assert (missed.payload["unit"], missed.payload["primary"]) == (world.city.units[1].pk, False)


def test_a_silent_backup_is_texted_about_and_the_primary_keeps_the_incident(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ESCALATION_REDISPATCH = True
    LocmemBackend.outbox.clear()
    # An officer's posting covers every shift, so the escalation texts reach them now.
    crew1 = crew_member(world.city.units[1], role=Role.UNIT_OFFICER, username="officer1")
    Person.objects.filter(user=crew1).update(phone="13900001111")
    # U2's phone is alive: it would qualify to replace a silent primary.
    cache.set(health_key(world.city.units[2].pk), {"received_at": timezone.now().isoformat()}, 600)
    incident = advance(world, new_incident(world, **CALM), "acknowledged")
    _send(world, incident, 1)
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert deadlines_sweep() == 2  # the primary's (met) and the backup's (missed)
    incident.refresh_from_db()
    assert (incident.status, incident.unit_id, incident.escalated_at) == (
        IncidentStatus.ACKNOWLEDGED,
        world.unit.pk,
        None,
    )
    assert not Event.objects.filter(incident=incident, kind="unassigned").exists()
    backup = _assignment(incident, 1, world)
    assert (backup.status, backup.cleared_at) == (AssignmentStatus.DISPATCHED, None)
    assert _unit(world, 2).status == UnitStatus.AVAILABLE
    assert [m.phone for m in LocmemBackend.outbox] == ["13900001111"]
    assert incident.number in LocmemBackend.outbox[0].text


def test_a_late_reported_backup_arrival_turns_its_missed_deadline_into_met(world: World) -> None:
    crew1 = _crew(world, 1)
    incident = advance(world, new_incident(world, **CALM), "on_scene")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _send(world, incident, 1)
        services.incident_acknowledge(incident=incident, actor=crew1)
        services.incident_en_route(incident=incident, actor=crew1)
        arrival = _deadline(incident, 1, DeadlineKind.ARRIVAL, world)
        on_scene_at = arrival.due_at - timedelta(seconds=30)
        clock.move_to(arrival.due_at + timedelta(seconds=5))
        deadline_fire(deadline_id=arrival.pk)
        assert Deadline.objects.get(pk=arrival.pk).outcome == DeadlineOutcome.MISSED
        services.incident_arrive(incident=incident, actor=crew1, occurred_at=on_scene_at)
    assert Deadline.objects.get(pk=arrival.pk).outcome == DeadlineOutcome.MET
    assert _assignment(incident, 1, world).arrived_at == on_scene_at
    withdrawn = Event.objects.get(incident=incident, kind="breach_withdrawn")
    assert withdrawn.payload["unit"] == world.city.units[1].pk


@pytest.mark.parametrize(
    ("priority", "where", "target"),
    [
        (1, CALM, "TARGET_ARRIVAL_PRIORITY_ZONE_S"),
        (2, CALM, "TARGET_ARRIVAL_S"),
        (3, {"lat": 22.77, "lon": 100.95}, "TARGET_ARRIVAL_PRIORITY_ZONE_S"),
    ],
    ids=["priority-1-anywhere", "priority-2-outside-the-zone", "priority-3-in-the-zone"],
)
def test_a_priority_one_incident_gets_the_shorter_arrival_target_for_every_unit(
    world: World, priority: int, where: dict[str, float], target: str
) -> None:
    assert settings.TARGET_ARRIVAL_PRIORITY_ZONE_S != settings.TARGET_ARRIVAL_S
    incident = _send(world, new_incident(world, priority=priority, **where), 0)
    _send(world, incident, 1)
    arrivals = Deadline.objects.filter(incident=incident, kind=DeadlineKind.ARRIVAL)
    assert arrivals.count() == 2
    for d in arrivals.select_related("assignment"):
        assert d.assignment is not None
        assert (d.due_at - d.assignment.dispatched_at).total_seconds() == getattr(settings, target)


# --- closing, releasing, taking off -----------------------------------------------------------


@pytest.mark.parametrize("close", ["transfer_pending", "resolved_on_scene"])
def test_the_primary_closing_the_incident_releases_every_backup(world: World, close: str) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    _send(world, incident, 1)  # still dispatched
    _on_scene_backup(world, incident, 2)
    if close == "resolved_on_scene":
        services.incident_resolve(incident=incident, summary="调解完毕", actor=world.officer)
    else:
        services.incident_transfer(incident=incident, reason="需立案侦查", actor=world.officer)
    kind = "transferred" if close == "transfer_pending" else "resolved"

    assert Incident.objects.get(pk=incident.pk).status == close
    rows = IncidentAssignment.objects.filter(incident=incident).order_by("unit__callsign")
    assert [(a.unit.callsign, a.status, a.clear_reason) for a in rows] == [
        ("U0", AssignmentStatus.CLEARED, kind),
        ("U1", AssignmentStatus.CLEARED, kind),
        ("U2", AssignmentStatus.CLEARED, kind),
    ]
    assert all(a.cleared_at is not None for a in rows)
    for i in (0, 1, 2):
        unit = _unit(world, i)
        assert (unit.status, unit.current_incident_id) == (UnitStatus.PATROLLING, None)
    for i in (1, 2):
        withdrawn = Notice.objects.get(
            audience=f"unit:{world.city.units[i].pk}", type="dispatch.withdrawn"
        )
        assert (withdrawn.payload["incident_id"], withdrawn.payload["kind"]) == (
            incident.pk,
            kind,
        )
    # U1 never acknowledged: its alert is withdrawn, so its phone is not alerted again, and its
    # deadlines are superseded.
    pending = Alert.objects.get(incident=incident, unit=world.city.units[1])
    assert pending.withdrawn_at is not None
    ack = _deadline(incident, 1, DeadlineKind.ACKNOWLEDGE, world)
    assert deadline_fire(deadline_id=ack.pk, now=ack.due_at) == DeadlineOutcome.SUPERSEDED
    assert Incident.objects.get(pk=incident.pk).escalated_at is None


def test_cancelling_releases_the_primary_and_every_backup(world: World) -> None:
    incident = advance(world, new_incident(world), "en_route")
    _on_scene_backup(world, incident, 1)
    services.incident_cancel(incident=incident, reason="重复报警", actor=world.dispatcher)
    assert not IncidentAssignment.objects.filter(incident=incident, cleared_at__isnull=True)
    for i in (0, 1):
        unit = _unit(world, i)
        assert (unit.status, unit.current_incident_id) == (UnitStatus.PATROLLING, None)
        withdrawn = Notice.objects.get(
            audience=f"unit:{world.city.units[i].pk}", type="dispatch.withdrawn"
        )
        assert withdrawn.payload["kind"] == "cancelled"


def test_a_backups_crew_releases_it_and_the_incident_goes_on(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    crew1 = _on_scene_backup(world, incident, 1)
    unit1 = world.city.units[1]
    response = api(crew1).post(
        f"/api/incidents/{incident.pk}/units/{unit1.pk}/clear/",
        {"reason": "现场已控制"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["unit"]["id"]) == ("on_scene", world.unit.pk)
    backup = _assignment(incident, 1, world)
    assert (backup.status, backup.clear_reason) == (AssignmentStatus.CLEARED, "现场已控制")
    assert backup.cleared_at is not None
    assert (_unit(world, 1).status, _unit(world, 1).current_incident_id) == (
        UnitStatus.PATROLLING,
        None,
    )
    primary = _assignment(incident, 0, world)
    assert (primary.status, primary.cleared_at) == (AssignmentStatus.ON_SCENE, None)
    assert _unit(world, 0).current_incident_id == incident.pk
    event = Event.objects.get(
        stream=StreamKind.INCIDENT, stream_id=incident.pk, kind="backup_cleared"
    )
    assert (event.actor, event.reason, event.unit_id) == (crew1, "现场已控制", unit1.pk)
    withdrawn = Notice.objects.get(audience=f"unit:{unit1.pk}", type="dispatch.withdrawn")
    assert withdrawn.payload["kind"] == "released"
    # Released once: a second release finds it no longer on the incident.
    again = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/units/{unit1.pk}/clear/", {}, format="json"
    )
    assert again.status_code == 409


def test_the_primary_is_not_released_and_another_crew_cannot_release_a_backup(
    world: World,
) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    _send(world, incident, 1)
    for who in (world.officer, world.dispatcher):
        response = api(who).post(
            f"/api/incidents/{incident.pk}/units/{world.unit.pk}/clear/", {}, format="json"
        )
        assert response.status_code == 409
    with pytest.raises(IllegalTransition):
        services.incident_release_unit(incident=incident, unit=world.unit, actor=world.officer)
    # The primary's crew may not release the backup either: that is its own crew's, or the
    # command centre's.
    response = api(world.officer).post(
        f"/api/incidents/{incident.pk}/units/{world.city.units[1].pk}/clear/", {}, format="json"
    )
    assert response.status_code == 403
    assert not IncidentAssignment.objects.filter(incident=incident, cleared_at__isnull=False)


def test_taking_the_primary_off_keeps_the_backups_and_the_next_unit_sent_is_primary(
    world: World,
) -> None:
    incident = advance(world, new_incident(world), "acknowledged")
    crew1 = _crew(world, 1)
    _send(world, incident, 1)
    services.incident_acknowledge(incident=incident, actor=crew1)
    incident = services.incident_unassign(incident=incident, reason="改派", actor=world.dispatcher)

    assert (incident.status, incident.unit_id) == (IncidentStatus.RECEIVED, None)
    primary = _assignment(incident, 0, world)
    assert (primary.status, primary.clear_reason) == (AssignmentStatus.CLEARED, "改派")
    assert _unit(world, 0).status == UnitStatus.PATROLLING
    backup = _assignment(incident, 1, world)
    assert (backup.status, backup.cleared_at) == (AssignmentStatus.ACKNOWLEDGED, None)
    assert _unit(world, 1).current_incident_id == incident.pk
    assert not Notice.objects.filter(
        audience=f"unit:{world.city.units[1].pk}", type="dispatch.withdrawn"
    ).exists()

    incident = _send(world, incident, 2)
    assert (incident.status, incident.unit_id) == (
        IncidentStatus.DISPATCHED,
        world.city.units[2].pk,
    )
    active = IncidentAssignment.objects.filter(incident=incident, cleared_at__isnull=True)
    assert sorted((a.unit.callsign, a.role) for a in active) == [
        ("U1", AssignmentRole.BACKUP),
        ("U2", AssignmentRole.PRIMARY),
    ]


def test_backups_left_on_an_incident_taken_off_its_primary_are_released_when_it_is_cancelled(
    world: World,
) -> None:
    crew1 = _crew(world, 1)
    incident = advance(world, new_incident(world), "en_route")
    _send(world, incident, 1)
    incident = services.incident_unassign(incident=incident, reason="改派", actor=world.dispatcher)
    # With no primary the backup's crew still reports its own steps.
    services.incident_acknowledge(incident=incident, actor=crew1)
    services.incident_en_route(incident=incident, actor=crew1)
    services.incident_arrive(incident=incident, actor=crew1)
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RECEIVED
    assert _assignment(incident, 1, world).status == AssignmentStatus.ON_SCENE
    services.incident_cancel(incident=incident, reason="误报", actor=world.dispatcher)
    assert _assignment(incident, 1, world).status == AssignmentStatus.CLEARED
    unit1 = _unit(world, 1)
    assert (unit1.status, unit1.current_incident_id) == (UnitStatus.PATROLLING, None)
    withdrawn = Notice.objects.get(audience=f"unit:{unit1.pk}", type="dispatch.withdrawn")
    assert withdrawn.payload["kind"] == "cancelled"


# --- what the command map and the crews see ------------------------------------------------------


def test_the_detail_lists_every_unit_sent_with_its_own_times(world: World) -> None:
    crew2 = _crew(world, 2)
    incident = advance(world, new_incident(world), "on_scene")
    _on_scene_backup(world, incident, 1)
    _send(world, incident, 2)
    services.incident_release_unit(
        incident=incident, unit=world.city.units[2], actor=crew2, reason="另有警情"
    )
    response = api(world.dispatcher).get(f"/api/incidents/{incident.pk}/")
    assert response.status_code == 200
    rows = response.json()["assignments"]
    assert [(r["callsign"], r["role"], r["status"], r["clear_reason"]) for r in rows] == [
        ("U0", "primary", "on_scene", ""),
        ("U1", "backup", "on_scene", ""),
        ("U2", "backup", "cleared", "另有警情"),
    ]
    for row, index in zip(rows, (0, 1, 2), strict=True):
        stored = _assignment(incident, index, world)
        assert row["unit"] == world.city.units[index].pk
        assert set(row) == {
            "unit",
            "callsign",
            "role",
            "status",
            "dispatched_at",
            "acknowledged_at",
            "en_route_at",
            "arrived_at",
            "cleared_at",
            "clear_reason",
        }
        for stamp in ("dispatched_at", "acknowledged_at", "en_route_at", "arrived_at"):
            assert _when(row[stamp]) == getattr(stored, stamp), (index, stamp)
        assert _when(row["cleared_at"]) == stored.cleared_at
    assert rows[2]["cleared_at"] is not None and rows[2]["acknowledged_at"] is None


def test_a_backups_crew_sees_the_incident(world: World) -> None:
    crew1 = _crew(world, 1)
    incident = advance(world, new_incident(world), "on_scene")
    assert api(crew1).get(f"/api/incidents/{incident.pk}/").status_code == 404
    _send(world, incident, 1)
    response = api(crew1).get(f"/api/incidents/{incident.pk}/")
    assert response.status_code == 200
    assert [r["callsign"] for r in response.json()["assignments"]] == ["U0", "U1"]


def _notes_to(audience: str) -> list[str]:
    rows = Notice.objects.filter(
        audience=audience, type="incident.updated", payload__kind="note"
    ).order_by("seq")
    return [n.payload["incident"]["number"] for n in rows]


@pytest.mark.parametrize("author", ["backup", "primary", "dispatcher"])
def test_a_note_is_pushed_to_every_unit_on_the_incident(world: World, author: str) -> None:
    crew1 = _crew(world, 1)
    incident = advance(world, new_incident(world), "on_scene")
    _send(world, incident, 1)
    who = {"backup": crew1, "primary": world.auxiliary, "dispatcher": world.dispatcher}[author]
    response = api(who).post(
        f"/api/incidents/{incident.pk}/notes/", {"text": "嫌疑人持刀"}, format="json"
    )
    assert response.status_code == 200, response.content
    note = Event.objects.get(stream_id=incident.pk, kind="note")
    assert (note.actor, note.payload) == (who, {"text": "嫌疑人持刀"})
    for audience in (f"unit:{world.unit.pk}", f"unit:{world.city.units[1].pk}", "command"):
        assert _notes_to(audience) == [incident.number], audience
    assert _notes_to(f"unit:{world.city.units[2].pk}") == []


def test_a_released_backups_crew_no_longer_adds_notes(world: World) -> None:
    crew1 = _crew(world, 1)
    incident = advance(world, new_incident(world), "on_scene")
    _send(world, incident, 1)
    services.incident_release_unit(incident=incident, unit=world.city.units[1], actor=crew1)
    response = api(crew1).post(
        f"/api/incidents/{incident.pk}/notes/", {"text": "补充"}, format="json"
    )
    assert response.status_code == 403
    assert not Event.objects.filter(kind="note").exists()


# --- raised on patrol (以巡待接) -----------------------------------------------------------------

PATROL: dict[str, Any] = {
    "origin": "patrol",
    "category": "dispute",
    "priority": 2,
    "location": {"lat": 22.781, "lon": 100.952},
    "address": "思茅区振兴大道8号",
    "description": "路遇纠纷",
}


def test_a_crew_raises_an_incident_on_patrol_and_is_on_scene_at_once(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        now = timezone.now()
        response = api(world.auxiliary).post("/api/incidents/", PATROL, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["origin"]) == ("on_scene", "patrol")
    assert body["unit"] == {"id": world.unit.pk, "callsign": "U0"}
    assert body["recommendations"] == []
    incident = Incident.objects.get(pk=body["id"])
    assert (incident.received_by, incident.received_at, incident.arrived_at) == (
        world.auxiliary,
        now,
        now,
    )
    # Nobody was dispatched: no dispatch stamps, no alert, no deadlines.
    assert incident.dispatched_at is None and incident.acknowledged_at is None
    assert not Alert.objects.filter(incident=incident).exists()
    assert not Deadline.objects.filter(incident=incident).exists()
    assert incident.grid_cell is not None and incident.grid_cell.code == "R1C0"
    assert incident.station == world.city.stations[0]
    (primary,) = IncidentAssignment.objects.filter(incident=incident)
    assert (primary.unit_id, primary.role, primary.status, primary.cleared_at) == (
        world.unit.pk,
        AssignmentRole.PRIMARY,
        AssignmentStatus.ON_SCENE,
        None,
    )
    unit = _unit(world, 0)
    assert (unit.status, unit.current_incident_id) == (UnitStatus.ON_SCENE, incident.pk)
    raised = Event.objects.get(
        stream=StreamKind.INCIDENT, stream_id=incident.pk, kind="raised_on_patrol"
    )
    assert (raised.actor, raised.to_state) == (world.auxiliary, "on_scene")
    # The crew resolves it as any other.
    services.incident_resolve(incident=incident, summary="已调解", actor=world.officer)
    assert _unit(world, 0).status == UnitStatus.PATROLLING


def test_a_crew_already_on_an_incident_cannot_raise_another(world: World) -> None:
    advance(world, new_incident(world), "dispatched")
    before = Incident.objects.count()
    response = api(world.officer).post("/api/incidents/", PATROL, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "unit_busy"
    assert Incident.objects.count() == before


def test_a_backups_crew_cannot_raise_an_incident_either(world: World) -> None:
    crew1 = _crew(world, 1)
    incident = advance(world, new_incident(world), "on_scene")
    _send(world, incident, 1)
    response = api(crew1).post("/api/incidents/", PATROL, format="json")
    assert response.status_code == 409
    assert Incident.objects.count() == 1


@pytest.mark.parametrize("who", ["dispatcher", "commander", "station_user"])
def test_only_a_crew_raises_an_incident_on_patrol(world: World, who: str) -> None:
    response = api(getattr(world, who)).post("/api/incidents/", PATROL, format="json")
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_a_crew_cannot_raise_an_incident_for_another_unit(world: World) -> None:
    body = {**PATROL, "unit": world.city.units[3].pk}
    response = api(world.auxiliary).post("/api/incidents/", body, format="json")
    assert response.status_code == 403
    assert not Incident.objects.exists()
    assert _unit(world, 3).status == UnitStatus.AVAILABLE


def test_a_patrol_incident_without_an_address_is_400(world: World) -> None:
    body = {k: v for k, v in PATROL.items() if k != "address"}
    response = api(world.auxiliary).post("/api/incidents/", body, format="json")
    assert response.status_code == 400
    assert "address" in response.json()
    assert not Incident.objects.exists()
    assert _unit(world, 0).status == UnitStatus.AVAILABLE
