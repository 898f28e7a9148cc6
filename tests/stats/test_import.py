"""Historical CSV import: valid, malformed and duplicate rows, idempotence, no query per row."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from apps.common.imports import ImportFileError, Reject
from apps.incidents.models import Incident, IncidentStatus
from apps.stats.dashboard import dashboard
from apps.stats.importer import import_incidents
from apps.stats.models import DailyStats
from apps.stats.selectors import StatsFilter
from tests.support.factories import SH, small_city

pytestmark = pytest.mark.django_db

HEADER = (
    "number,received_at,category,lat,lon,address,dispatched_at,acknowledged_at,arrived_at,"
    "closed_at,outcome,station,unit\n"
)
VALID = [
    # naive = Asia/Shanghai; Chinese category; station from the location (west, cell R0C0)
    "A1,2026-03-02 10:00:00,纠纷,22.765,100.945,珠市街1号,2026-03-02 10:00:30,"
    "2026-03-02 10:01:00,2026-03-02 10:03:00,2026-03-02 10:20:00,resolved_on_scene,,U0",
    # explicit UTC offset; code category; traditional-Chinese spelling elsewhere; east station
    "A2,2026-03-02T02:00:00Z,public_order,22.795,101.015,,2026-03-02T02:01:00Z,,,"
    "2026-03-02T03:00:00Z,transferred,,U3",
    "A3,2026-03-02T11:00+08:00,糾紛,22.785,100.975,,,,,2026-03-02T11:05+08:00,cancelled,,",
    "A4,2026/03/03 09:00,其他,22.785,100.975,,,,,,cancelled,s1,",
]


def csv_text(*rows: str) -> io.StringIO:
    return io.StringIO(HEADER + "".join(r + "\n" for r in rows))


def test_valid_rows_are_imported_with_grid_station_and_times() -> None:
    city = small_city()
    report = import_incidents(csv_text(*VALID))
    assert (report.rows, report.imported, report.skipped_existing, report.rejected_rows) == (
        4, 4, 0, 0,
    )  # fmt: skip
    a1 = Incident.objects.get(number="A1")
    assert a1.category == "dispute" and a1.status == IncidentStatus.RESOLVED_ON_SCENE
    assert a1.received_at == datetime(2026, 3, 2, 10, 0, tzinfo=SH)
    assert a1.grid_cell == city.cells[0] and a1.station == city.stations[0]
    assert a1.unit == city.units[0] and a1.imported is True
    assert a1.address == "珠市街1号"
    a2 = Incident.objects.get(number="A2")
    assert a2.received_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert a2.status == IncidentStatus.TRANSFER_RECEIVED
    assert a2.station == city.stations[1] == a2.transfer_station
    assert a2.grid_cell == city.cells[7]
    assert a2.handed_over_at == a2.closed_at == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert Incident.objects.get(number="A3").category == "dispute"
    a4 = Incident.objects.get(number="A4")
    assert a4.category == "other" and a4.station == city.stations[1]  # named, not located
    assert report.days == {date(2026, 3, 2), date(2026, 3, 3)}


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (",2026-03-02 10:00,刑事,22.78,100.97,,,,,,cancelled,,", "number"),
        ("B1,2026-03-02 10:00,盗窃,22.78,100.97,,,,,,cancelled,,", "category"),
        ("B1,2026-03-02 10:00,刑事,north,100.97,,,,,,cancelled,,", "lat"),
        ("B1,2026-03-02 10:00,刑事,22.78,181,,,,,,cancelled,,", "lon"),
        ("B1,yesterday,刑事,22.78,100.97,,,,,,cancelled,,", "received_at"),
        ("B1,,刑事,22.78,100.97,,,,,,cancelled,,", "received_at"),
        ("B1,2026-03-02 10:00,刑事,22.78,100.97,,2026-03-02 09:59,,,,cancelled,,", "dispatched_at"),
        ("B1,2026-03-02 10:00,刑事,22.78,100.97,,,,2026-03-02 10:05,,cancelled,,", "dispatched_at"),
        ("B1,2026-03-02 10:00,刑事,22.78,100.97,,,,,,solved,,U0", "outcome"),
        ("B1,2026-03-02 10:00,刑事,22.78,100.97,,,,,,resolved_on_scene,,U9", "unit"),
        ("B1,2026-03-02 10:00,刑事,22.78,100.97,,,,,,cancelled,nowhere,", "station"),
        ("B1,2026-03-02 10:00,刑事,22.78,100.97,,,,,,cancelled,,,extra", ""),
    ],
)
def test_a_malformed_row_is_rejected_with_line_column_and_reason(row: str, column: str) -> None:
    small_city()
    seen: list[Reject] = []
    report = import_incidents(csv_text(VALID[0], row, VALID[1]), on_reject=seen.append)
    assert (report.imported, report.rejected_rows) == (2, 1)
    assert seen and all(r.line == 3 for r in seen)
    assert column in {r.column for r in seen}
    assert report.rejects == seen
    assert set(Incident.objects.values_list("number", flat=True)) == {"A1", "A2"}


def test_duplicate_numbers_are_skipped_in_the_file_and_against_the_database() -> None:
    small_city()
    first = import_incidents(csv_text(VALID[0], VALID[1], VALID[0]), batch_size=2)
    assert (first.imported, first.skipped_existing) == (2, 1)
    again = import_incidents(csv_text(*VALID), batch_size=3)
    assert (again.imported, again.skipped_existing, again.rejected_rows) == (2, 2, 0)
    assert Incident.objects.count() == 4


def test_the_number_of_queries_does_not_grow_with_the_rows() -> None:
    small_city()

    def queries(n: int) -> int:
        rows = [
            f"N{n}-{i},2026-03-02 10:{i % 60:02d},救助,22.78,100.97,,,,,,cancelled,,"
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            report = import_incidents(csv_text(*rows))
        assert report.imported == n
        # SQLite splits a bulk INSERT by its limit on parameters: count the other queries.
        return sum(not q["sql"].startswith("INSERT") for q in ctx.captured_queries)

    assert queries(5) == queries(50)


def test_a_110_platform_export_without_units_imports_as_unit_unknown(tmp_path: Path) -> None:
    """The model's own report has no unit column: every row imports, the per-unit figures show
    the calls as "no unit recorded", and a clean file exits 0."""
    city = small_city()
    path = tmp_path / "platform.csv"
    path.write_text(
        "number,received_at,category,lat,lon,dispatched_at,acknowledged_at,arrived_at,"
        "closed_at,outcome\n"
        "P1,2026-03-02 10:00,纠纷,22.78,100.97,2026-03-02 10:00:30,2026-03-02 10:00:50,"
        "2026-03-02 10:04,2026-03-02 10:30,resolved_on_scene\n"
        "P2,2026-03-02 11:00,救助,22.78,100.97,2026-03-02 11:01,,,2026-03-02 11:40,transferred\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_incidents", str(path), stdout=out, stderr=io.StringIO())
    assert "2 rows read: 2 imported" in out.getvalue()
    assert set(Incident.objects.values_list("unit", flat=True)) == {None}
    with translation.override("en"):
        board = dashboard(
            start=date(2026, 3, 2), end=date(2026, 3, 2), filters=StatsFilter(), now=timezone.now()
        )
    table = board.tables["units"]
    keys = [c.key for c in table.columns]
    rows = {row[0]: dict(zip(keys, row, strict=True)) for row in table.rows}
    assert rows["No unit recorded"]["total"] == 2
    assert {u.callsign for u in city.units} <= set(rows)


def test_a_file_without_the_required_columns_is_refused() -> None:
    with pytest.raises(ImportFileError):
        import_incidents(io.StringIO("number,category\nA,刑事\n"))
    with pytest.raises(ImportFileError):
        import_incidents(io.StringIO(""))


def test_the_command_reports_rejects_and_rolls_up_the_days(tmp_path: Path) -> None:
    small_city()
    path = tmp_path / "calls.csv"
    bad = "B1,2026-03-02 10:00,盗窃,22.78,100.97,,,,,,cancelled,,"
    path.write_text("\ufeff" + HEADER + "\n".join([*VALID, bad]) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="1 rows were rejected"):
        # The report is asserted in the source language; a rejected row is a non-zero exit.
        call_command(
            "import_incidents", str(path), "--rejects", str(rejects), stdout=out, stderr=err
        )
    assert "5 rows read: 4 imported, 0 skipped" in out.getvalue()
    assert "line 6, category" in err.getvalue()
    assert rejects.read_text(encoding="utf-8").splitlines()[1].startswith("6,category,")
    assert DailyStats.objects.filter(day=date(2026, 3, 2)).exists()
    with pytest.raises(CommandError):
        call_command("import_incidents", str(tmp_path / "missing.csv"))
