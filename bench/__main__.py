"""python -m bench [--only NAME …] [--quick]: run the benchmarks, print and save the figures."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.env import bench_env
from tests.support.procs import raise_nofile

BENCHMARKS = (
    "recommendation",
    "statistics",
    "intake",
    "connections",
    "alert_latency",
    "places",
    "dashboard_sqlite",
    "storm",
    "simulation",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this one")
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--n", type=int, action="append", help="alert latency: unit sockets")
    parser.add_argument("--r", type=float, action="append", help="alert latency: dispatches/s")
    parser.add_argument("--seconds", type=float, help="alert latency: seconds per (N, R) cell")
    parser.add_argument("--connections", type=int, help="connections: how many to try")
    parser.add_argument(
        "--heartbeat", type=float, help="connections: seconds between pings (default: the app's)"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="connections: daphne alone on one CPU, the clients on the others",
    )
    parser.add_argument("--storm", type=int, help="storm: how many sockets reconnect")
    parser.add_argument("--incidents", type=int, help="statistics: how many incidents")
    parser.add_argument("--places", type=int, help="places: how many synthetic places")
    parser.add_argument("--calls", type=int, help="simulation: how many calls")
    parser.add_argument("--db", default="cad_bench", help="the benchmark database (dropped!)")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    nofile = raise_nofile()
    print(f"open-files limit: {nofile}", flush=True)
    started = time.monotonic()
    keep = os.environ.get("BENCH_TMP")  # keep the processes' logs there
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
    with (
        (
            contextlib.nullcontext(keep)
            if keep
            else tempfile.TemporaryDirectory(prefix="cad-bench-")
        ) as tmp,
        bench_env(Path(tmp), db_name=args.db) as env,
    ):
        env.create_database()
        env.setup_django()
        for number, name in enumerate(names, 1):
            # Progress: which benchmark of how many, and the time so far (each one then prints
            # its own figures as it measures them).
            so_far = time.monotonic() - started
            print(f"\n== {name} ({number}/{len(names)}, {so_far:.0f}s so far)", flush=True)
            t = time.monotonic()
            if name == "alert_latency":
                from bench import latency

                latency.run(
                    env,
                    quick=args.quick,
                    ns=args.n or ([100, 1000] if args.quick else [100, 1000, 5000]),
                    rates=args.r or ([1, 10] if args.quick else [1, 10, 50]),
                    seconds=args.seconds or (5 if args.quick else 15),
                )
            elif name == "storm":
                from bench import storm

                storm.run(env, n=args.storm or (1000 if args.quick else 5000), rate=10)
            elif name == "connections":
                from bench import connections

                connections.run(
                    env,
                    target=args.connections or (1000 if args.quick else 6000),
                    heartbeat=args.heartbeat,
                    pinned=args.pin,
                )
            elif name == "intake":
                from bench import intake

                intake.run(env, seconds=5 if args.quick else 20)
            elif name == "recommendation":
                from bench import recommendation

                recommendation.run(sizes=[10, 100, 1000] if args.quick else [10, 100, 1000, 10000])
            elif name == "statistics":
                from bench import statistics

                statistics.run(
                    env,
                    incidents=args.incidents or (50_000 if args.quick else 1_000_000),
                    import_rows=0 if args.quick else 1_000_000,
                )
            elif name == "dashboard_sqlite":
                from bench import dashboard_sqlite

                dashboard_sqlite.run(env)
            elif name == "simulation":
                from bench import simulation

                simulation.run(env, calls=args.calls or (300 if args.quick else 5046))
            elif name == "places":
                from bench import places

                places.run(places=args.places or 100_000, repeats=10 if args.quick else 50)
            print(f"   ({time.monotonic() - t:.0f}s)", flush=True)
        env.stop_all()
    print(f"\nall done in {time.monotonic() - started:.0f}s; results in bench/results/", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
