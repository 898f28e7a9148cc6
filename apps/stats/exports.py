"""The dashboard's tables, and their export to .csv and .xlsx.

A ``Table`` holds raw values (counts, fractions, seconds, hours); the page formats them for
reading and the exports write them as they are, so an export is the table the page shows.
Tables are built from statistics (apps/incidents/dashboard_selectors.py), which never carry
callers' names or phone numbers: nothing personal can reach an export.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.utils import get_column_letter


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


Cell = str | int | float | None


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
    if kind == Kind.RATE:
        return f"{float(value) * 100:.1f}%"
    if kind == Kind.SECONDS:
        return f"{float(value):.0f}"
    if kind == Kind.HOURS:
        return f"{float(value):.2f}"
    return str(value)


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers())
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    # Sheet titles: at most 31 characters, none of []:*?/\
    sheet.title = "".join(ch for ch in str(table.title) if ch not in "[]:*?/\\")[:31] or "table"
    sheet.append(table.headers())
    for row in table.rows:
        sheet.append(list(row))
    for i, column in enumerate(table.columns, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(10, min(40, len(str(column.label)) * 2))
        if column.kind == Kind.RATE:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = "0.00%"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
