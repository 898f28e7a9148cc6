"""Spreadsheets as HR staff upload them (the personnel and training admin imports)."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(header: list[Any], rows: list[list[Any]], name: str = "import.xlsx") -> SimpleUploadedFile:
    """One sheet: the header row, then the rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return SimpleUploadedFile(name, buf.getvalue(), content_type=XLSX)
