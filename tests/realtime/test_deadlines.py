"""The 1-3-5 minute timers: deadlines in the database, fired exactly once, with escalation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from apps.common.roles import Role
from apps.common.shifts import shift_of
from apps.common.sms import LocmemBackend
from apps.incidents import services
from apps.incidents.deadlines import deadline_fire
from apps.incidents.models import (
    Deadline,
    DeadlineKind,
    DeadlineOutcome,
    Event,
    Incident,
    IncidentStatus,
)
from apps.personnel.models import Assignment, Person
from apps.realtime.sweeper import deadlines_sweep
from apps.units.health import HEALTH_TTL_S, health_key
from tests.support.concurrency import race
from tests.support.factories import PersonFactory, UserFactory, World, crew_member, new_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_outbox() -> None:
    LocmemBackend.outbox.clear()


def _heartbeat(unit: Any, *, age_s: int = 0) -> None:
    """The unit's phone reported `age_s` seconds ago (as POST /api/units/{id}/health/ stores it)."""
    at = timezone.now() - timedelta(seconds=age_s)
    cache.set(health_key(unit.pk), {"received_at": at.isoformat()}, HEALTH_TTL_S)


def _on_shift_at(user: Any, moment: Any) -> None:
    """Post the user's staging-point assignment to the shift running at `moment`."""
    Assignment.objects.filter(person__user=user).update(shift=shift_of(moment))


def _dispatch(world: World, **kw: Any) -> Incident:
    return services.incident_dispatch(
        incident=new_incident(world, **kw), unit=world.unit, actor=world.dispatcher
    )


def test_a_missed_acknowledge_escalates_once_texts_the_crew_and_sends_the_next_unit(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ESCALATION_REDISPATCH = True
    Person.objects.filter(user=world.auxiliary).update(phone="13900001111")
    _on_shift_at(world.auxiliary, timezone.now() + timedelta(seconds=61))
    _heartbeat(world.city.units[1])
    incident = _dispatch(world)
    with time_machine.travel(timezone.now() + timedelta(seconds=59)):
        assert deadlines_sweep() == 0
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=61)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert deadlines_sweep() == 1
    with time_machine.travel(timezone.now() + timedelta(seconds=62)):
        assert deadlines_sweep() == 0
    incident.refresh_from_db()
    assert incident.escalated_at is not None
    assert Event.objects.filter(incident=incident, kind="escalated").count() == 1
    # The silent unit was taken off and the next-ranked free unit sent.
    assert incident.status == IncidentStatus.DISPATCHED
    assert incident.unit_id == world.city.units[1].pk
    assert (
        Event.objects.filter(incident=incident, kind="unassigned", stream="incident").count() == 1
    )
    assert [m.phone for m in LocmemBackend.outbox] == ["13900001111"]
    assert incident.number in LocmemBackend.outbox[0].text


def test_without_redispatch_the_silent_unit_keeps_the_incident(world: World, settings: Any) -> None:
    settings.ESCALATION_REDISPATCH = False
    incident = _dispatch(world)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        deadlines_sweep()
    incident.refresh_from_db()
    assert incident.escalated_at is not None and incident.unit_id == world.unit.pk


def test_an_acknowledge_in_time_meets_the_deadline(world: World) -> None:
    incident = _dispatch(world)
    services.incident_acknowledge(incident=incident, actor=world.auxiliary)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        deadlines_sweep()
    ack = Deadline.objects.get(incident=incident, kind=DeadlineKind.ACKNOWLEDGE)
    assert ack.outcome == DeadlineOutcome.MET
    incident.refresh_from_db()
    assert incident.escalated_at is None


def test_arrival_target_is_three_minutes_in_a_priority_zone_and_five_elsewhere(
    world: World,
) -> None:
    # Cell R0C0 (22.76–22.78 N, 100.94–100.96 E) is a priority zone in the small city.
    hot = _dispatch(world, lat=22.77, lon=100.95)
    services.incident_acknowledge(incident=hot, actor=world.auxiliary)
    ack = Deadline.objects.get(incident=hot, kind=DeadlineKind.ARRIVAL)
    assert (ack.due_at - hot.dispatched_at).total_seconds() == 180  # type: ignore[operator]
    services.incident_cancel(incident=hot, reason="测试", actor=world.dispatcher)
    calm = _dispatch(world, lat=22.79, lon=100.95)
    arrival = Deadline.objects.get(incident=calm, kind=DeadlineKind.ARRIVAL)
    assert (arrival.due_at - calm.dispatched_at).total_seconds() == 300  # type: ignore[operator]


def test_a_late_arrival_records_one_breach(world: World) -> None:
    incident = _dispatch(world, lat=22.79, lon=100.95)
    services.incident_acknowledge(incident=incident, actor=world.auxiliary)
    services.incident_en_route(incident=incident, actor=world.auxiliary)
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert deadlines_sweep() == 2  # the acknowledge deadline (met) and the arrival one
        assert deadlines_sweep() == 0
    incident.refresh_from_db()
    assert incident.arrival_breached_at is not None
    assert Event.objects.filter(incident=incident, kind="arrival_target_missed").count() == 1


def test_a_reassigned_incidents_old_deadlines_are_superseded(world: World, settings: Any) -> None:
    incident = _dispatch(world)
    services.incident_unassign(incident=incident, reason="改派", actor=world.dispatcher)
    with time_machine.travel(timezone.now() + timedelta(seconds=400)):
        deadlines_sweep()
    outcomes = set(Deadline.objects.filter(incident=incident).values_list("outcome", flat=True))
    assert outcomes == {DeadlineOutcome.SUPERSEDED}
    incident.refresh_from_db()
    assert incident.escalated_at is None and incident.arrival_breached_at is None


def test_the_fast_path_and_the_sweeper_fire_a_deadline_once(world: World) -> None:
    incident = _dispatch(world)
    ack = Deadline.objects.get(incident=incident, kind=DeadlineKind.ACKNOWLEDGE)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert deadline_fire(deadline_id=ack.pk) == DeadlineOutcome.MISSED
        assert deadline_fire(deadline_id=ack.pk) is None
        assert deadlines_sweep() == 0
    assert Event.objects.filter(incident=incident, kind="escalated").count() == 1


def test_a_deadline_is_not_fired_before_it_is_due(world: World) -> None:
    incident = _dispatch(world)
    ack = Deadline.objects.get(incident=incident, kind=DeadlineKind.ACKNOWLEDGE)
    assert deadline_fire(deadline_id=ack.pk) is None
    assert Deadline.objects.get(pk=ack.pk).fired_at is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_racing_sweepers_fire_each_deadline_exactly_once(world: World, settings: Any) -> None:
    settings.ESCALATION_REDISPATCH = False
    incidents = [
        services.incident_dispatch(incident=new_incident(world), unit=unit, actor=world.dispatcher)
        for unit in world.city.units
    ]
    later = timezone.now() + timedelta(seconds=400)
    race(8, lambda _: deadlines_sweep(now=later))
    for incident in incidents:
        assert Event.objects.filter(incident=incident, kind="escalated").count() == 1
        assert Event.objects.filter(incident=incident, kind="arrival_target_missed").count() == 1
    assert not Deadline.objects.filter(fired_at__isnull=True).exists()


def test_a_dispatch_queues_one_fast_path_message_and_it_queues_the_next(
    world: World, settings: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """One Celery message per dispatch: the acknowledge deadline's task, which queues the arrival
    deadline's for its due time once it has run."""
    from apps.realtime.tasks import deadline_fire_task

    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        deadline_fire_task,
        "apply_async",
        lambda args, kwargs=None, eta=None: queued.append((args, kwargs, eta)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        incident = _dispatch(world)
    ack = Deadline.objects.get(incident=incident, kind=DeadlineKind.ACKNOWLEDGE)
    arrival = Deadline.objects.get(incident=incident, kind=DeadlineKind.ARRIVAL)
    assert queued == [([ack.pk], {"then": arrival.pk}, ack.due_at)]

    queued.clear()
    with time_machine.travel(ack.due_at + timedelta(seconds=1)):
        deadline_fire_task(ack.pk, then=arrival.pk)  # the worker runs it at its due time
    assert Deadline.objects.get(pk=ack.pk).fired_at is not None
    assert queued == [([arrival.pk], None, arrival.due_at)]

    # A second delivery of the same message after the arrival deadline fired queues nothing.
    Deadline.objects.filter(pk=arrival.pk).update(fired_at=timezone.now())
    queued.clear()
    deadline_fire_task(ack.pk, then=arrival.pk)
    assert queued == []


# --- escalation that helps (issue 14) -----------------------------------------------------------


def _miss_acknowledge(after_s: int, capture: Any) -> None:
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=after_s)),
        capture(execute=True),
    ):
        deadlines_sweep()


def test_redispatch_skips_a_unit_whose_phone_is_silent_and_never_returns_to_one_that_missed(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ESCALATION_REDISPATCH = True
    cache.clear()
    units = world.city.units
    _heartbeat(units[1], age_s=settings.ESCALATION_HEARTBEAT_MAX_AGE_S + 30)  # nearer, silent
    _heartbeat(units[2])
    incident = _dispatch(world)
    _miss_acknowledge(61, django_capture_on_commit_callbacks)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.DISPATCHED
    assert incident.unit_id == units[2].pk, "the nearest unit with a live phone"
    # U2 misses too: U0 missed already and U1's phone is silent, so nobody is sent (no
    # ping-pong): the incident stays, flagged, for the command centre.
    _heartbeat(units[0])
    _miss_acknowledge(130, django_capture_on_commit_callbacks)
    incident.refresh_from_db()
    assert incident.unit_id == units[2].pk and incident.escalated_at is not None
    missed = Deadline.objects.filter(
        incident=incident, kind=DeadlineKind.ACKNOWLEDGE, outcome=DeadlineOutcome.MISSED
    )
    assert sorted(missed.values_list("unit_id", flat=True)) == sorted([units[0].pk, units[2].pk])
    assert (
        Event.objects.filter(incident=incident, kind="unassigned", stream="incident").count() == 1
    )


def test_without_a_live_phone_anywhere_the_incident_stays_with_the_command_centre(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ESCALATION_REDISPATCH = True
    cache.clear()
    incident = _dispatch(world)
    _miss_acknowledge(61, django_capture_on_commit_callbacks)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.DISPATCHED and incident.unit_id == world.unit.pk
    assert incident.escalated_at is not None
    assert not Event.objects.filter(incident=incident, kind="unassigned").exists()


def test_escalation_texts_the_crew_on_shift_and_the_commanders_and_no_more_than_the_cap(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ESCALATION_REDISPATCH = False
    settings.ESCALATION_SMS_MAX = 3
    fire_at = timezone.now() + timedelta(seconds=61)
    on_shift = shift_of(fire_at)
    off_shift = on_shift % 3 + 1
    Person.objects.filter(user=world.auxiliary).update(phone="13900000001")
    Assignment.objects.filter(person__user=world.auxiliary).update(shift=on_shift)
    sleeping = crew_member(world.unit, username="sleeping", shift=off_shift)
    Person.objects.filter(user=sleeping).update(phone="13900000002")
    Person.objects.filter(user=world.officer).update(phone="13900000003")  # all shifts
    for n in range(4):
        commander = UserFactory(username=f"cmd{n}", roles=[Role.COMMANDER])
        PersonFactory(user=commander, phone=f"1380000000{n}")
    incident = _dispatch(world)
    with (
        time_machine.travel(fire_at),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert deadlines_sweep() == 1
    texted = [m.phone for m in LocmemBackend.outbox]
    assert "13900000002" not in texted, "nobody off shift is woken"
    assert texted[:2] == ["13900000001", "13900000003"], "the crew on shift first"
    assert len(texted) == 3 and texted[2].startswith("138"), "then commanders, up to the cap"
    assert all(incident.number in m.text for m in LocmemBackend.outbox)
