"""Historical import of incidents from CSV (``python manage.py import_incidents FILE.csv``).

Columns (header row required, names case-insensitive, any order; README "Historical import"):

==================  ========  =================================================================
column              required  value
==================  ========  =================================================================
number              yes       the incident number (≤ 20 characters); rows whose number exists
                              are skipped and counted, so re-importing a file is harmless
received_at         yes       ISO 8601 date-time; with an offset (``+08:00``, ``Z``) or naive =
                              Asia/Shanghai; ``2026-03-02 10:05:00`` and ``2026-03-02T10:05``
category            yes       a code (criminal, public_order, dispute, assistance, other) or its
                              Chinese name: 刑事, 治安, 纠纷/糾紛, 救助, 其它/其他
lat, lon            yes       WGS-84 degrees; grid cell and (when blank) station come from them
address             no        ≤ 200 characters
dispatched_at, acknowledged_at, arrived_at, closed_at
                    no        as received_at; each, when present, not before the previous one
outcome             yes       resolved_on_scene | transferred | cancelled
station             no        station code or name; blank = the station whose jurisdiction
                              contains the location
unit                no        unit call sign; a 110 platform's export has none: blank = unit
                              unknown (the per-unit figures show it as "no unit recorded")
==================  ========  =================================================================

The file is streamed (csv reader) and written in batches (bulk_create of BATCH_SIZE rows, each
batch its own transaction); grid cells, stations and units are looked up in Python in an index
loaded once, so there is no query per row and memory does not grow with the file. A rejected row
is reported as (line, column, reason) and nothing of it is written; the other rows go on.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from apps.common.geo import polygon_contains
from apps.common.imports import ImportFileError, Reject
from apps.incidents.models import (
    AssignmentRole,
    AssignmentStatus,
    Category,
    Incident,
    IncidentAssignment,
    IncidentStatus,
)
from apps.units.models import GridCell, Station, Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH_SIZE = 1000
# The first this many rejected rows are kept in the report (all are passed to on_reject).
REPORT_MAX_REJECTS = 200

REQUIRED_COLUMNS = ("number", "received_at", "category", "lat", "lon", "outcome")
OPTIONAL_COLUMNS = (
    "address",
    "dispatched_at",
    "acknowledged_at",
    "arrived_at",
    "closed_at",
    "station",
    "unit",
)
TIME_COLUMNS = ("received_at", "dispatched_at", "acknowledged_at", "arrived_at", "closed_at")

CATEGORY_NAMES: dict[str, str] = {
    **{c.value: c.value for c in Category},
    "刑事": Category.CRIMINAL,
    "治安": Category.PUBLIC_ORDER,
    "纠纷": Category.DISPUTE,
    "糾紛": Category.DISPUTE,
    "救助": Category.ASSISTANCE,
    "其它": Category.OTHER,
    "其他": Category.OTHER,
}

OUTCOMES: dict[str, str] = {
    "resolved_on_scene": IncidentStatus.RESOLVED_ON_SCENE,
    "transferred": IncidentStatus.TRANSFER_RECEIVED,
    "cancelled": IncidentStatus.CANCELLED,
}


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    skipped_existing: int = 0
    rejected_rows: int = 0
    rejects: list[Reject] = field(default_factory=list)
    # Asia/Shanghai dates of the imported incidents (for the statistics rollup).
    days: set[date] = field(default_factory=set)
    # Stopped on request (Ctrl-C) at a batch boundary: the batches before are written.
    stopped: bool = False


class SpatialIndex:
    """Grid cells and stations in memory; point lookups without queries.

    Cells go into square buckets of the largest cell's size, so a point is checked against the
    few cells of its bucket; stations (a few dozen) are checked by bounding box, then polygon.
    """

    def __init__(self, cells: Iterable[GridCell], stations: Iterable[Station]) -> None:
        self.cells = list(cells)
        self.stations = list(stations)
        sizes = [max(c.max_lat - c.min_lat, c.max_lon - c.min_lon) for c in self.cells]
        self.step = max(sizes, default=0.01) or 0.01
        self.buckets: dict[tuple[int, int], list[GridCell]] = {}
        for cell in self.cells:
            for i in range(self._i(cell.min_lat), self._i(cell.max_lat) + 1):
                for j in range(self._i(cell.min_lon), self._i(cell.max_lon) + 1):
                    self.buckets.setdefault((i, j), []).append(cell)

    @classmethod
    def load(cls) -> SpatialIndex:
        return cls(GridCell.objects.all(), Station.objects.all())

    def _i(self, degrees: float) -> int:
        return math.floor(degrees / self.step)

    def cell_at(self, lat: float, lon: float) -> GridCell | None:
        for cell in self.buckets.get((self._i(lat), self._i(lon)), ()):
            if cell.min_lat <= lat < cell.max_lat and cell.min_lon <= lon < cell.max_lon:
                return cell
        # On a cell's north or east edge (the half-open test above excludes it).
        for cell in self.buckets.get((self._i(lat), self._i(lon)), ()):
            if cell.bbox.contains(lat, lon):
                return cell
        return None

    def station_at(self, lat: float, lon: float) -> Station | None:
        for station in self.stations:
            if station.bbox.contains(lat, lon) and polygon_contains(station.jurisdiction, lat, lon):
                return station
        return None


def parse_time(value: str) -> datetime:
    """ISO 8601; naive = Asia/Shanghai. Raises ValueError."""
    text = value.strip().replace("/", "-")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment


class _Lookups:
    def __init__(self) -> None:
        self.space = SpatialIndex.load()
        self.stations: dict[str, Station] = {}
        for station in self.space.stations:
            self.stations[station.code] = station
            self.stations[station.name] = station
        self.units = {u.callsign: u for u in Unit.objects.all()}


def _row_to_incident(
    row: dict[str, str], look: _Lookups
) -> tuple[Incident | None, list[tuple[str, str]]]:
    """An unsaved Incident, or the (column, reason) errors of the row."""
    errors: list[tuple[str, str]] = []

    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    number = get("number")
    if not number:
        errors.append(("number", _("This field is required.")))
    elif len(number) > 20:
        errors.append(("number", _("At most 20 characters.")))

    category = CATEGORY_NAMES.get(get("category"))
    if category is None:
        errors.append(("category", _("Unknown category: %(value)s") % {"value": get("category")}))

    coords: dict[str, float] = {}
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        try:
            value = float(get(name))
        except ValueError:
            errors.append((name, _("Not a number: %(value)s") % {"value": get(name)}))
            continue
        if not math.isfinite(value) or abs(value) > limit:
            errors.append((name, _("Out of range: %(value)s") % {"value": get(name)}))
        else:
            coords[name] = value

    times: dict[str, datetime | None] = {}
    for name in TIME_COLUMNS:
        text = get(name)
        if not text:
            if name == "received_at":
                errors.append((name, _("This field is required.")))
            times[name] = None
            continue
        try:
            times[name] = parse_time(text)
        except ValueError:
            errors.append((name, _("Not a date-time: %(value)s") % {"value": text}))
            times[name] = None
    previous: tuple[str, datetime] | None = None
    for name in TIME_COLUMNS:
        moment = times[name]
        if moment is None:
            continue
        if previous is not None and moment < previous[1]:
            errors.append((name, _("Earlier than %(other)s.") % {"other": previous[0]}))
        previous = (name, moment)
    for later, earlier in (("acknowledged_at", "dispatched_at"), ("arrived_at", "dispatched_at")):
        if get(later) and not get(earlier):
            errors.append((earlier, _("Required when %(other)s is given.") % {"other": later}))

    status = OUTCOMES.get(get("outcome"))
    if status is None:
        errors.append(
            (
                "outcome",
                _("Unknown outcome: %(value)s (resolved_on_scene, transferred or cancelled)")
                % {"value": get("outcome")},
            )
        )

    unit = None
    if get("unit"):
        unit = look.units.get(get("unit"))
        if unit is None:
            errors.append(("unit", _("Unknown unit: %(value)s") % {"value": get("unit")}))

    station = None
    if get("station"):
        station = look.stations.get(get("station"))
        if station is None:
            errors.append(("station", _("Unknown station: %(value)s") % {"value": get("station")}))

    address = get("address")
    if len(address) > 200:
        errors.append(("address", _("At most 200 characters.")))

    if errors:
        return None, errors
    assert category is not None and status is not None
    lat, lon = coords["lat"], coords["lon"]
    cell = look.space.cell_at(lat, lon)
    if station is None:
        station = look.space.station_at(lat, lon)
    received = times["received_at"]
    assert received is not None
    closed = times["closed_at"]
    transferred = status == IncidentStatus.TRANSFER_RECEIVED
    incident = Incident(
        number=number,
        category=category,
        priority=2,
        status=status,
        address=address,
        lat=lat,
        lon=lon,
        grid_cell=cell,
        station=station,
        unit=unit,
        received_at=received,
        dispatched_at=times["dispatched_at"],
        acknowledged_at=times["acknowledged_at"],
        arrived_at=times["arrived_at"],
        closed_at=closed,
        transfer_station=station if transferred else None,
        handed_over_at=closed if transferred else None,
        transfer_received_at=closed if transferred else None,
        imported=True,
    )
    return incident, []


def _primary_of(incident: Incident) -> IncidentAssignment:
    """The imported incident's unit as its primary assignment, ended when the incident closed
    (every imported incident is closed)."""
    ended = incident.closed_at or incident.arrived_at or incident.received_at
    assert incident.unit_id is not None
    return IncidentAssignment(
        incident=incident,
        unit_id=incident.unit_id,
        role=AssignmentRole.PRIMARY,
        status=AssignmentStatus.CLEARED,
        dispatched_at=incident.dispatched_at or incident.received_at,
        acknowledged_at=incident.acknowledged_at,
        arrived_at=incident.arrived_at,
        cleared_at=ended,
        clear_reason=str(incident.status),
    )


def _batches(
    rows: Iterator[tuple[int, dict[str, str]]], size: int
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    batch: list[tuple[int, dict[str, str]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_incidents(
    stream: TextIO,
    *,
    batch_size: int = BATCH_SIZE,
    on_reject: Callable[[Reject], None] | None = None,
    on_batch: Callable[[int], bool] | None = None,
) -> ImportReport:
    """Import incidents from a CSV text stream. See the module docstring for the columns.

    Each batch is written in its own transaction (an interrupted import keeps the batches
    already written; running it again skips them by number). After each batch,
    ``on_batch(rows read so far)`` is called; when it returns True the import stops there
    (Ctrl-C), with ``report.stopped`` set.
    """
    reader = csv.DictReader(stream)
    if reader.fieldnames is None:
        raise ImportFileError(_("The file is empty."))
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames]
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise ImportFileError(_("Missing columns: %(columns)s") % {"columns": ", ".join(missing)})
    look = _Lookups()
    report = ImportReport()

    def reject(line: int, column: str, reason: str) -> None:
        item = Reject(line, column, reason)
        if len(report.rejects) < REPORT_MAX_REJECTS:
            report.rejects.append(item)
        if on_reject is not None:
            on_reject(item)

    def numbered() -> Iterator[tuple[int, dict[str, str]]]:
        for row in reader:
            yield reader.line_num, row

    for batch in _batches(numbered(), batch_size):
        candidates: dict[str, Incident] = {}
        for line, row in batch:
            report.rows += 1
            if None in row:  # more fields than the header names
                report.rejected_rows += 1
                reject(line, "", _("More fields than columns in the header."))
                continue
            incident, errors = _row_to_incident(row, look)
            if incident is None:
                report.rejected_rows += 1
                for column, reason in errors:
                    reject(line, column, reason)
                continue
            if incident.number in candidates:
                report.skipped_existing += 1
                continue
            candidates[incident.number] = incident
        if candidates:
            _write_batch(candidates, report, batch_size)
        if on_batch is not None and on_batch(report.rows):
            report.stopped = True
            break
    return report


def _write_batch(candidates: dict[str, Incident], report: ImportReport, batch_size: int) -> None:
    """One batch in one transaction: the rows whose number is not there yet."""
    with transaction.atomic():
        existing = set(
            Incident.objects.filter(number__in=list(candidates)).values_list("number", flat=True)
        )
        new = [inc for number, inc in candidates.items() if number not in existing]
        Incident.objects.bulk_create(new, batch_size=batch_size)
        IncidentAssignment.objects.bulk_create(
            [_primary_of(inc) for inc in new if inc.unit_id is not None],
            batch_size=batch_size,
        )
    report.skipped_existing += len(existing)
    report.imported += len(new)
    for inc in new:
        report.days.add(inc.received_at.astimezone(SHANGHAI).date())


def describe(report: ImportReport) -> dict[str, Any]:
    return {
        "rows": report.rows,
        "imported": report.imported,
        "skipped_existing": report.skipped_existing,
        "rejected_rows": report.rejected_rows,
    }
