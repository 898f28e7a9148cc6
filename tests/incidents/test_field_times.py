"""Times are when they happened (issue 14): a crew's step carries the phone's `occurred_at`; the
server keeps it as the stage time within [previous step, now] (± the clock skew), stores its own
receipt time beside it, refuses (422) a time outside, and withdraws a breach that a late report
proves was not one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from apps.incidents.models import Deadline, DeadlineKind, DeadlineOutcome, Event, IncidentStatus
from apps.realtime.sweeper import deadlines_sweep
from tests.support.api import api
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db


def _post(world: World, incident: Any, path: str, **body: Any) -> Any:
    return api(world.auxiliary).post(f"/api/incidents/{incident.pk}/{path}/", body, format="json")


def test_an_arrival_tapped_offline_keeps_the_phones_time_and_the_breach_is_withdrawn(
    world: World, settings: Any
) -> None:
    settings.ESCALATION_REDISPATCH = False
    incident = advance(world, new_incident(world), "en_route")
    tapped = incident.dispatched_at + timedelta(seconds=100)  # within the 3- and 5-minute targets
    # The phone was in a dead zone: the queued tap reaches the server 400 s after dispatch, and
    # the arrival deadline fired in between.
    with time_machine.travel(incident.dispatched_at + timedelta(seconds=400)):
        assert deadlines_sweep() >= 1
        incident.refresh_from_db()
        assert incident.arrival_breached_at is not None
        received = timezone.now()
        response = _post(world, incident, "arrive", occurred_at=tapped.isoformat())
    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ON_SCENE
    assert incident.arrived_at == tapped
    event = Event.objects.get(incident=incident, kind="arrive", stream="incident")
    assert event.at == tapped
    receipt = datetime.fromisoformat(event.payload["received_at"])
    assert abs((receipt - received).total_seconds()) < 5
    # The breach recorded at 300 s is withdrawn, with an event; the deadline counts as met.
    assert incident.arrival_breached_at is None
    assert Event.objects.filter(incident=incident, kind="breach_withdrawn").count() == 1
    arrival = Deadline.objects.get(incident=incident, kind=DeadlineKind.ARRIVAL)
    assert arrival.outcome == DeadlineOutcome.MET
    # The unit's status changed at the field time too.
    assert Event.objects.get(stream="unit", incident=incident, kind="arrive").at == tapped


def test_a_late_acknowledge_made_in_time_withdraws_the_escalation(
    world: World, settings: Any
) -> None:
    settings.ESCALATION_REDISPATCH = False
    incident = advance(world, new_incident(world), "dispatched")
    tapped = incident.dispatched_at + timedelta(seconds=40)
    with time_machine.travel(incident.dispatched_at + timedelta(seconds=90)):
        deadlines_sweep()
        incident.refresh_from_db()
        assert incident.escalated_at is not None
        assert (
            _post(world, incident, "acknowledge", occurred_at=tapped.isoformat()).status_code == 200
        )
    incident.refresh_from_db()
    assert incident.acknowledged_at == tapped and incident.escalated_at is None
    assert Event.objects.filter(incident=incident, kind="escalation_withdrawn").count() == 1


def test_an_acknowledge_reported_after_the_target_keeps_the_escalation(
    world: World, settings: Any
) -> None:
    settings.ESCALATION_REDISPATCH = False
    incident = advance(world, new_incident(world), "dispatched")
    with time_machine.travel(incident.dispatched_at + timedelta(seconds=90)):
        deadlines_sweep()
        late = incident.dispatched_at + timedelta(seconds=75)
        assert (
            _post(world, incident, "acknowledge", occurred_at=late.isoformat()).status_code == 200
        )
    incident.refresh_from_db()
    assert incident.acknowledged_at == late and incident.escalated_at is not None
    assert not Event.objects.filter(incident=incident, kind="escalation_withdrawn").exists()


def test_a_time_beyond_the_clock_skew_in_the_future_is_refused_and_nothing_is_written(
    world: World, settings: Any
) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    future = timezone.now() + timedelta(seconds=settings.ACTION_CLOCK_SKEW_S + 30)
    response = _post(world, incident, "acknowledge", occurred_at=future.isoformat())
    assert response.status_code == 422
    assert response.json()["code"] == "implausible_time" and response.json()["occurred_at"]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.DISPATCHED and incident.acknowledged_at is None
    assert not Event.objects.filter(incident=incident, kind="acknowledge").exists()


def test_a_time_before_the_previous_step_is_refused(world: World, settings: Any) -> None:
    incident = advance(world, new_incident(world), "acknowledged")
    before = incident.acknowledged_at - timedelta(seconds=settings.ACTION_CLOCK_SKEW_S + 30)
    response = _post(world, incident, "en-route", occurred_at=before.isoformat())
    assert response.status_code == 422
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED


def test_a_phone_clock_a_little_ahead_is_clamped_to_now(world: World) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    with time_machine.travel(timezone.now(), tick=False):
        ahead = timezone.now() + timedelta(seconds=20)
        assert (
            _post(world, incident, "acknowledge", occurred_at=ahead.isoformat()).status_code == 200
        )
        now = timezone.now()
    incident.refresh_from_db()
    assert incident.acknowledged_at == now


def test_without_occurred_at_the_stage_time_is_the_receipt(world: World) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    with time_machine.travel(timezone.now(), tick=False):
        assert _post(world, incident, "acknowledge").status_code == 200
        now = timezone.now()
    incident.refresh_from_db()
    assert incident.acknowledged_at == now
    event = Event.objects.get(incident=incident, kind="acknowledge", stream="incident")
    assert "received_at" not in event.payload
