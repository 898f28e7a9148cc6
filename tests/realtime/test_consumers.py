"""Websocket consumers through Channels' WebsocketCommunicator, against the real channel layer
(Redis in CI) and the real database; the dispatch goes through the real services."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.common.notices import COMMAND, notice_publish, unit_audience
from apps.common.roles import Role
from cad_project.routing import websocket_application
from tests.support.concurrency import run
from tests.support.factories import UserFactory, crew_member, small_city
from tests.support.ws import connect, receive_until, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_unit_socket_refuses_an_anonymous_connection() -> None:
    async def scenario() -> None:
        _comm, connected, code = await connect("/ws/unit/")
        assert not connected and code == 4401
        _comm2, connected2, code2 = await connect("/ws/unit/", token="not-a-token")
        assert not connected2 and code2 == 4401

    run(scenario)


def test_unit_socket_refuses_a_user_who_crews_no_unit() -> None:
    dispatcher = UserFactory(roles=[Role.DISPATCHER])

    async def scenario() -> None:
        _, connected, code = await connect("/ws/unit/", dispatcher)
        assert not connected and code == 4403

    run(scenario)


def test_command_socket_refuses_a_crew_member() -> None:
    city = small_city()
    aux = crew_member(city.units[0])

    async def scenario() -> None:
        _, connected, code = await connect("/ws/command/", aux)
        assert not connected and code == 4403

    run(scenario)


def test_reconnect_with_last_sequence_gets_exactly_what_was_missed() -> None:
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    for i in range(5):
        notice_publish(audience=COMMAND, type="test.note", payload={"i": i})

    async def scenario() -> None:
        comm, connected, _ = await connect("/ws/command/", dispatcher)
        assert connected
        await comm.send_json_to({"type": "hello", "last_seq": 2})
        frames = await receive_until(comm, lambda f: f.get("seq") == 5)
        assert [f["seq"] for f in frames if "seq" in f] == [3, 4, 5]
        assert [f["i"] for f in frames] == [2, 3, 4]
        await comm.disconnect()

    run(scenario)


def test_a_client_that_missed_too_much_gets_a_snapshot(settings: Any) -> None:
    settings.NOTICE_CATCHUP_MAX = 3
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    small_city()
    for i in range(6):
        notice_publish(audience=COMMAND, type="test.note", payload={"i": i})

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/command/", dispatcher)
        await comm.send_json_to({"type": "hello", "last_seq": 1})
        frame = await comm.receive_json_from(timeout=5)
        assert frame["type"] == "snapshot" and frame["seq"] == 6
        assert len(frame["units"]) == 4
        # Then live notices continue from the snapshot's number.
        await sync_to_async(notice_publish)(audience=COMMAND, type="test.note", payload={"i": 6})
        live = await comm.receive_json_from(timeout=5)
        assert live["seq"] == 7 and live["i"] == 6
        await comm.disconnect()

    run(scenario)


def test_live_notices_arrive_in_order_and_a_dropped_push_is_filled_from_the_database() -> None:
    dispatcher = UserFactory(roles=[Role.DISPATCHER])

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/command/", dispatcher)
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        # Publish one notice without its push (as if the channel layer dropped it) ...
        from unittest import mock

        with mock.patch("apps.common.notices.pushes_after_commit"):
            await sync_to_async(notice_publish)(
                audience=COMMAND, type="test.note", payload={"i": 0}
            )
        # ... and the next one normally: the consumer sends both, in order.
        await sync_to_async(notice_publish)(audience=COMMAND, type="test.note", payload={"i": 1})
        frames = await receive_until(comm, lambda f: f.get("seq") == 2)
        assert [(f["seq"], f["i"]) for f in frames] == [(1, 0), (2, 1)]
        await comm.disconnect()

    run(scenario)


def test_unit_notices_do_not_reach_another_unit() -> None:
    city = small_city()
    aux0 = crew_member(city.units[0])
    aux1 = crew_member(city.units[1])

    async def scenario() -> None:
        c0, ok0, _ = await connect("/ws/unit/", aux0)
        c1, ok1, _ = await connect("/ws/unit/", aux1)
        assert ok0 and ok1
        for c in (c0, c1):
            assert (await c.receive_json_from(timeout=5))["type"] == "welcome"
            await c.send_json_to({"type": "hello", "last_seq": 0})
        await sync_to_async(notice_publish)(
            audience=unit_audience(city.units[0].pk), type="test.note", payload={"x": 1}
        )
        got = await c0.receive_json_from(timeout=5)
        assert got["x"] == 1
        assert await c1.receive_nothing(timeout=0.3)
        await c0.disconnect()
        await c1.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"type": 5}', "bad_frame"),
        ('{"type": "launch.missiles"}', "unknown_type"),
        # Internal hooks and handlers are not frame types (this one crashed the consumer).
        ('{"type": "joined"}', "unknown_type"),
        ('{"type": "session.revoked"}', "unknown_type"),
        ('{"type": "__init__"}', "unknown_type"),
        # 10 KB, under the size limit, 5,000 levels deep (closed the socket with 1011).
        ("[" * 5000 + "]" * 5000, "too_deep"),
        ('{"type": "ping", "pad": ' + "[" * 5000 + "]" * 5000 + "}", "too_deep"),
        ('{"type": "hello", "last_seq": "x"}', "bad_field"),
        ('{"type": "alert.received", "alert_id": "nope"}', "bad_field"),
        ('{"type": "position", "lat": 200, "lon": 0}', "bad_field"),
    ],
)
def test_malformed_frames_get_an_error_frame_and_the_connection_lives_on(
    frame: str, code: str
) -> None:
    city = small_city()
    aux = crew_member(city.units[0])

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_to(text_data=frame)
        error = await receive_until(comm, lambda f: f["type"] == "error")
        assert error[-1]["code"] == code
        await comm.send_json_to({"type": "ping"})
        await receive_until(comm, lambda f: f["type"] == "pong")
        await comm.disconnect()

    run(scenario)


def test_a_huge_frame_closes_the_connection(settings: Any) -> None:
    city = small_city()
    aux = crew_member(city.units[0])

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_to(text_data='{"type": "ping", "pad": "' + "x" * 100_000 + '"}')
        out = await comm.receive_output(timeout=5)
        while out["type"] != "websocket.close":
            out = await comm.receive_output(timeout=5)
        assert out["code"] == 4413

    run(scenario)


def test_a_flood_of_frames_closes_the_connection() -> None:
    city = small_city()
    aux = crew_member(city.units[0])

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        for _ in range(200):
            await comm.send_to(text_data='{"type": "bogus"}')
        closed = False
        for _ in range(400):
            out = await comm.receive_output(timeout=5)
            if out["type"] == "websocket.close":
                closed = out["code"] == 4429
                break
        assert closed

    run(scenario)


def _dispatch(city: Any, dispatcher: Any, unit_index: int = 0) -> Any:
    from apps.incidents import services

    incident = services.incident_create(
        actor=dispatcher,
        category="assistance",
        priority=1,
        lat=22.781,
        lon=100.951,
        address="民航路12号",
        description="老人走失",
    )
    return services.incident_dispatch(
        incident=incident, unit=city.units[unit_index], actor=dispatcher
    )


def test_a_dispatch_reaches_the_connected_unit_and_its_receipt_is_recorded() -> None:
    from apps.incidents.models import Alert

    city = small_city()
    aux = crew_member(city.units[0])
    dispatcher = UserFactory(roles=[Role.DISPATCHER])

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        incident = await sync_to_async(_dispatch)(city, dispatcher)
        frames = await receive_until(comm, lambda f: f["type"] == "dispatch.alert")
        alert = frames[-1]
        assert alert["incident"]["number"] == incident.number
        assert alert["incident"]["location"] == {"lat": 22.781, "lon": 100.951}
        await comm.send_json_to({"type": "alert.received", "alert_id": alert["alert_id"]})
        receipt = await receive_until(comm, lambda f: f["type"] == "alert.receipt")
        assert receipt[-1]["accepted"] is True
        row = await sync_to_async(Alert.objects.get)(pk=alert["alert_id"])
        assert row.delivered_at is not None
        await comm.disconnect()

    run(scenario)


def test_an_alert_without_receipt_is_resent_and_a_receipt_stops_it(settings: Any) -> None:
    settings.ALERT_RESEND_S = 1
    city = small_city()
    aux = crew_member(city.units[0])
    dispatcher = UserFactory(roles=[Role.DISPATCHER])

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        await sync_to_async(_dispatch)(city, dispatcher)
        first = (await receive_until(comm, lambda f: f["type"] == "dispatch.alert"))[-1]
        again = (await receive_until(comm, lambda f: f["type"] == "dispatch.alert"))[-1]
        # The same alert, marked as a re-send: the app drops it by alert_id.
        assert again["alert_id"] == first["alert_id"] and again.get("resent") is True
        assert again["seq"] == first["seq"]
        await comm.send_json_to({"type": "alert.received", "alert_id": first["alert_id"]})
        await receive_until(comm, lambda f: f["type"] == "alert.receipt")
        # Re-send periods pass without the alert (the window is the behaviour under test).
        frames: list[dict[str, Any]] = []
        for _ in range(2):
            await comm.send_json_to({"type": "ping"})
            frames += await receive_until(comm, lambda f: f["type"] == "pong", timeout=5)
        assert await comm.receive_nothing(timeout=2.5)
        assert not [f for f in frames if f["type"] == "dispatch.alert"]
        await comm.disconnect()

    run(scenario)


def test_an_alert_sent_while_the_unit_was_offline_arrives_on_connect() -> None:
    city = small_city()
    aux = crew_member(city.units[0])
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    incident = _dispatch(city, dispatcher)

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        frames = await receive_until(comm, lambda f: f["type"] == "dispatch.alert")
        assert frames[-1]["incident"]["id"] == incident.pk
        # The catch-up after hello carries it too (same alert_id: the app keeps one).
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        again = await receive_until(comm, lambda f: f["type"] == "dispatch.alert")
        assert again[-1]["alert_id"] == frames[-1]["alert_id"]
        await comm.disconnect()

    run(scenario)


def test_the_command_centre_sees_incident_changes_and_unit_positions_live() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.units.services import unit_position_record

    city = small_city()
    dispatcher = UserFactory(roles=[Role.DISPATCHER])

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/command/", dispatcher)
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        incident = await sync_to_async(_dispatch)(city, dispatcher)
        frames = await receive_until(
            comm, lambda f: f["type"] == "incident.updated" and f["status"] == "dispatched"
        )
        assert frames[-1]["incident"]["number"] == incident.number
        assert any(f["type"] == "unit.updated" for f in frames)
        seqs = [f["seq"] for f in frames if "seq" in f]
        assert seqs == list(range(1, len(seqs) + 1))
        await sync_to_async(unit_position_record)(
            unit=city.units[1],
            lat=22.79,
            lon=100.97,
            accuracy_m=8.0,
            recorded_at=timezone.now() - timedelta(seconds=1),
        )
        moved = await receive_until(comm, lambda f: f["type"] == "unit.position")
        assert moved[-1]["unit_id"] == city.units[1].pk
        assert moved[-1]["position"] == {"lat": 22.79, "lon": 100.97}
        assert "seq" not in moved[-1]
        await comm.disconnect()

    run(scenario)


def test_a_unit_sends_its_position_over_the_socket() -> None:
    from django.utils import timezone

    from apps.units.models import Unit

    city = small_city()
    aux = crew_member(city.units[0])

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        at = timezone.now().isoformat()
        fix = {"lat": 22.7801, "lon": 100.9502, "accuracy_m": 5, "recorded_at": at}
        await comm.send_json_to({"type": "position", **fix})
        await comm.send_json_to({"type": "ping"})
        await receive_until(comm, lambda f: f["type"] == "pong")
        unit = await sync_to_async(Unit.objects.get)(pk=city.units[0].pk)
        assert (unit.lat, unit.lon) == (22.7801, 100.9502)
        await comm.disconnect()

    run(scenario)


def test_origin_is_checked() -> None:
    from channels.security.websocket import AllowedHostsOriginValidator
    from channels.testing import WebsocketCommunicator

    city = small_city()
    aux = crew_member(city.units[0])
    token = token_for(aux)

    async def scenario() -> None:
        app = AllowedHostsOriginValidator(websocket_application())
        evil = WebsocketCommunicator(
            app, f"/ws/unit/?token={token}", headers=[(b"origin", b"https://evil.example")]
        )
        connected, _ = await evil.connect(timeout=5)
        assert not connected
        good = WebsocketCommunicator(
            app, f"/ws/unit/?token={token}", headers=[(b"origin", b"http://localhost")]
        )
        connected, _ = await good.connect(timeout=5)
        assert connected
        await good.disconnect()

    run(scenario)


def test_signing_a_user_out_everywhere_closes_their_open_sockets() -> None:
    from apps.common.services import user_sign_out_everywhere

    city = small_city()
    aux = crew_member(city.units[0])
    colleague = crew_member(city.units[0])

    async def scenario() -> None:
        lost, _, _ = await connect("/ws/unit/", aux)
        other, _, _ = await connect("/ws/unit/", colleague)
        for comm in (lost, other):
            await receive_until(comm, lambda f: f["type"] == "welcome")
        await sync_to_async(user_sign_out_everywhere)(user=aux)
        out = await lost.receive_output(timeout=5)
        while out["type"] != "websocket.close":
            out = await lost.receive_output(timeout=5)
        assert out["code"] == 4401
        # The colleague on the same unit stays connected.
        await other.send_json_to({"type": "ping"})
        await receive_until(other, lambda f: f["type"] == "pong")
        await other.disconnect()

    run(scenario)


def test_a_snapshot_is_cut_into_parts_below_the_budget_keeping_every_item_in_order() -> None:
    from apps.realtime.consumers import snapshot_frames

    snap = {
        "units": [{"id": i, "name": "单位" * 20} for i in range(300)],
        "incidents": [{"id": i, "text": "x" * 100} for i in range(50)],
        "server_time": "2026-11-30T08:00:00+08:00",
    }
    frames = snapshot_frames(42, snap, budget=4096)
    assert len(frames) > 3
    assert frames[0]["type"] == "snapshot" and frames[0]["server_time"] == snap["server_time"]
    assert all(f["type"] == "snapshot.part" for f in frames[1:])
    assert all(f["seq"] == 42 and f["parts"] == len(frames) for f in frames)
    assert [f.get("part", 1) for f in frames] == list(range(1, len(frames) + 1))
    assert all(len(json.dumps(f, ensure_ascii=False).encode()) <= 4096 for f in frames)
    assert [u for f in frames for u in f.get("units", [])] == snap["units"]
    assert [i for f in frames for i in f.get("incidents", [])] == snap["incidents"]
    # A small snapshot stays one frame, its lists present even when empty.
    (only,) = snapshot_frames(7, {"units": [], "incidents": [{"id": 1}]})
    assert only == {"type": "snapshot", "seq": 7, "units": [], "incidents": [{"id": 1}], "parts": 1}


def test_a_heartbeat_makes_no_trip_to_the_database_thread(monkeypatch: Any) -> None:
    """Pings (every few seconds from every unit) are answered on the event loop: Channels' own
    dispatch sent each message through close_old_connections() in the database thread first."""
    import channels.db

    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    calls: list[int] = []
    real = channels.db.close_old_connections

    def counting(**kwargs: Any) -> None:
        calls.append(1)
        real(**kwargs)

    monkeypatch.setattr(channels.db, "close_old_connections", counting)

    async def scenario() -> None:
        comm, connected, _ = await connect("/ws/command/", dispatcher)
        assert connected
        await comm.send_json_to({"type": "hello", "last_seq": 0})
        await comm.send_json_to({"type": "ping"})
        await receive_until(comm, lambda f: f["type"] == "pong")
        calls.clear()
        for _ in range(5):
            await comm.send_json_to({"type": "ping"})
            await receive_until(comm, lambda f: f["type"] == "pong")
        assert calls == []
        await comm.disconnect()

    run(scenario)
