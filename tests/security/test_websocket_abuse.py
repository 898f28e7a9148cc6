"""One hostile websocket client (a flood, garbage, a huge frame) is closed; the others on the
same audience and on the command channel go on receiving their notices."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from apps.common.notices import COMMAND, notice_publish, unit_audience
from apps.common.roles import Role
from tests.support.factories import UserFactory, crew_member, small_city
from tests.support.ws import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def joined(path: str, user: Any) -> WebsocketCommunicator:
    comm, connected, _ = await connect(path, user)
    assert connected
    await comm.send_json_to({"type": "hello", "last_seq": 0})
    return comm


async def closed_with(comm: WebsocketCommunicator) -> int | None:
    while True:
        out = await comm.receive_output(timeout=5)
        if out["type"] == "websocket.close":
            code: int | None = out.get("code")
            return code


@pytest.mark.parametrize(
    ("abuse", "close_code"),
    [
        ([b"\xff\xfe garbage"] * 5 + ['{"type": "bogus"}'] * 300, 4429),
        (['{"type": "ping", "pad": "' + "x" * 100_000 + '"}'], 4413),
    ],
    ids=["flood", "huge-frame"],
)
def test_a_hostile_client_is_closed_and_the_others_are_unaffected(
    abuse: list[str | bytes], close_code: int
) -> None:
    city = small_city()
    hostile = crew_member(city.units[0], username="hostile")
    colleague = crew_member(city.units[0], role=Role.UNIT_OFFICER, username="colleague")
    dispatcher = UserFactory(roles=[Role.DISPATCHER])

    async def scenario() -> None:
        bad = await joined("/ws/unit/", hostile)
        good = await joined("/ws/unit/", colleague)
        command = await joined("/ws/command/", dispatcher)
        await receive_until(bad, lambda f: f["type"] == "welcome")
        await receive_until(good, lambda f: f["type"] == "welcome")

        for frame in abuse:
            if isinstance(frame, bytes):
                await bad.send_to(bytes_data=frame)
            else:
                await bad.send_to(text_data=frame)
        assert await closed_with(bad) == close_code

        # The colleague on the same unit and the command centre still get their notices.
        await sync_to_async(notice_publish)(
            audience=unit_audience(city.units[0].pk), type="test.note", payload={"x": 1}
        )
        await sync_to_async(notice_publish)(audience=COMMAND, type="test.note", payload={"x": 2})
        got = await receive_until(good, lambda f: f.get("type") == "test.note")
        assert got[-1]["x"] == 1
        got = await receive_until(command, lambda f: f.get("type") == "test.note")
        assert got[-1]["x"] == 2
        await good.send_json_to({"type": "ping"})
        await receive_until(good, lambda f: f["type"] == "pong")
        await good.disconnect()
        await command.disconnect()

    async_to_sync(scenario)()
