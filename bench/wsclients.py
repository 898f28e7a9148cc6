"""Many simulated patrol apps in one asyncio process (`python -m bench.wsclients`).

Reads commands on stdin, one per line, and answers on stdout:
  CONNECT <n>   open sockets for the first n (unit id, token) pairs of the tokens file
                → "CONNECTED <open> <failed> <seconds>"
  STATS         → "STATS <open> <pongs> <closed> <alerts>"
  LAG           → "LAG <samples> <p50 ms> <p99 ms> <max ms>": how late this process's event loop
                woke since the last LAG (see LagProbe)
  QUIT          close everything and exit (also on end of input)
Each dispatch.alert frame is answered with its receipt and reported at once as
"ALERT <unit id> <incident id> <monotonic ns> <resent 0/1>". With --heartbeat S every socket
sends a ping every S seconds (the app's heartbeat).

With --reconnect a socket that closes comes back as the patrol app does (frontend/static/common/
socket.js): after 0.5-1 s, the delay doubling with every failure up to 30 s, equal jitter; it
says hello with the last sequence number it holds and pings at once. The pong that follows the
catch-up carries the server's head: once the socket holds it, it is reported as
"BACK <unit id> <monotonic ns> <frames replayed> <snapshot 0/1>".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import random
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.fleet import percentiles
from tests.support.procs import raise_nofile

MAX_DELAY_S = 30.0  # the app's backoff cap


class LagProbe:
    """How late this process's event loop wakes: a timer every PERIOD_S, its overshoot recorded.
    A frame that arrives meanwhile waits as long before it is read and timestamped, so this is
    the clients' own share of a measured latency (a thousand sockets in one Python process, on
    the cores the servers use)."""

    PERIOD_S = 0.01

    def __init__(self) -> None:
        # The last 15 minutes' worth: the benchmarks that never ask keep no more.
        self.lags_ms: collections.deque[float] = collections.deque(maxlen=90_000)

    async def run(self) -> None:
        while True:
            start = time.monotonic()
            await asyncio.sleep(self.PERIOD_S)
            self.lags_ms.append((time.monotonic() - start - self.PERIOD_S) * 1000)

    def take(self) -> str:
        lags = list(self.lags_ms)
        self.lags_ms.clear()
        if not lags:
            return "LAG 0 0 0 0"
        figures = percentiles(lags)
        return f"LAG {len(lags)} {figures['p50']} {figures['p99']} {figures['max']}"


class Fleet:
    def __init__(
        self, port: int, pairs: list[tuple[int, str]], heartbeat: float, reconnect: bool = False
    ) -> None:
        self.port = port
        self.pairs = pairs
        self.tokens = dict(pairs)
        self.heartbeat = heartbeat
        self.reconnect = reconnect
        self.sockets: dict[int, ClientConnection] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.pongs = 0
        self.closed = 0
        self.alerts = 0
        self.failures = 0  # connection attempts refused or timed out
        self.last_seq: dict[int, int] = {}
        self.replayed: dict[int, int] = {}  # numbered frames since the last (re)connect
        self.snapshot: dict[int, bool] = {}
        self.syncing: set[int] = set()  # reconnected, not yet holding the server's head
        self.stopping = False
        self.out = sys.stdout

    def emit(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    async def open_one(self, unit_id: int, token: str, *, again: bool = False) -> bool:
        try:
            ws = await connect(
                f"ws://127.0.0.1:{self.port}/ws/unit/?token={token}",
                origin=f"http://127.0.0.1:{self.port}",  # type: ignore[arg-type]
                open_timeout=60,
                ping_interval=None,
                max_queue=None,
            )
            self.replayed[unit_id] = 0
            self.snapshot[unit_id] = False
            if again:
                self.syncing.add(unit_id)
            await ws.send(json.dumps({"type": "hello", "last_seq": self.last_seq.get(unit_id, 0)}))
            if again:
                await ws.send('{"type":"ping"}')  # its pong tells the head after the catch-up
        except Exception as exc:  # refused, timed out, rejected: counted as a failure
            self.failures += 1
            if not again:
                print(f"unit {unit_id}: {exc!r}", file=sys.stderr, flush=True)
            return False
        self.sockets[unit_id] = ws
        self.tasks.append(asyncio.create_task(self.run(unit_id, ws)))
        return True

    def numbered(self, unit_id: int, frame: dict[str, Any]) -> None:
        """Keep the last sequence number as the app does (a snapshot resets it; a re-sent alert
        keeps its old number and is not counted)."""
        seq = frame.get("seq")
        if not isinstance(seq, int) or frame.get("resent"):
            return
        if frame.get("type") == "snapshot":
            self.last_seq[unit_id] = seq
            self.snapshot[unit_id] = True
        elif seq == self.last_seq.get(unit_id, 0) + 1:
            self.last_seq[unit_id] = seq
            self.replayed[unit_id] = self.replayed.get(unit_id, 0) + 1

    async def run(self, unit_id: int, ws: ClientConnection) -> None:
        beat = asyncio.create_task(self.beat(ws)) if self.heartbeat else None  # staggered pings
        try:
            async for raw in ws:
                frame: dict[str, Any] = json.loads(raw)
                kind = frame.get("type")
                self.numbered(unit_id, frame)
                if (
                    kind == "pong"
                    and unit_id in self.syncing
                    and self.last_seq.get(unit_id, 0) >= int(frame.get("seq_head") or 0)
                ):
                    self.syncing.discard(unit_id)
                    self.emit(
                        f"BACK {unit_id} {time.monotonic_ns()} {self.replayed[unit_id]} "
                        f"{1 if self.snapshot[unit_id] else 0}"
                    )
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
            self.syncing.discard(unit_id)
            if beat is not None:
                beat.cancel()
        if self.reconnect and not self.stopping:
            await self.come_back(unit_id)

    async def come_back(self, unit_id: int) -> None:
        """The app's reconnect loop: capped exponential backoff with equal jitter."""
        attempt = 0
        while not self.stopping:
            base = min(MAX_DELAY_S, 2.0**attempt)
            await asyncio.sleep(base / 2 + random.uniform(0, base / 2))
            attempt = min(attempt + 1, 10)
            if await self.open_one(unit_id, self.tokens[unit_id], again=True):
                return

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
        self.stopping = True
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
    # Handshakes in flight at once: phones coming back after a restart are thousands at once.
    parser.add_argument("--parallel", type=int, default=100)
    parser.add_argument("--reconnect", action="store_true", help="come back as the app does")
    args = parser.parse_args()
    raise_nofile()
    with open(args.tokens, encoding="utf-8") as fh:
        pairs = [(int(u), str(t)) for u, t in json.load(fh)]
    fleet = Fleet(args.port, pairs, args.heartbeat, args.reconnect)
    probe = LagProbe()
    probing = asyncio.create_task(probe.run())
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
            fleet.emit(
                f"STATS {len(fleet.sockets)} {fleet.pongs} {fleet.closed} {fleet.alerts} "
                f"{fleet.failures}"
            )
        elif cmd == "LAG":
            fleet.emit(probe.take())
    probing.cancel()
    await fleet.close()


if __name__ == "__main__":
    asyncio.run(main())
