"""Connections: how many unit websockets (each with a heartbeat ping every 5 s) one daphne process
holds, and its memory per connection (VmRSS before and after)."""

from __future__ import annotations

import time
from typing import Any

from bench.data import build_city
from bench.env import BenchEnv, machine, rss_kib, write_result
from bench.fleet import FleetProc
from tests.support.procs import wait_for

HEARTBEAT_S = 5.0
STEP = 1000


def run(env: BenchEnv, *, target: int) -> dict[str, Any]:
    city = build_city(target)
    proc, port = env.start_daphne("daphne-conn")
    pid = proc.popen.pid
    time.sleep(2)  # let the process settle before the baseline reading (not a wait for a result)
    baseline = rss_kib(pid)
    pairs = [(u, city.unit_tokens[u]) for u in city.unit_ids]
    # Two client processes, so that the clients' own event loop is not the limit.
    half = len(pairs) // 2
    fleets = [
        FleetProc.start(env, "conn-fleet-a", port, pairs[:half], heartbeat=HEARTBEAT_S),
        FleetProc.start(env, "conn-fleet-b", port, pairs[half:], heartbeat=HEARTBEAT_S),
    ]
    steps: list[dict[str, Any]] = []
    result: dict[str, Any] = {
        "benchmark": "connections",
        "machine": machine(),
        "setup": {"heartbeat_s": HEARTBEAT_S, "target": target, "client_processes": 2},
        "baseline_rss_kib": baseline,
        "steps": steps,
    }
    try:
        want = 0
        while want < target:
            want = min(target, want + STEP)
            t = time.monotonic()
            answers = [
                f.connect(want // 2 if i == 0 else want - want // 2) for i, f in enumerate(fleets)
            ]
            opened = sum(a[0] for a in answers)
            failed = sum(a[1] for a in answers)
            took = time.monotonic() - t
            # Hold them for two heartbeat periods: every open socket must get its pongs.
            before = sum(f.stats()["pongs"] for f in fleets)
            try:
                wait_for(
                    lambda b=before, o=opened: sum(f.stats()["pongs"] for f in fleets) - b >= o,
                    timeout=4 * HEARTBEAT_S + 60,
                    what="a pong on every socket",
                )
                kept_up = True
            except TimeoutError:
                kept_up = False  # the process no longer answers every heartbeat in time
            stats = [f.stats() for f in fleets]
            held = sum(s["open"] for s in stats)
            rss = rss_kib(pid)
            step = {
                "wanted": want,
                "open": held,
                "failed_to_connect": failed,
                "dropped": sum(s["closed"] for s in stats),
                "connect_seconds": round(took, 1),
                "connects_per_s": round((opened - (steps[-1]["open"] if steps else 0)) / took, 1),
                "rss_kib": rss,
                "kib_per_connection": round((rss - baseline) / max(held, 1), 1),
                "heartbeats_answered_in_time": kept_up,
            }
            steps.append(step)
            print(
                f"  {held:5d} open ({failed} failed, {step['dropped']} dropped), "
                f"{step['connects_per_s']} connects/s, RSS {rss / 1024:.0f} MiB, "
                f"{step['kib_per_connection']} KiB per connection",
                flush=True,
            )
            if not proc.alive() or failed > STEP // 10 or not kept_up:
                break
    finally:
        for f in fleets:
            f.quit()
        proc.stop()
        result["max_held"] = max((s["open"] for s in steps), default=0)
        write_result("connections", result)
    return result
