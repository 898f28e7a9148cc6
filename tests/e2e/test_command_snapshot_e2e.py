"""End-to-end: the command centre's snapshot of a large force through a real daphne.

Daphne refuses websocket messages over 1 MiB: the benchmark's snapshot of 1,000 units (1.28 MB)
closed the command socket. Here 4,000 plain units make well over 1 MiB; the snapshot now arrives
in parts, each far below the limit.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.utils import timezone
from websockets.sync.client import connect

from apps.common.roles import Role
from apps.common.services import token_issue
from apps.units.models import Unit
from tests.support.factories import UserFactory, small_city
from tests.support.marks import E2E_MARKS
from tests.support.procs import stack

pytestmark = E2E_MARKS

MIB = 1024 * 1024


def test_a_large_forces_snapshot_arrives_in_parts_and_the_socket_stays_open(
    tmp_path: Path,
) -> None:
    city = small_city()
    now = timezone.now()
    Unit.objects.bulk_create(
        Unit(
            callsign=f"大型演练{i:04d}",
            plate=f"云J·L{i:04d}警",
            staging_point=city.points[i % len(city.points)],
            lat=22.78,
            lon=100.97,
            position_at=now,
        )
        for i in range(4000)
    )
    total_units = Unit.objects.count()
    token = token_issue(user=UserFactory(roles=[Role.DISPATCHER]))[1]
    with stack(tmp_path) as s:
        _, port = s.start_daphne()
        with connect(
            f"ws://127.0.0.1:{port}/ws/command/?token={token}",
            origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
            max_size=MIB,
            open_timeout=30,
        ) as ws:
            # A number the server never issued: it answers with a full snapshot.
            ws.send(json.dumps({"type": "hello", "last_seq": 10**9}))
            raw = [ws.recv(timeout=60)]
            first = json.loads(raw[0])
            assert first["type"] == "snapshot", first
            while len(raw) < first["parts"]:
                raw.append(ws.recv(timeout=60))
            frames = [json.loads(r) for r in raw]
            assert sum(len(r.encode()) for r in raw) > MIB  # one message would have been refused
            assert all(len(r.encode()) < MIB // 2 for r in raw)
            assert [f["type"] for f in frames[1:]] == ["snapshot.part"] * (len(frames) - 1)
            assert [f.get("part", 1) for f in frames] == list(range(1, len(frames) + 1))
            assert {f["seq"] for f in frames} == {first["seq"]}
            callsigns = [u["callsign"] for f in frames for u in f.get("units", [])]
            assert len(callsigns) == len(set(callsigns)) == total_units
            # The socket is still open and answering.
            ws.send(json.dumps({"type": "ping"}))
            assert json.loads(ws.recv(timeout=30))["type"] == "pong"
