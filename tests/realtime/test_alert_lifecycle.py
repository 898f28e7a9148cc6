"""Alerts end when their incident moves on (issue 14): an acknowledge by any path receipts the
alert, every other exit from the dispatched state withdraws it, and a phone that connects or
catches up is never alerted for an incident that was acknowledged, moved on or closed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.models import Alert, Incident
from apps.realtime import selectors as sel
from apps.realtime import services as delivery
from tests.support.concurrency import run
from tests.support.factories import UserFactory, crew_member, small_city
from tests.support.ws import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


def _dispatch(city: Any, dispatcher: Any) -> Incident:
    incident = services.incident_create(
        actor=dispatcher,
        category="dispute",
        priority=2,
        lat=22.781,
        lon=100.951,
        address="振兴大道88号",
    )
    return services.incident_dispatch(incident=incident, unit=city.units[0], actor=dispatcher)


def _radio_to_resolved(incident: Incident, dispatcher: Any) -> Incident:
    """The command centre steps the incident through for a crew that reports by radio."""
    for action in ("acknowledge", "en_route", "arrive"):
        incident = services.incident_transition(
            action=action, incident=incident, actor=dispatcher, data={}
        )
    return services.incident_resolve(incident=incident, summary="调解完毕", actor=dispatcher)


def test_an_acknowledge_on_the_crews_behalf_receipts_the_alert() -> None:
    city = small_city()
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    incident = _dispatch(city, dispatcher)
    assert delivery.alerts_resend_one(city.units[0].pk), "the alert awaits its receipt"
    services.incident_acknowledge(incident=incident, actor=dispatcher)
    alert = Alert.objects.get(incident=incident)
    assert alert.delivered_at is not None and alert.withdrawn_at is None
    assert delivery.alerts_resend_one(city.units[0].pk) == []


def test_a_resolve_done_by_radio_leaves_nothing_to_resend_or_snapshot() -> None:
    city = small_city()
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    _radio_to_resolved(_dispatch(city, dispatcher), dispatcher)
    assert delivery.alerts_resend_one(city.units[0].pk) == []
    assert sel.unit_snapshot(city.units[0].pk)["pending_alerts"] == []


def test_an_alert_left_pending_by_older_data_never_reaches_a_phone_again() -> None:
    city = small_city()
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    incident = _radio_to_resolved(_dispatch(city, dispatcher), dispatcher)
    # A row as the earlier code left it: never receipted, never withdrawn, incident closed.
    with transaction.atomic():
        Alert.objects.filter(incident=incident).update(delivered_at=None, withdrawn_at=None)
    assert delivery.alerts_resend_one(city.units[0].pk) == []
    assert sel.unit_snapshot(city.units[0].pk)["pending_alerts"] == []


def test_a_fresh_login_after_closed_incidents_gets_no_alert() -> None:
    city = small_city()
    aux = crew_member(city.units[0])
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    closed = [_radio_to_resolved(_dispatch(city, dispatcher), dispatcher) for _ in range(3)]
    assert all(i.status == "resolved_on_scene" for i in closed)

    async def scenario() -> list[dict[str, Any]]:
        comm, connected, _ = await connect("/ws/unit/", aux)
        assert connected
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        # The replay ends with the last closed incident's resolve (the unit audience's last).
        frames = await receive_until(
            comm,
            lambda f: (
                f["type"] == "incident.updated"
                and f["incident_id"] == closed[-1].pk
                and f["kind"] == "resolved"
            ),
        )
        await comm.send_json_to({"type": "ping"})
        frames += await receive_until(comm, lambda f: f["type"] == "pong")
        await comm.disconnect()
        return frames

    frames = run(scenario)
    assert [f for f in frames if f["type"] == "dispatch.alert"] == []
    assert any(f["type"] == "incident.updated" for f in frames)
    # The stale alerts keep their places in the sequence, silently.
    expired = [f for f in frames if f["type"] == "dispatch.expired"]
    assert sorted(f["incident_id"] for f in expired) == sorted(i.pk for i in closed)
    seqs = [f["seq"] for f in frames if "seq" in f]
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_phone_catching_up_still_gets_an_alert_that_stands() -> None:
    city = small_city()
    aux = crew_member(city.units[0])
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    _radio_to_resolved(_dispatch(city, dispatcher), dispatcher)
    waiting = _dispatch(city, dispatcher)

    async def scenario() -> list[dict[str, Any]]:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        frames = await receive_until(
            comm, lambda f: f["type"] == "dispatch.alert" and f.get("resent") is not True
        )
        await comm.disconnect()
        return frames

    alerts = [f for f in run(scenario) if f["type"] == "dispatch.alert"]
    assert {f["incident"]["id"] for f in alerts} == {waiting.pk}


def test_the_silent_units_phone_is_told_the_incident_was_withdrawn() -> None:
    city = small_city()
    aux = crew_member(city.units[0])
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    incident = _dispatch(city, dispatcher)

    async def scenario() -> list[dict[str, Any]]:
        from asgiref.sync import sync_to_async

        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        await receive_until(comm, lambda f: f["type"] == "dispatch.alert")
        await sync_to_async(services.incident_unassign)(
            incident=incident, reason="改派", actor=dispatcher
        )
        frames = await receive_until(comm, lambda f: f["type"] == "dispatch.withdrawn")
        await comm.disconnect()
        return frames

    withdrawn = run(scenario)[-1]
    assert withdrawn["incident_id"] == incident.pk and withdrawn["kind"] == "unassigned"
    assert withdrawn["reason"] == "改派" and isinstance(withdrawn["seq"], int)
    alert = Alert.objects.get(incident=incident)
    assert alert.withdrawn_at is not None
