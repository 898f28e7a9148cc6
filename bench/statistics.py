"""Statistics: a one-year summary over many incidents. The incidents are generated in PostgreSQL
(INSERT … SELECT generate_series), the days rolled up with stats_rollup_day (as the beat task does),
then apps.stats.selectors.summary is timed for the year. Optionally the import of a CSV of as many
rows with `manage.py import_incidents`, with its peak memory."""

from __future__ import annotations

import csv
import statistics as st
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import Any

from bench.data import build_city
from bench.env import BenchEnv, machine, write_result
from tests.support.procs import ROOT

YEAR_START = date(2025, 1, 1)
YEAR_END = date(2025, 12, 31)


def generate(incidents: int, unit_ids: list[int], station_id: int) -> float:
    """Resolved-on-scene and cancelled incidents spread evenly over the year, with realistic
    intervals (seconds) between the timestamps."""
    from django.db import connection

    start = time.monotonic()
    cats = ["criminal", "public_order", "dispute", "assistance", "other"]
    sql = """
        INSERT INTO incidents_incident (
            number, category, priority, status, caller_name, caller_phone, address,
            description, lat, lon, station_id, unit_id, received_at, dispatched_at,
            acknowledged_at, en_route_at, arrived_at, closed_at, summary, transfer_reason,
            cancel_reason{extra_cols}
        )
        SELECT
            'B' || lpad(g::text, 9, '0'),
            (%(cats)s::text[])[1 + g %% 5],
            1 + g %% 3,
            CASE WHEN g %% 20 = 0 THEN 'cancelled' ELSE 'resolved_on_scene' END,
            '', '', '基准路', '', 22.78 + (g %% 100) * 0.001, 100.97 + (g %% 97) * 0.001,
            %(station)s,
            CASE WHEN g %% 20 = 0 THEN NULL
                 ELSE (%(units)s::bigint[])[1 + g %% %(n_units)s] END,
            t,
            t + make_interval(secs => 20 + g %% 60),
            t + make_interval(secs => 40 + g %% 90),
            t + make_interval(secs => 60 + g %% 120),
            t + make_interval(secs => 300 + g %% 900),
            t + make_interval(secs => 1800 + g %% 3600),
            '', '', ''{extra_vals}
        FROM (
            SELECT g, %(t0)s::timestamptz + (g * (365 * 86400.0 / %(n)s)) * interval '1 second' AS t
            FROM generate_series(0, %(n)s - 1) AS g
        ) AS s
    """
    # Any other NOT NULL column (added by later features) gets its model default.
    from apps.incidents.models import Incident

    head = sql.split("SELECT")[0].split("(", 1)[1].split("{")[0]
    named = {c.strip() for c in head.replace("\n", " ").split(",")}
    extra = [
        f
        for f in Incident._meta.concrete_fields
        if not f.null and not f.primary_key and f.column not in named
    ]
    params: dict[str, Any] = {f"x{i}": f.get_default() for i, f in enumerate(extra)}
    sql = sql.format(
        extra_cols="".join(f", {f.column}" for f in extra),
        extra_vals="".join(f", %(x{i})s" for i in range(len(extra))),
    )
    with connection.cursor() as c:
        c.execute(
            sql,
            {
                "cats": cats,
                "station": station_id,
                "units": unit_ids,
                "n_units": len(unit_ids),
                "t0": f"{YEAR_START} 00:00+08",
                "n": incidents,
                **params,
            },
        )
        c.execute("ANALYZE incidents_incident")
    return time.monotonic() - start


def run(env: BenchEnv, *, incidents: int, import_rows: int) -> dict[str, Any]:
    from apps.stats import selectors as stats
    from apps.stats import services as stats_services
    from apps.units.models import Station

    city = build_city(100, with_crews=False)
    station_id = Station.objects.values_list("pk", flat=True).get()
    result: dict[str, Any] = {
        "benchmark": "statistics",
        "machine": machine(),
        "incidents": incidents,
    }
    took = generate(incidents, city.unit_ids, station_id)
    result["generate_seconds"] = round(took, 1)
    print(f"  generated {incidents} incidents in {took:.1f}s", flush=True)
    start = time.monotonic()
    day = YEAR_START
    while day <= YEAR_END:
        stats_services.stats_rollup_day(day=day)
        day += timedelta(days=1)
    result["rollup_365_days_seconds"] = round(time.monotonic() - start, 1)
    print(f"  rolled up 365 days in {result['rollup_365_days_seconds']}s", flush=True)
    runs = []
    summary = None
    for _ in range(7):
        t = time.perf_counter()
        summary = stats.summary(start=YEAR_START, end=YEAR_END)
        runs.append(1000 * (time.perf_counter() - t))
    total = summary.total if summary else 0
    result["summary_one_year_ms"] = {
        "median": round(st.median(runs), 1),
        "min": round(min(runs), 1),
        "max": round(max(runs), 1),
        "repeats": len(runs),
    }
    result["summary_total_incidents"] = total
    timing = result["summary_one_year_ms"]
    print(
        f"  one-year summary over {total} incidents: median {timing['median']} ms "
        f"(min {timing['min']})",
        flush=True,
    )
    if import_rows:
        result["import"] = time_import(env, import_rows)
    write_result("statistics", result)
    return result


def time_import(env: BenchEnv, rows: int) -> dict[str, Any]:
    path = env.tmp / "import.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["number", "received_at", "category", "lat", "lon", "address", "outcome"])
        for i in range(rows):
            day = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00+08:00"
            w.writerow([f"H{i:09d}", day, "dispute", 22.78, 100.97, "导入路", "cancelled"])
    start = time.monotonic()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "manage.py", "import_incidents", str(path)],
        cwd=ROOT,
        env=env.env(),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    took = time.monotonic() - start
    peak = next(
        (int(line.split()[-1]) for line in proc.stderr.splitlines() if "Maximum resident" in line),
        None,
    )
    out = {
        "rows": rows,
        "seconds": round(took, 1),
        "rows_per_second": round(rows / took, 1),
        "peak_rss_kib": peak,
        "exit_code": proc.returncode,
        "output_tail": (proc.stdout + proc.stderr).strip().splitlines()[-3:],
    }
    print(f"  import of {rows} CSV rows: {took:.0f}s, peak RSS {peak} KiB, exit {proc.returncode}")
    return out
