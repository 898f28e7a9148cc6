"""The websocket handshake made cheap without losing its guarantees: reads gathered over the
sockets connecting together, no catch-up read for a client that is up to date, exactly the
missed frames for one that is behind, and a sign-out during the handshake still refuses it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.common.notices import notice_publish, unit_audience
from apps.common.roles import Role
from apps.common.ws import Batched
from apps.realtime import consumers
from tests.support.concurrency import run
from tests.support.factories import UserFactory, crew_member, small_city
from tests.support.ws import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


def _count_catch_up_reads(monkeypatch: Any) -> list[list[tuple[str, int]]]:
    """Every trip of the catch-up reads (each a list of (audience, last_seq))."""
    trips: list[list[tuple[str, int]]] = []
    real = consumers.catch_ups.fn

    def counting(wanted: list[tuple[str, int]]) -> Any:
        trips.append(list(wanted))
        return real(wanted)

    monkeypatch.setattr(consumers.catch_ups, "fn", counting)
    return trips


def test_a_client_that_is_up_to_date_gets_no_catch_up_and_no_read(monkeypatch: Any) -> None:
    city = small_city()
    aux = crew_member(city.units[0])
    audience = unit_audience(city.units[0].pk)
    for i in range(3):
        notice_publish(audience=audience, type="test.note", payload={"i": i})
    trips = _count_catch_up_reads(monkeypatch)

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_json_to({"type": "hello", "last_seq": 3})
        await comm.send_json_to({"type": "ping"})
        frames = await receive_until(comm, lambda f: f["type"] == "pong")
        assert frames == [{"type": "pong", "seq_head": 3}]
        # What comes later is pushed, in order.
        await sync_to_async(notice_publish)(audience=audience, type="test.note", payload={"i": 3})
        live = await comm.receive_json_from(timeout=5)
        assert (live["seq"], live["i"]) == (4, 3)
        await comm.disconnect()

    run(scenario)
    assert trips == []


def test_a_client_that_is_behind_gets_exactly_the_missed_frames(monkeypatch: Any) -> None:
    city = small_city()
    aux = crew_member(city.units[0])
    audience = unit_audience(city.units[0].pk)
    for i in range(5):
        notice_publish(audience=audience, type="test.note", payload={"i": i})
    trips = _count_catch_up_reads(monkeypatch)

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        await comm.send_json_to({"type": "hello", "last_seq": 2})
        await comm.send_json_to({"type": "ping"})
        frames = await receive_until(comm, lambda f: f["type"] == "pong")
        assert [(f["seq"], f["i"]) for f in frames[:-1]] == [(3, 2), (4, 3), (5, 4)]
        assert frames[-1] == {"type": "pong", "seq_head": 5}
        await comm.disconnect()

    run(scenario)
    assert trips == [[(audience, 2)]]


def test_a_notice_between_the_join_and_the_hello_is_not_lost() -> None:
    city = small_city()
    aux = crew_member(city.units[0])
    audience = unit_audience(city.units[0].pk)
    notice_publish(audience=audience, type="test.note", payload={"i": 0})

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", aux)
        await receive_until(comm, lambda f: f["type"] == "welcome")
        # Published after the head was read at the join, before the client's hello.
        await sync_to_async(notice_publish)(audience=audience, type="test.note", payload={"i": 1})
        await comm.send_json_to({"type": "hello", "last_seq": 1})
        frames = await receive_until(comm, lambda f: f.get("seq") == 2)
        assert [(f["seq"], f["i"]) for f in frames] == [(2, 1)]
        await comm.disconnect()

    run(scenario)


def test_a_sign_out_during_the_handshake_refuses_the_socket(monkeypatch: Any) -> None:
    """Signed out after the token was looked up and before the socket joined the user's group
    (whose close message it would miss): the check after the join refuses it."""
    from apps.common.services import user_sign_out_everywhere

    city = small_city()
    aux = crew_member(city.units[0])
    real = consumers.groups_add

    async def signed_out_meanwhile(layer: Any, channel: str, groups: list[str]) -> None:
        await sync_to_async(user_sign_out_everywhere)(user=aux)
        await real(layer, channel, groups)

    monkeypatch.setattr(consumers, "groups_add", signed_out_meanwhile)

    async def scenario() -> None:
        _, connected, code = await connect("/ws/unit/", aux)
        assert not connected and code == 4401

    run(scenario)


def test_a_revoked_token_cannot_open_a_socket_again() -> None:
    from apps.common.services import token_revoke_all
    from tests.support.ws import token_for

    city = small_city()
    aux = crew_member(city.units[0])
    token = token_for(aux)

    async def scenario() -> None:
        comm, connected, _ = await connect("/ws/unit/", token=token)
        assert connected
        await comm.disconnect()
        await sync_to_async(token_revoke_all)(user=aux)
        _, connected, code = await connect("/ws/unit/", token=token)
        assert not connected and code == 4401

    run(scenario)


def test_handshakes_that_arrive_together_share_one_read() -> None:
    trips: list[list[int]] = []

    def squares(keys: list[int]) -> dict[int, int]:
        trips.append(keys)
        return {k: k * k for k in keys if k != 7}

    batched: Batched[int, int] = Batched(squares)

    async def scenario() -> list[int | None]:
        return list(await asyncio.gather(*(batched(k % 10) for k in range(50))))

    answers = run(scenario)
    assert answers == [None if k % 10 == 7 else (k % 10) ** 2 for k in range(50)]
    # The first call goes alone; all that came during its trip go together, each key once.
    assert len(trips) <= 2 and sorted(k for t in trips for k in t) == sorted(set(range(10)))


def test_a_failed_read_is_raised_to_every_caller_of_its_trip() -> None:
    def broken(keys: list[int]) -> dict[int, int]:
        raise RuntimeError("database down")

    batched: Batched[int, int] = Batched(broken)

    async def scenario() -> list[Any]:
        return list(await asyncio.gather(*(batched(k) for k in range(5)), return_exceptions=True))

    assert all(isinstance(a, RuntimeError) for a in run(scenario))


def test_crew_unit_ids_answers_as_unit_for_user_for_many_users_at_once() -> None:
    from apps.units.selectors import _crew_units, crew_unit_ids, unit_for_user

    city = small_city()
    crews = [crew_member(unit) for unit in city.units] + [crew_member(city.units[1])]
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    users = [*crews, dispatcher]
    found = crew_unit_ids(users)
    # The reference: every unit the user crews, either way, in one query; the lowest call sign.
    expected = {
        u.pk: unit.pk
        for u in crews
        if (unit := _crew_units(u).order_by("callsign").distinct().first()) is not None
    }
    assert found == expected
    assert dispatcher.pk not in found and len(found) == len(crews)
    assert {u.pk: getattr(unit_for_user(u), "pk", None) for u in users} == {
        **expected,
        dispatcher.pk: None,
    }


def test_autobahn_formats_its_debug_lines_only_when_they_are_written() -> None:
    from autobahn.websocket import protocol

    from apps.realtime.handshake import LazyFormat, autobahn_lazy_pformat

    autobahn_lazy_pformat()  # as the app's ready() does in every process
    calls: list[int] = []

    class Watched(dict[str, int]):
        def __repr__(self) -> str:
            calls.append(1)
            return "watched"

    lazy = protocol.pformat(Watched(a=1))
    assert isinstance(lazy, LazyFormat) and calls == []
    assert f"{lazy}" == "watched" and calls == [1]
    timings = protocol.Timings()
    timings.track("open")
    assert isinstance(str(timings), str)


def test_a_phone_handshake_reads_its_token_and_unit_in_one_trip(monkeypatch: Any) -> None:
    """Two trips to the database thread for a patrol phone: its token with the unit it crews,
    then, once in its groups, the check and the head. A user who crews no unit is refused."""
    from apps.common import ws
    from apps.realtime.services import sockets_joined

    city = small_city()
    aux = crew_member(city.units[0])
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    trips: list[Any] = []
    real = ws.database_sync_to_async

    def counting(fn: Any) -> Any:
        trips.append(getattr(fn, "func", fn))  # the token's read is a partial
        return real(fn)

    monkeypatch.setattr(ws, "database_sync_to_async", counting)

    async def scenario() -> None:
        comm, connected, _ = await connect("/ws/unit/", aux)
        assert connected
        welcome = await receive_until(comm, lambda f: f["type"] == "welcome")
        assert welcome[-1]["unit_id"] == city.units[0].pk
        await comm.disconnect()
        _, connected, code = await connect("/ws/unit/", dispatcher)
        assert not connected and code == 4403

    run(scenario)
    # The phone's two; the dispatcher's token only (refused before joining any group).
    assert trips == [ws._users_for_tokens, sockets_joined, ws._users_for_tokens]


def test_a_unit_socket_on_a_session_finds_its_unit() -> None:
    """Without a token (a crew member signed in on the site), the unit is read after the
    session: the same unit, the same refusal for someone who crews none."""
    city = small_city()
    aux = crew_member(city.units[1])
    dispatcher = UserFactory(roles=[Role.DISPATCHER])

    async def scenario() -> None:
        comm, connected, _ = await connect("/ws/unit/", aux, session=True)
        assert connected
        welcome = await receive_until(comm, lambda f: f["type"] == "welcome")
        assert welcome[-1]["unit_id"] == city.units[1].pk
        await comm.disconnect()
        refused, connected, code = await connect("/ws/unit/", dispatcher, session=True)
        assert not connected and code == 4403
        await refused.wait(timeout=5)  # its session stack has finished before the loop closes

    run(scenario)
