"""Alert latency: N unit sockets connected to one daphne, dispatches at R per second through the
HTTP API (create incident, then dispatch); latency from the start of the dispatch request to the
dispatch.alert frame arriving at the dispatched unit's socket. With the floor: a Redis
PUBLISH → SUBSCRIBE round trip and a websocket ping → pong through daphne."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.data import CENTER, build_city
from bench.env import BenchEnv, machine, write_result
from bench.fleet import FleetProc, percentiles
from tests.support.api import Api
from tests.support.procs import BIN, Proc, wait_for

FLOOR_SAMPLES = 200
CLK_TCK = os.sysconf("SC_CLK_TCK")


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes of one process group: a benchmark
    process with its children (the Celery worker's pool)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # the fields after the name: state, ppid, pgrp, …
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def machine_cpu_s() -> tuple[float, float]:
    """CPU seconds the whole machine (all cores) spent busy, and those the hypervisor took for
    other guests (steal): /proc/stat's user, nice, system, irq, softirq; and steal."""
    with open("/proc/stat", encoding="ascii") as fh:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (
            int(v) for v in fh.readline().split()[1:9]
        )
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


class CpuShares:
    """How many cores each benchmark process used during a cell, the rest of the machine
    (PostgreSQL, Redis, this process's load generator, and anything else running), and what the
    hypervisor took for other guests (steal). A large rest besides PostgreSQL's usual share, or
    any steal, marks a run that other work disturbed."""

    def __init__(self, procs: dict[str, Proc]) -> None:
        self.pgids = {name: p.popen.pid for name, p in procs.items()}  # each leads its group
        self.start = time.monotonic()
        self.before = {name: group_cpu_s(g) for name, g in self.pgids.items()}
        self.machine_before = machine_cpu_s()

    def cores(self) -> dict[str, float]:
        took = time.monotonic() - self.start
        used = {
            name: round((group_cpu_s(g) - self.before[name]) / took, 2)
            for name, g in self.pgids.items()
        }
        (busy, steal), (busy0, steal0) = machine_cpu_s(), self.machine_before
        machine = round((busy - busy0) / took, 2)
        return {
            **used,
            "rest": round(machine - sum(used.values()), 2),
            "machine": machine,
            "steal": round((steal - steal0) / took, 2),
        }


def redis_floor(env: BenchEnv, samples: int = FLOOR_SAMPLES) -> dict[str, Any]:
    """PUBLISH on one connection, time until a SUBSCRIBEd connection has the message."""
    import redis

    pub = redis.Redis.from_url(env.redis_url)
    sub = redis.Redis.from_url(env.redis_url).pubsub()
    sub.subscribe("bench.floor")
    wait_for(lambda: sub.get_message(timeout=1), timeout=10, what="subscribe confirmation")
    rtts: list[float] = []
    for i in range(samples):
        start = time.monotonic_ns()
        pub.publish("bench.floor", str(i))
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            message = sub.get_message(timeout=1)
        if message is not None:
            rtts.append((time.monotonic_ns() - start) / 1e6)
    sub.close()
    pub.close()
    return {"samples": len(rtts), **percentiles(rtts)}


def websocket_floor(port: int, token: str, samples: int = FLOOR_SAMPLES) -> dict[str, Any]:
    # A unit socket: its snapshot is one small frame (the command socket's, thousands of units,
    # comes in parts: found here when one 1.28 MB frame hit daphne's 1 MiB limit).
    """{"type": "ping"} → pong through daphne and the consumer (no database, no Redis).

    Paced below the consumer's flood limit (10 frames/s with a burst of 40)."""
    from websockets.sync.client import connect

    rtts: list[float] = []
    with connect(
        f"ws://127.0.0.1:{port}/ws/unit/?token={token}",
        origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        open_timeout=30,
    ) as ws:
        ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        for _ in range(samples):
            start = time.monotonic_ns()
            ws.send('{"type":"ping"}')
            while json.loads(ws.recv(timeout=10)).get("type") != "pong":
                pass
            rtts.append((time.monotonic_ns() - start) / 1e6)
            time.sleep(0.11)  # the flood limit, not a wait for a result
    return {"samples": len(rtts), **percentiles(rtts)}


def run_cell(
    apis: list[Api],
    fleet: FleetProc,
    unit_ids: list[int],
    rate: float,
    seconds: float,
    procs: dict[str, Proc],
) -> dict[str, Any]:
    count = max(1, int(rate * seconds))
    free: collections.deque[int] = collections.deque(unit_ids)
    free_lock = threading.Lock()
    # incident → (unit, dispatch request start ns, dispatch request ms)
    starts: dict[int, tuple[int, int, float]] = {}
    errors: list[str] = []
    cancels: list[tuple[float, int, int]] = []
    cancel_lock = threading.Lock()
    done = threading.Event()

    def take_unit() -> int | None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with free_lock:
                if free:
                    return free.popleft()
            time.sleep(0.01)  # all N units busy: wait for a cancel to free one
        return None

    def dispatch(i: int, at: float) -> None:
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the open-loop schedule: dispatch i starts at t0 + i / R
        unit = take_unit()
        if unit is None:
            errors.append("no free unit within 30 s")
            return
        api = apis[i % len(apis)]
        try:
            incident = api.new_incident(CENTER[0], CENTER[1])
            start = time.monotonic_ns()  # the dispatch request's start
            api.post(f"/api/incidents/{incident['id']}/dispatch/", {"unit": unit})
        except Exception as exc:  # report, don't stop the run
            errors.append(str(exc)[:300])
            with free_lock:
                free.append(unit)
            return
        starts[incident["id"]] = (unit, start, (time.monotonic_ns() - start) / 1e6)
        with cancel_lock:
            cancels.append((time.monotonic() + 1.0, incident["id"], unit))

    def canceller() -> None:
        # Frees the units (a unit takes one incident at a time) a second after dispatch, through
        # the API processes in turn as a load balancer would (all through the last one, its
        # single request thread had ~0.75 s of CPU work a second, and its dispatches queued).
        sent = 0
        while not (done.is_set() and not cancels):
            with cancel_lock:
                due = [c for c in cancels if c[0] <= time.monotonic()]
                for c in due:
                    cancels.remove(c)
            for _, incident_id, unit in due:
                api = apis[sent % len(apis)]
                sent += 1
                status, data = api.call(
                    "POST", f"/api/incidents/{incident_id}/cancel/", {"reason": "基准测试"}
                )
                if status >= 300:
                    errors.append(f"cancel {status} {data}")
                with free_lock:
                    free.append(unit)
            if not due:
                time.sleep(0.05)

    cancel_thread = threading.Thread(target=canceller, daemon=True)
    cancel_thread.start()
    fleet.command("LAG", 30)  # from now on
    cpu = CpuShares(procs)
    t0 = time.monotonic() + 0.5
    workers = int(min(64, max(4, rate * 2)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i in range(count):
            pool.submit(dispatch, i, t0 + i / rate)
    sent_for = time.monotonic() - t0
    # Every alert should arrive; those missing 30 s after the last dispatch are lost.
    ids = set(starts)
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: ids <= set(fleet.arrivals), timeout=30, what="alerts")
    cores = cpu.cores()
    _, lag_samples, lag_p50, lag_p99, lag_max = fleet.command("LAG", 30)
    done.set()
    cancel_thread.join(timeout=120)
    latencies, dispatch_ms, resent = [], [], 0
    for incident_id, (unit, start, req_ms) in starts.items():
        dispatch_ms.append(req_ms)
        arrival = fleet.arrivals.get(incident_id)
        if arrival is None:
            continue
        if arrival.unit_id != unit:
            errors.append(f"incident {incident_id}: alert reached unit {arrival.unit_id}")
            continue
        resent += arrival.resent
        latencies.append((arrival.at_ns - start) / 1e6)
    return {
        "dispatches_planned": count,
        "dispatched": len(starts),
        "achieved_rate_per_s": round(len(starts) / max(sent_for, 1e-9), 2),
        "alert_latency_ms": percentiles(latencies),
        "http_dispatch_request_ms": percentiles(dispatch_ms),
        "delivered": len(latencies),
        "lost": len(starts) - len(latencies),
        "delivered_by_resend": resent,
        "errors": len(errors),
        "error_samples": errors[:5],
        # The clients' event loop woke this late (every 10 ms): what a frame arriving then waited
        # in the client before it was timestamped.
        "client_loop_lag_ms": {
            "samples": int(lag_samples),
            "p50": float(lag_p50),
            "p99": float(lag_p99),
            "max": float(lag_max),
        },
        "cpu_cores_during_cell": cores,
    }


def run(
    env: BenchEnv, *, quick: bool, ns: list[int], rates: list[float], seconds: float
) -> dict[str, Any]:
    city = build_city(max(ns))
    ws_proc, ws_port = env.start_daphne("daphne-ws")
    api_daphnes = [env.start_daphne(f"daphne-api-{i}") for i in range(2)]
    api_ports = [port for _, port in api_daphnes]
    worker = env.spawn(
        "worker",
        [
            str(BIN / "celery"),
            "-A",
            "cad_project",
            "worker",
            "-l",
            "warning",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
        ],
    )
    apis = [env.api(port, city.dispatcher_token) for port in api_ports]
    pairs = [(u, city.unit_tokens[u]) for u in city.unit_ids]
    fleet = FleetProc.start(env, "fleet", ws_port, pairs)
    procs = {
        "websocket_daphne": ws_proc,
        **{f"api_daphne_{i}": proc for i, (proc, _) in enumerate(api_daphnes)},
        "celery_worker": worker,
        "clients": fleet.proc,
    }
    result: dict[str, Any] = {
        "benchmark": "alert_latency",
        "machine": machine(),
        "setup": {
            "websocket_daphne_processes": 1,
            "api_daphne_processes": len(api_ports),
            "celery_workers": 1,
            "seconds_per_cell": seconds,
            "cancel_after_s": 1.0,
            "quick": quick,
        },
        "cells": [],
    }
    try:
        for n in ns:
            opened, failed, took = fleet.connect(n)
            print(f"  connected {opened} unit sockets ({failed} failed) in {took:.1f}s", flush=True)
            floor_redis = redis_floor(env)
            floor_ws = websocket_floor(ws_port, city.unit_tokens[city.unit_ids[-1]])
            print(
                f"  floor with N={n}: redis pub→sub p50 {floor_redis['p50']} ms, "
                f"websocket ping→pong p50 {floor_ws['p50']} ms",
                flush=True,
            )
            for rate in rates:
                cell = run_cell(apis, fleet, city.unit_ids[:n], rate, seconds, procs)
                lat = cell["alert_latency_ms"]
                floor_sum = (floor_ws["p50"] or 0) + (floor_redis["p50"] or 0)
                cell.update(
                    N=n,
                    R=rate,
                    connected=opened,
                    connect_failures=failed,
                    floor_redis_ms=floor_redis,
                    floor_websocket_ms=floor_ws,
                    ratio_p50_to_floor=(
                        round(lat["p50"] / floor_sum, 1) if lat["p50"] and floor_sum else None
                    ),
                )
                result["cells"].append(cell)
                print(
                    f"  N={n:5d} R={rate:4g}/s: alert p50 {lat['p50']} p95 {lat['p95']} "
                    f"p99 {lat['p99']} max {lat['max']} ms, lost {cell['lost']}, "
                    f"dispatched {cell['dispatched']}/{cell['dispatches_planned']} "
                    f"({cell['achieved_rate_per_s']}/s), errors {cell['errors']}, "
                    f"ratio p50/floor {cell['ratio_p50_to_floor']}",
                    flush=True,
                )
                print(
                    f"    cores used: {cell['cpu_cores_during_cell']}; client loop lag "
                    f"p99 {cell['client_loop_lag_ms']['p99']} ms",
                    flush=True,
                )
                write_result("alert_latency", result)  # so far, in case a later cell fails
                if not ws_proc.alive():
                    raise RuntimeError(f"daphne-ws died:\n{ws_proc.tail()}")
    finally:
        fleet.quit()
        worker.stop()
    write_result("alert_latency", result)
    return result
