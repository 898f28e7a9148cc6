"""Intake: incidents created per second through the API (POST /api/incidents/, which answers with
the ranked recommendation), with 1 and 4 concurrent call-takers, against 2 daphne processes."""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.data import CENTER, build_city
from bench.env import BenchEnv, machine, write_result
from bench.fleet import percentiles
from tests.support.api import Api

UNITS = 200


def _drive(apis: list[Api], threads: int, seconds: float) -> dict[str, Any]:
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker(i: int) -> None:
        api = apis[i % len(apis)]
        while time.monotonic() < end:
            start = time.monotonic()
            try:
                body = api.new_incident(CENTER[0], CENTER[1])
                assert body.get("recommendations"), "no recommendation in the answer"
            except Exception as exc:
                with lock:
                    errors.append(str(exc)[:200])
                continue
            with lock:
                times.append(1000 * (time.monotonic() - start))

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=seconds + 120)
    took = time.monotonic() - started
    return {
        "call_takers": threads,
        "seconds": round(took, 1),
        "created": len(times),
        "per_second": round(len(times) / took, 1),
        "request_ms": percentiles(times),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


def run(env: BenchEnv, *, seconds: float) -> dict[str, Any]:
    city = build_city(UNITS, with_crews=False)
    ports = [env.start_daphne(f"daphne-intake-{i}")[1] for i in range(2)]
    apis = [env.api(p, city.dispatcher_token) for p in ports]
    result: dict[str, Any] = {
        "benchmark": "intake",
        "machine": machine(),
        "setup": {"daphne_processes": len(ports), "free_units_ranked": UNITS},
        "runs": [],
    }
    for threads in (1, 4):
        row = _drive(apis, threads, seconds)
        result["runs"].append(row)
        lat = row["request_ms"]
        print(
            f"  {threads} call-taker(s): {row['per_second']} incidents/s "
            f"({row['created']} in {row['seconds']}s), request p50 {lat['p50']} "
            f"p99 {lat['p99']} ms, errors {row['errors']}",
            flush=True,
        )
    for proc in [p for p in env.procs if p.name.startswith("daphne-intake")]:
        proc.stop()
    write_result("intake", result)
    return result
