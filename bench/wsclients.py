"""Many simulated patrol apps in one asyncio process (`python -m bench.wsclients`).

Reads commands on stdin, one per line, and answers on stdout:
  CONNECT <n>   open sockets for the first n (unit id, token) pairs of the tokens file
                → "CONNECTED <open> <failed> <seconds>"
  STATS         → "STATS <open> <pongs> <closed> <alerts>"
  QUIT          close everything and exit (also on end of input)
Each dispatch.alert frame is answered with its receipt and reported at once as
"ALERT <unit id> <incident id> <monotonic ns> <resent 0/1>". With --heartbeat S every socket
sends a ping every S seconds (the app's heartbeat).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.procs import raise_nofile


class Fleet:
    def __init__(self, port: int, pairs: list[tuple[int, str]], heartbeat: float) -> None:
        self.port = port
        self.pairs = pairs
        self.heartbeat = heartbeat
        self.sockets: dict[int, ClientConnection] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.pongs = 0
        self.closed = 0
        self.alerts = 0
        self.out = sys.stdout

    def emit(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    async def open_one(self, unit_id: int, token: str) -> bool:
        try:
            ws = await connect(
                f"ws://127.0.0.1:{self.port}/ws/unit/?token={token}",
                origin=f"http://127.0.0.1:{self.port}",  # type: ignore[arg-type]
                open_timeout=60,
                ping_interval=None,
                max_queue=None,
            )
            await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        except Exception as exc:  # refused, timed out, rejected: counted as a failure
            print(f"unit {unit_id}: {exc!r}", file=sys.stderr, flush=True)
            return False
        self.sockets[unit_id] = ws
        self.tasks.append(asyncio.create_task(self.run(unit_id, ws)))
        return True

    async def run(self, unit_id: int, ws: ClientConnection) -> None:
        beat = asyncio.create_task(self.beat(ws)) if self.heartbeat else None  # staggered pings
        try:
            async for raw in ws:
                frame: dict[str, Any] = json.loads(raw)
                kind = frame.get("type")
                if kind == "dispatch.alert":
                    now = time.monotonic_ns()
                    self.alerts += 1
                    self.emit(
                        f"ALERT {unit_id} {frame['incident']['id']} {now} "
                        f"{1 if frame.get('resent') else 0}"
                    )
                    await ws.send(
                        json.dumps({"type": "alert.received", "alert_id": frame["alert_id"]})
                    )
                elif kind == "pong":
                    self.pongs += 1
        except ConnectionClosed:
            pass
        finally:
            self.closed += 1
            self.sockets.pop(unit_id, None)
            if beat is not None:
                beat.cancel()

    async def beat(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
            await asyncio.sleep(random.uniform(0, self.heartbeat))
            while True:
                await ws.send('{"type":"ping"}')
                await asyncio.sleep(self.heartbeat)

    async def grow(self, n: int, parallel: int = 50) -> tuple[int, int]:
        todo = [p for p in self.pairs[:n] if p[0] not in self.sockets]
        failed = 0
        sem = asyncio.Semaphore(parallel)

        async def one(pair: tuple[int, str]) -> None:
            nonlocal failed
            async with sem:
                if not await self.open_one(*pair):
                    failed += 1

        await asyncio.gather(*(one(p) for p in todo))
        if failed:  # one more try for those refused or timed out (a phone retries too)
            failed = 0
            await asyncio.gather(*(one(p) for p in todo if p[0] not in self.sockets))
        return len(self.sockets), failed

    async def close(self) -> None:
        # All at once with one deadline: the process exiting closes whatever is left.
        closing = [ws.close() for ws in list(self.sockets.values())]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 10)
        for t in self.tasks:
            t.cancel()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", required=True, help="JSON file: [[unit id, token], …]")
    parser.add_argument("--heartbeat", type=float, default=0)
    parser.add_argument("--parallel", type=int, default=10)
    args = parser.parse_args()
    raise_nofile()
    with open(args.tokens, encoding="utf-8") as fh:
        pairs = [(int(u), str(t)) for u, t in json.load(fh)]
    fleet = Fleet(args.port, pairs, args.heartbeat)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "QUIT":
            break
        cmd, *rest = line.split()
        if cmd == "CONNECT":
            start = time.monotonic()
            n_open, failed = await fleet.grow(int(rest[0]), args.parallel)
            fleet.emit(f"CONNECTED {n_open} {failed} {time.monotonic() - start:.2f}")
        elif cmd == "STATS":
            fleet.emit(f"STATS {len(fleet.sockets)} {fleet.pongs} {fleet.closed} {fleet.alerts}")
    await fleet.close()


if __name__ == "__main__":
    asyncio.run(main())
