"""The dashboard's tables on a hand-built set of incidents (tests/support/dashboard_day.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.incidents.models import Category
from apps.units.models import Unit
from tests.support.dashboard_day import CATEGORIES, DAY, POINTS, RESPONSE_KEYS, UNITS, build
from tests.support.factories import (
    GridCellFactory,
    StagingPointFactory,
    UnitFactory,
    at,
    incident_row,
)

pytestmark = pytest.mark.django_db

URL = "/command/stats/"


def figures(client: Client, **params: Any) -> dict[str, Any]:
    response = client.get(URL, {"format": "json", "start": DAY, "end": DAY, **params})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def rows_by(table: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    keys = table["keys"]
    return {row[keys.index(key)] or "": dict(zip(keys, row, strict=True)) for row in table["rows"]}


def response_part(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[k] for k in RESPONSE_KEYS)


def test_per_staging_point_figures_match_hand_computed_values(
    commander: Client, frozen: None
) -> None:
    build()
    table = figures(commander)["tables"]["staging_points"]
    got = {code: response_part(row) for code, row in rows_by(table, "code").items()}
    assert got == POINTS


def test_per_unit_figures_match_hand_computed_values(commander: Client, frozen: None) -> None:
    build()
    rows = rows_by(figures(commander)["tables"]["units"], "callsign")
    assert {callsign: response_part(row) for callsign, row in rows.items()} == UNITS
    # No status change recorded: each unit was at post all day (24 h, the period being over).
    assert rows["U3"]["hours_at_post"] == 24.0
    assert rows["U3"]["hours_patrolling"] == 0.0


def test_summary_by_category_matches_hand_computed_values(commander: Client, frozen: None) -> None:
    build()
    body = figures(commander)
    table = body["tables"]["category"]
    assert [tuple(row[1:]) for row in table["rows"]] == CATEGORIES
    assert body["summary"]["total"] == 6
    assert body["summary"]["transfer_share"] == 0.3333


def test_a_unit_filter_narrows_every_table(commander: Client, frozen: None) -> None:
    city = build()
    body = figures(commander, unit=city.units[0].pk)
    units = rows_by(body["tables"]["units"], "callsign")
    assert list(units) == ["U0"]
    assert response_part(units["U0"]) == UNITS["U0"]
    points = rows_by(body["tables"]["staging_points"], "code")
    assert (points["p0"]["total"], points["p1"]["total"], points["p2"]["total"]) == (2, 1, 0)
    assert "" not in points
    assert body["summary"]["total"] == 3


def test_station_and_category_filters(commander: Client, frozen: None) -> None:
    city = build()
    body = figures(commander, station=city.stations[0].pk, category=Category.DISPUTE)
    points = rows_by(body["tables"]["staging_points"], "code")
    # The west station's points only (p0, p1); its disputes are A and B.
    assert list(points) == ["p0", "p1"]
    assert (points["p0"]["total"], points["p1"]["total"]) == (2, 0)
    assert body["summary"]["total"] == 2


def test_shift_filter(commander: Client, frozen: None) -> None:
    build()
    # 10:00 is in shift 1 (08:00–16:00).
    assert figures(commander, shift=1)["summary"]["total"] == 6
    assert figures(commander, shift=2)["summary"]["total"] == 0


def test_daily_volume_histograms_and_heat(commander: Client, frozen: None) -> None:
    build()
    body = figures(commander)
    [day] = body["days"]
    assert day["day"] == DAY
    assert day["by_category"] == {
        "criminal": 1, "public_order": 1, "dispute": 2, "assistance": 1, "other": 1,
    }  # fmt: skip
    # Acknowledged within 60 s: A, C, D, F of 5 due; arrived in time: A, B, D, F of 5.
    assert (day["acknowledge_within_target"], day["acknowledge_due"]) == (4, 5)
    assert (day["arrival_within_target"], day["arrival_due"]) == (4, 5)
    ack = body["histograms"]["dispatch_to_acknowledge"]
    edges = ack["edges_s"]
    # 10 s → [0, 15); 20 → [15, 30); 40 → [30, 45); 60 → [60, 90); 90 → [90, 120).
    assert {edges[i]: n for i, n in enumerate(ack["counts"]) if n} == {
        0: 1, 15: 1, 30: 1, 60: 1, 90: 1,
    }  # fmt: skip
    assert sum(body["histograms"]["dispatch_to_arrival"]["counts"]) == 5


def test_the_page_shows_the_tables_and_the_heat_cells(commander: Client, frozen: None) -> None:
    build()
    response = commander.get(URL, {"start": DAY, "end": DAY, "format": "fragment"})
    assert response.status_code == 200
    map_config = response.context["map"]
    assert sum(n for _lat, _lon, n in map_config["heat"]) == 6
    assert {p["code"] for p in map_config["points"]} == {"p0", "p1", "p2", "p3"}
    html = response.content.decode()
    assert "66.7%" in html  # U0's transfer share
    assert "format=xlsx&amp;table=units" in html


def _grow(extra_units: int, extra_calls: int) -> None:
    for i in range(extra_units):
        point = StagingPointFactory(lat=22.7, lon=100.9)
        cell = GridCellFactory(staging_point=point)
        unit = UnitFactory(staging_point=point)
        for j in range(extra_calls):
            incident_row(
                received_at=at(2, 11, j),
                cell=cell,
                unit=unit,
                dispatch_s=10,
                ack_s=20 + i,
                arrive_s=100 + j,
                close_s=60,
            )


def _queries(client: Client, start: str = DAY) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, {"start": start, "end": DAY, "format": "fragment"})
        assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_units_points_or_calls(
    commander: Client, frozen: None
) -> None:
    build()
    small = _queries(commander)
    _grow(extra_units=6, extra_calls=4)
    assert Unit.objects.count() == 10
    assert _queries(commander) == small
    # On PostgreSQL each percentile query also sets its sort memory (savepoint, SET LOCAL, release);
    # one more counts the units sent as backup.
    assert small <= 31, small


def test_a_long_period_needs_a_bounded_number_of_queries_too(
    commander: Client, frozen: None
) -> None:
    from apps.stats.services import stats_rollup_day

    build()
    stats_rollup_day(day=at(2, 0).date())
    small = _queries(commander, start="2025-12-01")
    _grow(extra_units=5, extra_calls=3)
    stats_rollup_day(day=at(2, 0).date())
    assert _queries(commander, start="2025-12-01") == small
    assert small <= 41, small


@pytest.mark.parametrize(("table", "key"), [("units", "callsign"), ("staging_points", "code")])
def test_a_long_period_reads_the_daily_aggregates_with_the_same_figures(
    commander: Client, frozen: None, table: str, key: str
) -> None:
    from apps.stats.services import stats_rollup_day

    city = build()
    stats_rollup_day(day=at(2, 0).date())
    # A later day not rolled up: read from the incidents.
    incident_row(
        received_at=at(5, 9),
        cell=city.cells[3],
        unit=city.units[3],
        dispatch_s=5,
        ack_s=30,
        arrive_s=100,
        close_s=60,
    )
    short = rows_by(figures(commander, start="2026-03-01", end="2026-03-09")["tables"][table], key)
    long_body = figures(commander, start="2026-01-01", end="2026-03-09")
    assert long_body["summary"]["response"]["exact"] is True
    long = rows_by(long_body["tables"][table], key)
    assert list(long) == list(short)
    # Counts from the aggregates, percentiles exact from the incidents: the same figures.
    for name, row in short.items():
        for column in RESPONSE_KEYS:
            assert long[name][column] == row[column], (name, column)
    # The raw day's call: unit U3 in staging point p3's area.
    assert long[{"units": "U3", "staging_points": "p3"}[table]]["total"] == 1
    days = {d["day"]: sum(d["by_category"].values()) for d in long_body["days"]}
    assert days == {"2026-03-02": 6, "2026-03-05": 1}
    assert sum(long_body["histograms"]["dispatch_to_acknowledge"]["counts"]) == 6
