"""The what-if simulation's speed: calls simulated per second through the real services.

The simulation runs in a private in-memory SQLite copy of the city (apps/planning/sandbox.py)
whatever the live database is; it is measured with the live database on PostgreSQL (the copy is
read from there) and on a fresh SQLite file (the embedded default): the demo city without history,
then ``simulate`` over CALLS calls at the model's density (5,046 calls in 61 days: CALLS / 83
days), timed in a child process; then a tenth of that load (at least 300 calls) under cProfile,
whose top entries (cumulative) say where the time goes. Target: ≥ 85 calls/s, the model's two
months in under 60 s (issue 16).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.env import BenchEnv, machine, write_result
from tests.support.procs import ROOT

MODEL_CALLS_PER_DAY = 5046 / 61

CHILD = r"""
import cProfile, io, json, logging, pstats, sys, time
from datetime import date
import django
django.setup()
from django.core.management import call_command
logging.disable(logging.WARNING)
call_command("migrate", verbosity=0)
call_command("load_demo_city", "--password", "bench", "--no-history", "--quiet",
             stdout=io.StringIO())
from apps.planning.simulation import simulate
calls, days = int(sys.argv[1]), int(sys.argv[2])
t, cpu = time.perf_counter(), time.process_time()
result = simulate(days=days, calls=calls, seed=1, start=date(2030, 1, 1))
took, cpu = time.perf_counter() - t, time.process_time() - cpu
profile = cProfile.Profile()
profile.enable()
simulate(days=max(1, days // 10), calls=max(300, calls // 10), seed=1, start=date(2030, 1, 1))
profile.disable()
out = io.StringIO()
pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(r"apps/", 25)
print(json.dumps({"calls": result.calls, "seconds": round(took, 2),
                  "calls_per_second": round(result.calls / took, 1),
                  "cpu_seconds": round(cpu, 2),
                  "profile": out.getvalue().splitlines()[-30:]}))
"""


def _child(env: BenchEnv, database_url: str, calls: int, days: int) -> dict[str, Any]:
    child_env = {k: v for k, v in env.env().items() if k != "DB_POOL_MAX_SIZE"}
    child_env.update(
        DJANGO_SETTINGS_MODULE="cad_project.settings.base", DEBUG="1", DATABASE_URL=database_url
    )
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(calls), str(days)],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def run(env: BenchEnv, *, calls: int) -> dict[str, Any]:
    days = max(1, round(calls / MODEL_CALLS_PER_DAY))
    sqlite = env.tmp / "simulation.sqlite3"
    sqlite.unlink(missing_ok=True)
    pg = f"{env.pg}/{env.db_name}_simulation"
    import psycopg

    with psycopg.connect(f"{env.pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{env.db_name}_simulation" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{env.db_name}_simulation"')
    result: dict[str, Any] = {"benchmark": "simulation", "machine": machine(), "days": days}
    for label, url in (
        ("postgresql", pg),
        ("sqlite", f"sqlite:///{sqlite}"),
    ):
        figures = _child(env, url, calls, days)
        result[label] = figures
        print(
            f"  simulate on {label}: {figures['calls']} calls over {days} days in "
            f"{figures['seconds']} s = {figures['calls_per_second']} calls/s "
            f"({figures['cpu_seconds']} s of CPU)",
            flush=True,
        )
    write_result("simulation", result)
    return result
