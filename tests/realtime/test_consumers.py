"""Websocket consumers through Channels' WebsocketCommunicator, against the real channel layer
(Redis in CI) and the real database; the dispatch goes through the real services."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.common.notices import COMMAND, notice_publish, unit_audience
from apps.common.roles import Role
from tests.factories import UserFactory, crew_member, small_city
from tests.realtime.conftest import connect, receive_until, run

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

        with mock.patch("apps.common.notices.push_after_commit"):
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
