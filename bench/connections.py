"""Connections: how fast one daphne process accepts unit websockets (the whole handshake: token,
unit, groups, welcome, the hello's catch-up) with 0 to `target` already open, each open socket
pinging as the patrol app does (every 25 s, `--heartbeat` for another period); how many it holds,
and its memory per connection (VmRSS).

Every step also gives the process's CPU time per connect (heartbeats of the open sockets
included: at a 5 s heartbeat 5,000 open sockets send 1,000 pings a second, as much work for the
process as the handshakes themselves), which a shared machine does not distort as much as the
wall-clock rate; and the same steps are measured against daphne with a bare ASGI app
(bench/wsfloor.py: accept, welcome, pong, nothing else), the floor that daphne itself sets in the
same conditions.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from bench.data import build_city
from bench.env import BenchEnv, machine, rss_kib, write_result
from bench.fleet import FleetProc, app_heartbeat_s
from tests.support.procs import Proc, wait_for

STEP = 1000


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pin(pid: int, cpus: set[int]) -> None:
    """Run every thread of a process (and the threads it starts later) on these CPUs only."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(tid), cpus)


def start_floor(env: BenchEnv, name: str) -> tuple[Proc, int]:
    """daphne with the bare ASGI app of bench/wsfloor.py."""
    return env.start_daphne(name, probe="/", app="bench.wsfloor:app")


def measure(
    env: BenchEnv,
    proc: Proc,
    port: int,
    pairs: list[tuple[int, str]],
    target: int,
    label: str,
    heartbeat: float,
    pinned: bool = False,
) -> list[dict[str, Any]]:
    """Open sockets STEP at a time up to `target` (two client processes, so that the clients'
    own event loop is not the limit); the figures of each step. `pinned`: daphne runs alone on
    the last CPU and the clients on the others (PostgreSQL and Redis where the kernel puts
    them): the nearest this machine comes to a process with a core of its own."""
    pid = proc.popen.pid
    time.sleep(2)  # let the process settle before the baseline reading (not a wait for a result)
    baseline = rss_kib(pid)
    half = len(pairs) // 2
    fleets = [
        FleetProc.start(env, f"{label}-fleet-a", port, pairs[:half], heartbeat=heartbeat),
        FleetProc.start(env, f"{label}-fleet-b", port, pairs[half:], heartbeat=heartbeat),
    ]
    if pinned:
        cpus = sorted(os.sched_getaffinity(0))
        pin(pid, {cpus[-1]})
        for fleet in fleets:
            pin(fleet.proc.popen.pid, set(cpus[:-1]))
    steps: list[dict[str, Any]] = []
    try:
        want = 0
        while want < target:
            want = min(target, want + STEP)
            already = steps[-1]["open"] if steps else 0
            t = time.monotonic()
            cpu0 = cpu_s(pid)
            answers = [
                f.connect(want // 2 if i == 0 else want - want // 2) for i, f in enumerate(fleets)
            ]
            took = time.monotonic() - t
            used = cpu_s(pid) - cpu0
            opened = sum(a[0] for a in answers)
            failed = sum(a[1] for a in answers)
            # Hold them for two heartbeat periods: every open socket must get its pongs.
            before = sum(f.stats()["pongs"] for f in fleets)
            try:
                wait_for(
                    lambda b=before, o=opened: sum(f.stats()["pongs"] for f in fleets) - b >= o,
                    timeout=4 * heartbeat + 60,
                    what="a pong on every socket",
                )
                kept_up = True
            except TimeoutError:
                kept_up = False  # the process no longer answers every heartbeat in time
            stats = [f.stats() for f in fleets]
            held = sum(s["open"] for s in stats)
            rss = rss_kib(pid)
            new = max(opened - already, 1)
            step = {
                "open_before": already,
                "wanted": want,
                "open": held,
                "failed_to_connect": failed,
                "dropped": sum(s["closed"] for s in stats),
                "connect_seconds": round(took, 1),
                "connects_per_s": round((opened - already) / took, 1),
                "daphne_cpu_s": round(used, 2),
                "daphne_cpu_share": round(used / took, 2),
                "cpu_ms_per_connect": round(1000 * used / new, 2),
                "rss_kib": rss,
                "kib_per_connection": round((rss - baseline) / max(held, 1), 1),
                "heartbeats_answered_in_time": kept_up,
            }
            steps.append(step)
            print(
                f"  {label}: {already:5d} → {held:5d} open ({failed} failed, "
                f"{step['dropped']} dropped), {step['connects_per_s']} connects/s, daphne CPU "
                f"{step['cpu_ms_per_connect']} ms/connect ({100 * step['daphne_cpu_share']:.0f}% "
                f"of a core), RSS {rss / 1024:.0f} MiB",
                flush=True,
            )
            if not proc.alive() or failed > STEP // 10 or not kept_up:
                break
    finally:
        for f in fleets:
            f.quit()
        proc.stop()
    return steps


def run(
    env: BenchEnv,
    *,
    target: int,
    floor: bool = True,
    heartbeat: float | None = None,
    pinned: bool = False,
) -> dict[str, Any]:
    heartbeat = heartbeat or app_heartbeat_s()
    if pinned and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("--pin needs at least two CPUs")
    city = build_city(target)
    pairs = [(u, city.unit_tokens[u]) for u in city.unit_ids]
    result: dict[str, Any] = {
        "benchmark": "connections",
        "machine": machine(),
        "setup": {
            "heartbeat_s": heartbeat,
            "pinned": "daphne alone on the last CPU, the clients on the others" if pinned else "",
            "target": target,
            "client_processes": 2,
            "handshakes_in_flight_per_client": 100,
            "hello": "last_seq 0 (the units have no notices yet: nothing to catch up)",
        },
        "steps": [],
        "floor_steps": [],
    }
    try:
        proc, port = env.start_daphne("daphne-conn")
        result["baseline_rss_kib"] = rss_kib(proc.popen.pid)
        result["steps"] = measure(env, proc, port, pairs, target, "consumers", heartbeat, pinned)
        # The figures: the handshake rate with 1,000 and with 5,000 sockets already open.
        result["connects_per_s_with_open"] = at = {
            s["open_before"]: s["connects_per_s"]
            for s in result["steps"]
            if s["open_before"] in (1000, 5000)
        }
        print(f"  handshakes/s with N already open: {at} (target: 500 with 5,000)", flush=True)
        if floor:
            floor_proc, floor_port = start_floor(env, "daphne-floor")
            result["floor_steps"] = measure(
                env, floor_proc, floor_port, pairs, target, "floor", heartbeat, pinned
            )
    finally:
        result["max_held"] = max((s["open"] for s in result["steps"]), default=0)
        write_result("connections", result)
    return result
