"""The dashboard on the embedded default (SQLite, `make demo`): the model's two months (5,046
calls, tests/support/figures.py) in a fresh SQLite file, then `apps.stats.dashboard.dashboard`
for the 61 days timed in a child process configured like the demo (DEBUG on, no Redis):

- from the incidents only (no day rolled up: the embedded demo rolls up only the last 8 days):
  the first read in the process (cold), then REPEATS repeats;
- with every day rolled up: the first read after the roll-up, then REPEATS repeats;
- the default page (the last 30 days, always read from the incidents), REPEATS repeats.

It also checks that both ways give the same figures (``identical``). Target: under 300 ms."""

from __future__ import annotations

import json
import os
import statistics as st
import subprocess
import sys
import time
from datetime import date, timedelta
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
    for key, label in (
        ("raw_ms", "two months, from the incidents"),
        ("rolled_up_ms", "two months, rolled up"),
        ("last_30_days_ms", "the last 30 days"),
    ):
        t = result[key]
        print(
            f"  dashboard on SQLite, {label}: first read {t['first']} ms, then median "
            f"{t['median']} ms (min {t['min']}, max {t['max']})",
            flush=True,
        )
    print(f"  same figures both ways: {result['identical']}", flush=True)
    write_result("dashboard_sqlite", result)
    return result


def _time(fn: Any) -> dict[str, float]:
    """The first call (cold), then the median, min and max of REPEATS more."""
    t = time.perf_counter()
    fn()
    first = 1000 * (time.perf_counter() - t)
    runs = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        runs.append(1000 * (time.perf_counter() - t))
    return {
        "first": round(first, 1),
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

    from apps.stats.dashboard import Dashboard, dashboard
    from apps.stats.selectors import StatsFilter
    from apps.stats.services import stats_rollup_day
    from tests.support.factories import small_city
    from tests.support.figures import MODEL_END, MODEL_START, build_model_two_months

    call_command("migrate", verbosity=0, interactive=False)
    build_model_two_months(small_city())
    now = timezone.now()

    def board(start: date = MODEL_START) -> Dashboard:
        return dashboard(start=start, end=MODEL_END, filters=StatsFilter(), now=now)

    def figures(data: Dashboard) -> dict[str, Any]:
        summary = {
            k: v
            for k, v in data.summary.to_dict().items()
            if k not in ("aggregated_days", "raw_days")
        }
        tables = {key: t.rows for key, t in data.tables.items()}
        return {"summary": summary, "days": data.days, "hist": data.histograms, "tables": tables}

    raw = _time(board)
    from_incidents = figures(board())
    last_30 = _time(lambda: board(MODEL_END - timedelta(days=29)))
    day = MODEL_START
    while day <= MODEL_END:
        stats_rollup_day(day=day, now=now)
        day += timedelta(days=1)
    rolled = _time(board)
    rolled_up = board()
    assert rolled_up.summary.aggregated_days == 61, rolled_up.summary.aggregated_days
    result = {
        "calls": 5046,
        "days": 61,
        "raw_ms": raw,
        "rolled_up_ms": rolled,
        "last_30_days_ms": last_30,
        "identical": figures(rolled_up) == from_incidents,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cad_project.settings.base")
    child()
