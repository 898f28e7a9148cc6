"""Recommendation: time to rank n free units (apps.units.selectors.unit_recommendations),
in-process on PostgreSQL, timeit-style: the median of several repeats."""

from __future__ import annotations

import statistics
import time
import timeit
from typing import Any

from bench.data import CENTER, build_city
from bench.env import machine, write_result


def run(*, sizes: list[int]) -> dict[str, Any]:
    from django.db import connection

    from apps.units.selectors import unit_recommendations

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()

    result: dict[str, Any] = {"benchmark": "recommendation", "machine": machine(), "sizes": []}
    # The floor: one database round trip from this process (the ranking makes one).
    select_one()
    floor = sorted(timeit.repeat(select_one, repeat=15, number=100))
    result["floor_select_1_ms"] = round(statistics.median(floor) * 10, 3)
    print(f"  floor: SELECT 1 round trip {result['floor_select_1_ms']} ms", flush=True)
    for n in sizes:
        build_city(n, with_crews=False)
        ranked = unit_recommendations(lat=CENTER[0], lon=CENTER[1])  # warm up
        timer = timeit.Timer(lambda: unit_recommendations(lat=CENTER[0], lon=CENTER[1]))
        number = max(1, min(50, int(0.2 / max(timer.timeit(1), 1e-6))))
        runs = timer.repeat(repeat=15, number=number)
        per_call = sorted(1000 * r / number for r in runs)
        row = {
            "units": n,
            "ranked": len(ranked),
            "median_ms": round(statistics.median(per_call), 3),
            "min_ms": round(per_call[0], 3),
            "max_ms": round(per_call[-1], 3),
            "calls_per_repeat": number,
            "repeats": len(runs),
        }
        result["sizes"].append(row)
        print(
            f"  rank {n:6d} units: median {row['median_ms']} ms (min {row['min_ms']}, "
            f"max {row['max_ms']}; {number} calls × {len(runs)})",
            flush=True,
        )
    result["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_result("recommendation", result)
    return result
