"""The dashboard on the embedded default (SQLite, `make demo`): the model's two months (5,046
calls, tests/support/figures.py) in a fresh SQLite file, then `apps.stats.dashboard.dashboard`
for the 61 days timed in a child process configured like the demo (DEBUG on, no Redis) — once
read from the incidents only (days not rolled up: the embedded demo runs no beat), once with
every day rolled up. Target: under 300 ms."""

from __future__ import annotations

import json
import os
import statistics as st
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from bench.env import BenchEnv, machine, write_result
from tests.support.procs import ROOT

REPEATS = 7


def run(env: BenchEnv) -> dict[str, Any]:
    db = env.tmp / "dashboard.sqlite3"
    db.unlink(missing_ok=True)
    child_env = {k: v for k, v in env.env().items() if k not in ("REDIS_URL", "DB_POOL_MAX_SIZE")}
    child_env.update(
        DJANGO_SETTINGS_MODULE="cad_project.settings.base",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{db}",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bench.dashboard_sqlite"],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    timings = json.loads(proc.stdout.strip().splitlines()[-1])
    result = {"benchmark": "dashboard_sqlite", "machine": machine(), **timings}
    for key in ("raw_ms", "rolled_up_ms"):
        t = result[key]
        print(
            f"  two-month dashboard on SQLite, {key[:-3]}: median {t['median']} ms "
            f"(min {t['min']})",
            flush=True,
        )
    write_result("dashboard_sqlite", result)
    return result


def _time(fn: Any) -> dict[str, float]:
    runs = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        runs.append(1000 * (time.perf_counter() - t))
    return {
        "median": round(st.median(runs), 1),
        "min": round(min(runs), 1),
        "max": round(max(runs), 1),
        "repeats": len(runs),
    }


def child() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from apps.stats.dashboard import dashboard
    from apps.stats.selectors import StatsFilter
    from apps.stats.services import stats_rollup_day
    from tests.support.factories import small_city
    from tests.support.figures import MODEL_END, MODEL_START, build_model_two_months

    call_command("migrate", verbosity=0, interactive=False)
    build_model_two_months(small_city())
    now = timezone.now()

    def board() -> None:
        dashboard(start=MODEL_START, end=MODEL_END, filters=StatsFilter(), now=now)

    board()  # warm: imports, the first queries
    raw = _time(board)
    day = MODEL_START
    while day <= MODEL_END:
        stats_rollup_day(day=day, now=now)
        day += timedelta(days=1)
    board()
    rolled = _time(board)
    print(json.dumps({"calls": 5046, "days": 61, "raw_ms": raw, "rolled_up_ms": rolled}))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cad_project.settings.base")
    child()
