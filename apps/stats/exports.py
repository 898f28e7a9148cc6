"""The dashboard's tables, and the exports: those tables and the period's incidents, to .csv
and .xlsx.

A ``Table`` holds raw values (counts, fractions, seconds, hours); the page formats them for
reading and the exports write them as they are, so an export is the table the page shows.
Tables are built from statistics (apps/stats/dashboard.py), which never carry callers' names or
phone numbers, and the incident listing (``selectors.incident_lines``) leaves them and the
address out: nothing personal can reach an export.

A long period's incidents are many (a year: about a million rows), so no export builds its file
in memory: CSV is streamed (StreamingHttpResponse over the rows as the database hands them over,
``.iterator(chunk_size=…)``), and .xlsx, which cannot be streamed, is written in openpyxl's
write-only mode to a temporary file that FileResponse sends.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from apps.incidents.models import Category, IncidentStatus, Origin

from .selectors import (
    INTERVALS,
    SHANGHAI,
    StatsFilter,
    incident_lines,
    incidents_in,
    period_bounds,
)


class Kind(StrEnum):
    TEXT = "text"
    COUNT = "count"
    RATE = "rate"  # a fraction in [0, 1]
    SECONDS = "seconds"
    HOURS = "hours"


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    kind: Kind = Kind.COUNT


Cell = str | int | float | datetime | None


@dataclass
class Table:
    key: str
    title: str | Promise
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)

    def add(self, values: dict[str, Any]) -> None:
        self.rows.append([values.get(c.key) for c in self.columns])

    def display_rows(self) -> list[list[tuple[str, str]]]:
        """(text, kind) per cell, for the page."""
        return [
            [(display(v, c.kind), str(c.kind)) for v, c in zip(row, self.columns, strict=True)]
            for row in self.rows
        ]

    def headers(self) -> list[str]:
        return [str(c.label) for c in self.columns]


def display(value: Cell, kind: Kind) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime | str):
        return str(value)
    if kind == Kind.RATE:
        return f"{float(value) * 100:.1f}%"
    if kind == Kind.SECONDS:
        return f"{float(value):.0f}"
    if kind == Kind.HOURS:
        return f"{float(value):.2f}"
    return str(value)


class _Echo:
    """A file whose ``write`` hands the text back: csv.writer formats, the generator yields."""

    def write(self, text: str) -> str:
        return text


# Rows per piece of a streamed CSV file.
CSV_CHUNK_ROWS = 500


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """A CSV file in pieces of CSV_CHUNK_ROWS rows: UTF-8 with a byte-order mark, so that Excel
    opens the Chinese text correctly."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(headers)).encode("utf-8")
    piece: list[str] = []
    for row in rows:
        piece.append(writer.writerow(["" if v is None else v for v in row]))
        if len(piece) >= CSV_CHUNK_ROWS:
            yield "".join(piece).encode("utf-8")
            piece.clear()
    if piece:
        yield "".join(piece).encode("utf-8")


def csv_response(
    headers: Sequence[str], rows: Iterable[Sequence[Cell]], filename: str
) -> StreamingHttpResponse:
    """The rows streamed as they are produced: a long period never sits in memory as a file."""
    response = StreamingHttpResponse(
        csv_chunks(headers, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A worksheet's last row is 1,048,576: the header and this many rows.
XLSX_MAX_ROWS = 1_048_575


def xlsx_response(
    title: str | Promise, columns: Sequence[Column], rows: Iterable[Sequence[Cell]], filename: str
) -> FileResponse:
    """The rows as a one-sheet workbook. An .xlsx file is a zip archive written at the end, so it
    cannot be streamed as it is made: openpyxl's write-only mode keeps memory flat (rows go to its
    own temporary files), the workbook is written to a temporary file (deleted when the response
    is closed) and FileResponse sends that in blocks. At most XLSX_MAX_ROWS rows (the caller
    checks)."""
    book = Workbook(write_only=True)
    # Sheet titles: at most 31 characters, none of []:*?/\
    sheet = book.create_sheet("".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31])
    for i, column in enumerate(columns, start=1):
        width = max(10, min(40, len(str(column.label)) * 2))
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([str(c.label) for c in columns])
    rate_columns = [c.kind == Kind.RATE for c in columns]
    for row in rows:
        cells: list[Any] = []
        for value, is_rate in zip(row, rate_columns, strict=True):
            if is_rate and value is not None:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "0.00%"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    book.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def table_response(table: Table, fmt: str, filename: str) -> HttpResponseBase:
    """A dashboard table as .csv or .xlsx (its rows are few: one per unit or staging point)."""
    if fmt == "csv":
        return csv_response(table.headers(), table.rows, filename)
    return xlsx_response(table.title, table.columns, table.rows, filename)


# --- The incidents one by one ----------------------------------------------------------------


def incident_columns() -> list[Column]:
    return [
        Column("number", _("Incident number"), Kind.TEXT),
        Column("received_at", _("Received at"), Kind.TEXT),
        Column("category", _("Category"), Kind.TEXT),
        Column("priority", _("Priority")),
        Column("status", _("Status"), Kind.TEXT),
        Column("origin", _("Origin"), Kind.TEXT),
        Column("station", _("Station"), Kind.TEXT),
        Column("staging_point", _("Staging point"), Kind.TEXT),
        Column("unit", _("Unit"), Kind.TEXT),
        Column("arrival_target", _("Arrival target (s)"), Kind.SECONDS),
        Column("intake_to_dispatch", _("Intake to dispatch (s)"), Kind.SECONDS),
        Column("dispatch_to_acknowledge", _("Dispatch to acknowledge (s)"), Kind.SECONDS),
        Column("dispatch_to_arrival", _("Dispatch to arrival (s)"), Kind.SECONDS),
        Column("arrival_to_close", _("Arrival to close (s)"), Kind.SECONDS),
    ]


def incident_cells(lines: Iterable[dict[str, Any]]) -> Iterator[list[Cell]]:
    """Each incident as the cells of incident_columns(): labels in the active language, the
    time received in Asia/Shanghai (a spreadsheet has no time zones)."""
    categories = {code: str(label) for code, label in Category.choices}
    statuses = {code: str(label) for code, label in IncidentStatus.choices}
    origins = {code: str(label) for code, label in Origin.choices}
    targets = (settings.TARGET_ARRIVAL_S, settings.TARGET_ARRIVAL_PRIORITY_ZONE_S)
    for line in lines:
        yield [
            line["number"],
            timezone.localtime(line["received_at"], SHANGHAI).replace(tzinfo=None),
            categories.get(line["category"], line["category"]),
            line["priority"],
            statuses.get(line["status"], line["status"]),
            origins.get(line["origin"], line["origin"]),
            line["station_name"] or "",
            line["staging_point_name"] or "",
            line["unit_callsign"] or "",
            targets[bool(line["short_target"])],
            *(line[name] for name in INTERVALS),
        ]


def incidents_response(
    *, start: date, end: date, filters: StatsFilter, fmt: str, filename: str
) -> HttpResponseBase:
    """The period's incidents (``selectors.incident_lines``) as .csv, streamed, or as .xlsx; a
    period with more incidents than a worksheet holds is refused (400) for .xlsx."""
    columns = incident_columns()
    lines = incident_lines(start=start, end=end, filters=filters)
    if fmt == "csv":
        return csv_response([str(c.label) for c in columns], incident_cells(lines), filename)
    lo, hi = period_bounds(start, end)
    if incidents_in(lo, hi, filters).count() > XLSX_MAX_ROWS:
        message = _(
            "More than %(n)s incidents: too many for one Excel worksheet. Export them as CSV, "
            "or choose a shorter period."
        ) % {"n": f"{XLSX_MAX_ROWS:,}"}
        return JsonResponse({"errors": {"format": [message]}}, status=400)
    return xlsx_response(_("Incidents"), columns, incident_cells(lines), filename)
