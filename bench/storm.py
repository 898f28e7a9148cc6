"""Reconnect storm: N unit sockets connected to one daphne process; the process is killed
(SIGKILL, a crash) and started again on the same port, as its service manager would; every phone
comes back as the app does (bench/wsclients.py --reconnect: 0.5-1 s, doubling with every failure
up to 30 s, equal jitter), says hello with its last sequence number and pings. Measured: the time
from the kill until every socket is back and holds the server's head (caught up), and the
alerts dispatched through the API (another daphne process) at R per second from just before the
kill until after the recovery: how many arrived, how many were lost, and their latency from the
start of the dispatch request to the frame on the phone.
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import time
from typing import Any

from bench.data import CENTER, build_city
from bench.env import BenchEnv, machine, write_result
from bench.fleet import FleetProc, app_heartbeat_s, percentiles
from tests.support.api import Api
from tests.support.procs import Proc, free_port, wait_for

HEARTBEAT_S = app_heartbeat_s()


def start_ws(env: BenchEnv, name: str, port: int) -> Proc:
    """daphne with the project's ASGI application on `port` (the same port after a restart)."""
    return env.start_daphne(name, port=port)[0]


class Dispatcher:
    """Dispatches at `rate` per second, each to a unit of its own, on a thread per dispatch (an
    open-loop schedule: a slow answer does not slow the next one)."""

    def __init__(self, api: Api, units: list[int], rate: float) -> None:
        self.api = api
        self.units = units
        self.rate = rate
        self.sent: dict[int, tuple[int, int]] = {}  # incident → (unit, request start ns)
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.loop = threading.Thread(target=self._run, daemon=True)

    def _one(self, unit: int) -> None:
        try:
            incident = self.api.new_incident(CENTER[0], CENTER[1])
            start = time.monotonic_ns()
            self.api.post(f"/api/incidents/{incident['id']}/dispatch/", {"unit": unit})
        except Exception as exc:  # report, don't stop the run
            self.errors.append(str(exc)[:300])
            return
        self.sent[incident["id"]] = (unit, start)

    def _run(self) -> None:
        t0 = time.monotonic()
        for i, unit in enumerate(self.units):
            delay = t0 + i / self.rate - time.monotonic()
            if self.stop.wait(max(0.0, delay)):
                return
            thread = threading.Thread(target=self._one, args=(unit,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def start(self) -> None:
        self.loop.start()

    def finish(self) -> None:
        self.stop.set()
        self.loop.join(timeout=30)
        for thread in self.threads:
            thread.join(timeout=60)


def run(env: BenchEnv, *, n: int, rate: float) -> dict[str, Any]:
    city = build_city(n)
    api_port = env.start_daphne("daphne-api")[1]
    api = env.api(api_port, city.dispatcher_token)
    port = free_port()
    ws = start_ws(env, "daphne-ws-1", port)
    pairs = [(u, city.unit_tokens[u]) for u in city.unit_ids]
    half = len(pairs) // 2
    fleets = [
        FleetProc.start(env, "storm-a", port, pairs[:half], HEARTBEAT_S, reconnect=True),
        FleetProc.start(env, "storm-b", port, pairs[half:], HEARTBEAT_S, reconnect=True),
    ]
    result: dict[str, Any] = {
        "benchmark": "storm",
        "machine": machine(),
        "setup": {
            "sockets": n,
            "dispatches_per_s": rate,
            "heartbeat_s": HEARTBEAT_S,
            "client_processes": len(fleets),
            "kill": "SIGKILL of the websocket daphne, started again at once on the same port",
            "backoff": "0.5-1 s, doubling per failure to 30 s, equal jitter (the app's)",
        },
    }
    try:
        t = time.monotonic()
        opened = [fleets[0].connect(half), fleets[1].connect(len(pairs) - half)]
        result["initial_connect_s"] = round(time.monotonic() - t, 1)
        result["initial_open"] = sum(o[0] for o in opened)
        print(f"  {result['initial_open']} sockets open in {result['initial_connect_s']}s")
        # Alerts from 2 s before the kill until the end; each unit is dispatched once.
        units = list(city.unit_ids)
        random.Random(17).shuffle(units)
        dispatcher = Dispatcher(api, units, rate)
        dispatcher.start()
        time.sleep(2)  # alerts flowing before the crash (the schedule, not a wait for a result)
        killed_ns = time.monotonic_ns()
        ws.kill(signal.SIGKILL)
        restarted = start_ws(env, "daphne-ws-2", port)
        up_s = (time.monotonic_ns() - killed_ns) / 1e9
        print(f"  killed; the new process listens after {up_s:.1f}s", flush=True)

        def backs() -> list[int]:
            return [b.at_ns for f in fleets for b in list(f.backs.values()) if b.at_ns > killed_ns]

        with contextlib.suppress(TimeoutError):
            wait_for(lambda: len(backs()) >= n, timeout=600, what="every socket back")
        back_s = sorted((b - killed_ns) / 1e9 for b in backs())
        recovered_s = back_s[-1] if len(back_s) >= n else None
        time.sleep(5)  # alerts keep coming after the recovery (the schedule, not a wait)
        dispatcher.finish()
        sent = dict(dispatcher.sent)

        def arrived() -> dict[int, Any]:
            out: dict[int, Any] = {}
            for f in fleets:
                out.update({i: a for i, a in list(f.arrivals.items()) if i in sent})
            return out

        with contextlib.suppress(TimeoutError):
            wait_for(lambda: len(arrived()) >= len(sent), timeout=60, what="every alert")
        got = arrived()
        during, after = [], []
        wrong = 0
        for incident, (unit, start) in sent.items():
            arrival = got.get(incident)
            if arrival is None:
                continue
            if arrival.unit_id != unit:
                wrong += 1
                continue
            ms = (arrival.at_ns - start) / 1e6
            in_storm = recovered_s is None or start < killed_ns + recovered_s * 1e9
            (during if in_storm else after).append(ms)
        replayed = [b.replayed for f in fleets for b in f.backs.values() if b.at_ns > killed_ns]
        snapshots = sum(
            1 for f in fleets for b in f.backs.values() if b.at_ns > killed_ns and b.snapshot
        )
        stats = [f.stats() for f in fleets]
        result.update(
            new_process_listening_s=round(up_s, 1),
            back=len(back_s),
            recovered_s=round(recovered_s, 1) if recovered_s is not None else None,
            back_s={
                "p50": round(back_s[len(back_s) // 2], 1) if back_s else None,
                "p90": round(back_s[int(len(back_s) * 0.9)], 1) if back_s else None,
                "p99": round(back_s[int(len(back_s) * 0.99)], 1) if back_s else None,
                "max": round(back_s[-1], 1) if back_s else None,
            },
            caught_up_with_frames=sum(1 for r in replayed if r),
            caught_up_with_snapshot=snapshots,
            connect_attempts_refused_or_timed_out=sum(s["failures"] for s in stats),
            alerts_dispatched=len(sent),
            alerts_delivered=len(got) - wrong,
            alerts_lost=len(sent) - len(got),
            alerts_to_a_wrong_unit=wrong,
            alert_latency_ms_dispatched_during_storm=percentiles(during),
            alert_latency_ms_dispatched_after_recovery=percentiles(after),
            dispatch_errors=len(dispatcher.errors),
            dispatch_error_samples=dispatcher.errors[:5],
        )
        print(
            f"  all {result['back']}/{n} back and caught up {result['recovered_s']}s after the "
            f"kill (p50 {result['back_s']['p50']}s, p90 {result['back_s']['p90']}s); alerts: "
            f"{result['alerts_delivered']}/{result['alerts_dispatched']} delivered, "
            f"{result['alerts_lost']} lost; latency during the storm p50 "
            f"{result['alert_latency_ms_dispatched_during_storm']['p50']} ms, max "
            f"{result['alert_latency_ms_dispatched_during_storm']['max']} ms; after: p50 "
            f"{result['alert_latency_ms_dispatched_after_recovery']['p50']} ms, p99 "
            f"{result['alert_latency_ms_dispatched_after_recovery']['p99']} ms",
            flush=True,
        )
        restarted.stop()
    finally:
        for f in fleets:
            f.quit()
        write_result("storm", result)
    return result
